"""``--format text`` (the default): a compliance scanner's result, for people.

Layout: the control header (what is checked and why, the way a scanner shows
an audit item), then one block per account (verdict line, counts, and the
evidence for each FAIL, WARNING and ERROR finding), then the totals and the
overall result. PASS and NOT_APPLICABLE findings are counted but not listed;
JSON and CSV list them. A run that did not see everything (an account not
audited, an ERROR finding) says so on its own line at the top and at the
bottom, also with ``--allow-errors``, and an account whose only findings are
ERROR is never summed up as "No setup keys found."

All text goes through :class:`rich.text.Text`, never console markup: user
names, file names and error sentences are data, and must not be read as
``[style]`` tags. For the same reason their control characters (ESC would let
a crafted report drive the reader's terminal) and bidi overrides are shown as
escapes, see :func:`~initkeys.formats.visible`.

The evidence table is laid out here with fixed column widths rather than with
:class:`rich.table.Table`: an offline run may list hundreds of thousands of
findings, a rich Table costs about 1.5 ms a row and holds every row until it
is printed, while fixed-width rows are printed in batches as they are made.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TextIO

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from initkeys.control import CONTROL
from initkeys.formats import (
    CREATOR_COLUMN,
    EVIDENCE_COLUMNS,
    LISTED,
    Formatter,
    finding_views,
    incomplete_note,
    key_label,
    looked_up,
    status_label,
    visible,
)
from initkeys.humanize import describe_gap, describe_window
from initkeys.model import STATUS_ORDER, AccountAudit, AuditRun, FindingView, Mode, Status
from initkeys.timeutil import format_utc

# Width when ``out`` is not a terminal (a file, a pipe, a CI log).
DEFAULT_WIDTH = 180  # files and pipes do not wrap; fits one-line timestamps

_STYLE = {
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.WARNING: "yellow",
    Status.PASS: "green",
    Status.NOT_APPLICABLE: "dim",
}

_MODE_TEXT = {
    Mode.SETUP: "setup (the control's intent: keys created with the user fail)",
    Mode.CIS: "cis (the benchmark's literal audit: any active, never-used key fails)",
}

_INDENT = "  "
_GUTTER = "  "
_BATCH = 500  # evidence rows per print: bounded memory, few calls into rich


class TextFormatter(Formatter):
    name = "text"

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        printer = _Printer(out, self.color)
        _header(printer, run, tool_version)
        if len(run.accounts) > 1:
            printer.print()
            _account_table(printer, run)
        for account in run.accounts:
            printer.print()
            _account(printer, account, run.settings.mode)
        printer.print()
        _totals(printer, run)


class _Printer:
    """A rich Console that writes to ``out`` without trailing blanks on lines."""

    def __init__(self, out: TextIO, color: bool) -> None:
        self.out = out
        self.color = color
        # A stream that cannot encode them (a Windows code page, LANG=C) gets
        # ASCII stand-ins rather than a UnicodeEncodeError halfway through.
        fancy = _can_encode(out, "·─")
        self.dot = " · " if fancy else " | "
        self.rule = "─" if fancy else "-"
        # Every setting is explicit so that the environment (FORCE_COLOR,
        # NO_COLOR, COLUMNS) cannot put escape codes into output the caller
        # asked to be plain, or change its width.
        self.console = Console(
            file=out,
            force_terminal=color,
            color_system="auto" if color else None,
            no_color=not color,
            width=None if _is_terminal(out) else DEFAULT_WIDTH,
            markup=False,
            emoji=False,
            highlight=False,
            soft_wrap=False,
        )

    def print(self, renderable: RenderableType = "") -> None:
        # Capture, then strip: rich pads table cells to the full width.
        with self.console.capture() as capture:
            self.console.print(renderable)
        self.out.write("\n".join(line.rstrip(" ") for line in capture.get().split("\n")))

    def print_lines(self, lines: Text) -> None:
        """Lines already laid out to fit: no wrapping, no cropping."""
        if not self.color:
            self.out.write(lines.plain)  # the fast path for large plain reports
            return
        self.console.print(lines, no_wrap=True, overflow="ignore", crop=False, end="")


def _can_encode(out: TextIO, text: str) -> bool:
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


# --------------------------------------------------------------------------- header


def _header(printer: _Printer, run: AuditRun, tool_version: str) -> None:
    printer.print(
        Text.assemble((f"CIS AWS Foundations {CONTROL.id}", "bold"), "  ", (CONTROL.title, "bold"))
    )
    printer.print(
        Text(
            f"initkeys {tool_version}{printer.dot}generated {_when(run.generated_at)}", style="dim"
        )
    )
    _incomplete(printer, run)
    printer.print()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    window = run.settings.setup_window
    rows = (
        ("Information", CONTROL.information),
        ("Rationale", CONTROL.rationale),
        ("Solution", CONTROL.solution),
        ("References", ", ".join(CONTROL.references)),
        ("Category", CONTROL.category),
        ("Control ID", CONTROL.control_id),
        ("Numbering", CONTROL.numbering),
        ("See also", CONTROL.see_also),
        ("Mode", _MODE_TEXT.get(run.settings.mode, run.settings.mode.value)),
        ("Setup window", describe_window(window)),
    )
    for label, value in rows:
        grid.add_row(Text(label), Text(value))
    printer.print(grid)


# --------------------------------------------------------------------------- accounts


def _account_table(printer: _Printer, run: AuditRun) -> None:
    """One line per account, before the details: the organization at a glance."""
    names = [visible(a.account_name or "") for a in run.accounts]
    name_width = max([len("Name"), *(len(n) for n in names)])
    printer.print(Text(f"Accounts ({len(run.accounts)})", style="bold"))
    heading = (
        f"{'Account':<12}  {'Name':<{name_width}}  {'Status':<14}  {'FAIL':>5}  {'WARNING':>7}"
    )
    printer.print(Text(_INDENT + heading, style="bold"))
    for account, name in zip(run.accounts, names, strict=True):
        counts = account.counts()
        status = account.status
        printer.print(
            Text.assemble(
                _INDENT,
                f"{visible(account.account_id):<12}  {name:<{name_width}}  ",
                _status_text(status),
                " " * (14 - len(status.value)),
                f"  {counts[Status.FAIL]:>5}  {counts[Status.WARNING]:>7}",
                f"  {visible(account.error)}" if account.error else "",
            )
        )


def _account(printer: _Printer, account: AccountAudit, mode: Mode) -> None:
    label = f"Account {visible(account.account_id)}"
    if account.account_name:
        label += f" ({visible(account.account_name)})"
    printer.print(
        Text.assemble(
            _status_text(account.status),
            "  ",
            (label, "bold"),
            f"{printer.dot}partition {visible(account.partition)}",
            f"{printer.dot}source {visible(account.source)}",
            f"{printer.dot}report generated {_when(account.report_generated_at)}",
        )
    )
    if account.error is not None:
        printer.print(
            Text.assemble(_INDENT, ("could not be audited: ", "bold"), visible(account.error))
        )
        return
    printer.print(Text.assemble(_INDENT, _counts_text(account.counts(), printer.dot)))
    _input_notes(printer, account)

    listed = [f for f in finding_views(account) if f.status in LISTED]
    errors = sum(1 for f in listed if f.status is Status.ERROR)
    if errors and len(listed) == errors:
        # Users that could not be read were not judged: "nothing found" would be a pass.
        printer.print(
            Text(
                f"{_INDENT}{errors} finding{'' if errors == 1 else 's'} could not be judged "
                "(ERROR, below): no verdict on those users.",
                style=_STYLE[Status.ERROR],
            )
        )
    elif not listed:
        printer.print(Text(_INDENT + _NOTHING_FOUND[mode], style="green"))
    if listed:
        _evidence(printer, listed)
        # An ERROR finding's evidence columns are empty; its message says what went wrong.
        for f in listed:
            if f.status is Status.ERROR:
                printer.print(
                    Text.assemble(_INDENT, _status_text(f.status), " ", visible(f.message))
                )
        _exemption_notes(printer, listed)


def _input_notes(printer: _Printer, account: AccountAudit) -> None:
    """How a report file's lines were accounted for, and what to know about its input."""
    lines = account.report_lines
    if lines is not None:
        dot = printer.dot
        counted = f"report lines: {lines.read:,} read{dot}{lines.judged:,} judged"
        printer.print(
            Text.assemble(
                _INDENT,
                counted,
                dot,
                (f"{lines.unreadable:,} unreadable", "bold magenta" if lines.unreadable else ""),
            )
        )
    for note in account.notes:
        printer.print(Text.assemble(_INDENT, ("note: ", "bold"), visible(note)))


def _exemption_notes(printer: _Printer, listed: list[FindingView]) -> None:
    """Why each exempt user's keys are kept, and which exemptions have expired."""
    seen: set[str] = set()
    for f in listed:
        if f.user in seen or (f.exemption is None and f.expired_exemption is None):
            continue
        seen.add(f.user)
        if f.exemption is not None:
            described = f.exemption.describe("not counted, never remediated")
            printer.print(
                Text.assemble(
                    _INDENT, ("exempt ", "bold"), visible(f.user), ": ", visible(described)
                )
            )
        elif f.expired_exemption is not None:
            e = f.expired_exemption
            ended = e.expires.isoformat() if e.expires else "unknown"
            printer.print(
                Text.assemble(
                    _INDENT,
                    ("exemption expired ", "bold yellow"),
                    visible(f.user),
                    ": ",
                    visible(e.reason),
                    f" ({visible(e.source)}, ended {ended}; no longer applies)",
                )
            )


_NOTHING_FOUND = {
    Mode.SETUP: "No setup keys found.",
    Mode.CIS: "No unused access keys of console users found.",
}


# --------------------------------------------------------------------------- evidence

_HEADINGS = ("Status", "User", "Key", *EVIDENCE_COLUMNS)
_TIME_COLUMNS = frozenset({4, 5, 7, 8})
_USER = 1


def _evidence(printer: _Printer, findings: Sequence[FindingView]) -> None:
    """The evidence table: fixed-width columns sized from the data, printed in batches."""
    # The creator column only when CloudTrail was read (--cloudtrail).
    trail = any(looked_up(f) for f in findings)
    headings = (*_HEADINGS, CREATOR_COLUMN) if trail else _HEADINGS
    wide, widths = _layout(printer.console.width, findings, headings)
    header = [_wrap(h, w) for h, w in zip(headings, widths, strict=True)]
    batch = Text()
    for line in _lines(header, widths):
        batch.append(line + "\n", style="bold")
    batch.append(
        _INDENT + printer.rule * (sum(widths) + len(_GUTTER) * (len(widths) - 1)) + "\n", "dim"
    )
    if not printer.color:
        # Plain output is the lines' text alone (print_lines writes ``plain``): no
        # rich Text and no spans, one join per batch.
        printer.print_lines(batch)
        out = printer.out
        parts: list[str] = []
        for index, finding in enumerate(findings, start=1):
            if wide:  # one line a row: the user cell is as wide as the widest name
                row = zip(_one_line_cells(finding, trail), widths, strict=True)
                line = _INDENT + _GUTTER.join([cell.ljust(width) for cell, width in row])
                parts.append(line.rstrip(" ") + "\n")
            else:
                cells = _cells(finding, wide, trail)
                cells[_USER] = _wrap(cells[_USER][0], widths[_USER])
                parts.extend([line + "\n" for line in _lines(cells, widths)])
            if index % _BATCH == 0:
                out.write("".join(parts))
                parts = []
        out.write("".join(parts))
        return
    for index, finding in enumerate(findings, start=1):
        cells = _cells(finding, wide, trail)
        cells[_USER] = _wrap(cells[_USER][0], widths[_USER])
        style = _STYLE[finding.status]
        for number, line in enumerate(_lines(cells, widths)):
            if number == 0:
                # Colour the status word only; the rest of the row is evidence.
                status_end = len(_INDENT) + widths[0]
                batch.append(line[: len(_INDENT)])
                batch.append(line[len(_INDENT) : status_end], style)
                batch.append(line[status_end:] + "\n")
            else:
                batch.append(line + "\n")
        if index % _BATCH == 0:
            printer.print_lines(batch)
            batch = Text()
    printer.print_lines(batch)


def _layout(
    width: int, findings: Sequence[FindingView], headings: tuple[str, ...] = _HEADINGS
) -> tuple[bool, list[int]]:
    """(one-line timestamps?, column widths) for ``findings`` on a console ``width`` wide."""
    longest = [0] * len(headings)  # the longest one-line value of each column
    trail = CREATOR_COLUMN in headings
    for f in findings:
        for column, length in enumerate(_one_line_lengths(f, trail)):
            if length > longest[column]:
                longest[column] = length
    gutters = len(_INDENT) + len(_GUTTER) * (len(headings) - 1)
    widths = [max(n, len(h)) for n, h in zip(longest, headings, strict=True)]
    if sum(widths) + gutters <= width:
        return True, widths
    # Too wide: timestamps split into date and time lines, headings wrap at
    # spaces, and the user column takes what is left (names fold).
    for column, heading in enumerate(headings):
        words = max(len(word) for word in heading.split())
        value = len("2022-01-01") if column in _TIME_COLUMNS else longest[column]
        widths[column] = max(words, value)
    others = sum(w for column, w in enumerate(widths) if column != _USER)
    widths[_USER] = max(8, min(widths[_USER], width - gutters - others))
    return False, widths


def _cells(f: FindingView, wide: bool, trail: bool = False) -> list[list[str]]:
    """A finding's cells, each a list of lines; ``trail`` adds who created the key."""
    cells = _one_line_cells(f, trail)
    if wide:
        return [[cell] for cell in cells]
    # Narrow: a time splits into its date and its time of day.
    return [
        cell.split("T", 1) if column in _TIME_COLUMNS and "T" in cell else [cell]
        for column, cell in enumerate(cells)
    ]


def _one_line_cells(f: FindingView, trail: bool) -> list[str]:
    """The cells of a wide table's row, one line each (times whole: 2022-01-01T10:30:00Z)."""
    cells = [
        f.status.value,
        visible(f.user),
        visible(key_label(f)),
        f.reason.value + (" (exempt)" if f.exemption is not None else ""),
        f.user_created_utc or "-",
        f.key_created_utc or "-",
        "-" if f.setup_gap is None else describe_gap(f.setup_gap),
        "never" if f.last_used_utc is None and f.key_slot is not None else (f.last_used_utc or "-"),
        f.password_created_utc or "-",
    ]
    if trail:
        cells.append(visible(_creator(f)))
    return cells


def _one_line_lengths(f: FindingView, trail: bool) -> list[int]:
    """``[len(cell[0]) for cell in _cells(f, True, trail)]``."""
    return [len(cell) for cell in _one_line_cells(f, trail)]


def _creator(f: FindingView) -> str:
    """Who made the key, short: ``alice (cli)``, ``Admin/ops (console)``, ``not found``.
    JSON and CSV carry the whole ARN; the table must stay narrow enough to read."""
    if f.created_by is None:
        return "not found" if f.evidence_note is not None else "-"
    # arn:aws:iam::123456789012:user/path/alice, …:assumed-role/Admin/ops, …:root
    resource = f.created_by.split(":", 5)[-1]
    kind, _, rest = resource.partition("/")
    if kind == "user":
        who = rest.rsplit("/", 1)[-1]
    elif kind == "assumed-role" and "/" in rest:
        role, _, session = rest.rpartition("/")
        who = f"{_short_role(role)}/{session}"
    else:
        who = rest or resource
    return f"{who} ({f.created_via})" if f.created_via else who


def _short_role(role: str) -> str:
    """An IAM Identity Center role by its permission set; other long names cut short."""
    match = _SSO_ROLE.match(role)
    if match:
        role = match[1]
    return role if len(role) <= 24 else role[:21] + "..."


# AWSReservedSSO_<permission set>_<16 hex digits>
_SSO_ROLE = re.compile(r"^AWSReservedSSO_(.+)_[0-9a-f]{16}$")


def _lines(cells: list[list[str]], widths: list[int]) -> Iterator[str]:
    """The text lines of one table row; cells padded to their widths, no trailing blanks."""
    height = max(len(cell) for cell in cells)
    for number in range(height):
        parts = [
            (cell[number] if number < len(cell) else "").ljust(width)
            for cell, width in zip(cells, widths, strict=True)
        ]
        yield (_INDENT + _GUTTER.join(parts)).rstrip(" ")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` folded to ``width``: at spaces where it can, inside words where it must."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


# --------------------------------------------------------------------------- totals


def _totals(printer: _Printer, run: AuditRun) -> None:
    summary = _counts_text(run.counts(), printer.dot)
    exempt = run.exempt
    if exempt:
        summary.append(f"{printer.dot}exempt {exempt} (not counted for the exit code)")
    printer.print(Text.assemble(("Summary   ", "bold"), summary))
    accounts = len(run.accounts)
    failed = sum(1 for a in run.accounts if a.error is not None)
    if not accounts:
        note = "no accounts audited"
    elif failed:
        note = f"{accounts}: {accounts - failed} audited, {failed} could not be audited"
    else:
        note = f"{accounts} audited"
    printer.print(Text.assemble(("Accounts  ", "bold"), note))
    printer.print(Text.assemble(("Result    ", "bold"), _status_text(run.status)))
    _incomplete(printer, run)


def _incomplete(printer: _Printer, run: AuditRun) -> None:
    """The run's gaps, said at the top and at the bottom, where a reader looks first."""
    note = incomplete_note(run)
    if note is not None:
        printer.print(Text(note, style=_STYLE[Status.ERROR]))


def _counts_text(counts: dict[Status, int], dot: str) -> Text:
    text = Text()
    for index, status in enumerate(STATUS_ORDER):
        if index:
            text.append(dot)
        n = counts.get(status, 0)
        text.append(f"{status_label(status)} {n}", style=_STYLE[status] if n else "")
    return text


def _status_text(status: Status) -> Text:
    return Text(status.value, style=_STYLE[status])


def _when(moment: datetime | None) -> str:
    """A timestamp as in JSON and CSV (ISO 8601, UTC, ``Z``), or ``-``."""
    return format_utc(moment) or "-"
