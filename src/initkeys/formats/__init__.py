"""The formats stage: an :class:`~initkeys.model.AuditRun` → a report in one format.

One module per format, one interface (:class:`Formatter`). Format modules are
imported only when asked for: rich is slow to import, and ``initkeys --version``
must start fast.

The small helpers here (finding ids, labels, the incomplete-run sentence,
escapes) are shared by every format so that all of them agree on what a value
looks like; wording of durations and gaps is :mod:`initkeys.humanize`.

A formatter only iterates ``account.findings`` (it may do so more than once),
through :func:`finding_views` or :func:`identified_findings`, and reads
``account.counts()``: findings of a large run may live on disk rather than in
memory, so nothing may index or slice them, and a report file's are light
(:class:`~initkeys.model.FindingView`: a format reads the fields, never builds one).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Generic, TextIO, TypeVar, cast

from initkeys._version import __version__
from initkeys.errors import InputError
from initkeys.model import Status
from initkeys.timeutil import format_utc

if TYPE_CHECKING:
    from datetime import timedelta

    from initkeys.model import AccountAudit, AuditRun, Finding, FindingView

__all__ = [
    "CREATOR_COLUMN",
    "EVIDENCE_COLUMNS",
    "FORMAT_NAMES",
    "LISTED",
    "Formatter",
    "finding_id",
    "finding_views",
    "get_formatter",
    "identified_findings",
    "incomplete_note",
    "key_label",
    "looked_up",
    "parse_format_list",
    "seconds",
    "status_label",
    "unsafe_pattern",
    "visible",
    "visible_escape",
    "write_array",
]

# name → (module, class, file name in --output-dir). Modules load on demand.
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "text": ("initkeys.formats.text", "TextFormatter", "initkeys.txt"),
    "json": ("initkeys.formats.json_format", "JsonFormatter", "initkeys.json"),
    "csv": ("initkeys.formats.csv_format", "CsvFormatter", "initkeys.csv"),
    "sarif": ("initkeys.formats.sarif", "SarifFormatter", "initkeys.sarif"),
    "asff": ("initkeys.formats.asff", "AsffFormatter", "initkeys.asff.json"),
    "ocsf": ("initkeys.formats.ocsf", "OcsfFormatter", "initkeys.ocsf.json"),
    "junit": ("initkeys.formats.junit", "JunitFormatter", "initkeys.junit.xml"),
    "html": ("initkeys.formats.html", "HtmlFormatter", "initkeys.html"),
    "markdown": ("initkeys.formats.markdown", "MarkdownFormatter", "initkeys.md"),
}

FORMAT_NAMES: tuple[str, ...] = tuple(_REGISTRY)

# The findings the human formats (text, html, markdown) list; the others are only counted.
LISTED = (Status.FAIL, Status.ERROR, Status.WARNING)
# A finding's evidence, as the text and HTML tables head it.
EVIDENCE_COLUMNS = ("Reason", "User created", "Key created", "Gap", "Last used", "Password created")
CREATOR_COLUMN = "Created by"  # the column --cloudtrail adds


Run = TypeVar("Run")


class Renderer(Generic[Run]):
    """Writes a whole run (an audit's, or an IaC scan's) to ``out`` in one format: each
    format implements :meth:`write`."""

    name: str
    color = False
    """Whether this render may use colour (set by :meth:`render`); only text has any."""

    def render(
        self, run: Run, out: TextIO, *, color: bool = False, tool_version: str = __version__
    ) -> None:
        self.color = color
        self.write(run, out, tool_version)

    def write(self, run: Run, out: TextIO, tool_version: str) -> None:
        raise NotImplementedError


class Formatter(Renderer["AuditRun"]):
    """An audit run's format."""


def get_formatter(name: str) -> Formatter:
    """The formatter called ``name`` (one of :data:`FORMAT_NAMES`)."""
    import importlib

    key = name.strip().lower()
    if key not in _REGISTRY:
        raise InputError(
            f"unknown output format {name!r}; choose one of: {', '.join(FORMAT_NAMES)}"
        )
    module_name, class_name, _ = _REGISTRY[key]
    formatter: Formatter = getattr(importlib.import_module(module_name), class_name)()
    return formatter


def file_name(name: str) -> str:
    """The file a format is written to under ``--output-dir``."""
    return _REGISTRY[name][2]


def parse_format_list(text: str) -> list[str]:
    """``json,sarif`` → ``["json", "sarif"]``: known names, no repeats, in the given order."""
    names: list[str] = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in _REGISTRY:
            raise InputError(
                f"unknown output format {part.strip()!r}; choose from: {', '.join(FORMAT_NAMES)}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise InputError("--format needs at least one format name")
    return names


def finding_id(account: AccountAudit, finding: Finding) -> str:
    """A finding's stable id: the same key of the same user in the same account
    gets the same id in every run and every format.

    A key is named by its slot and creation time, which a credential report and
    a live read agree on (a report carries no key ids), so two keys of one user
    never share an id, and a key deleted and made anew gets a new one.
    """
    if finding.key_slot is None:
        subject = "user"
    else:
        subject = f"key{finding.key_slot}@{format_utc(finding.key_created) or '?'}"
    return _stable_id(account, finding.arn or finding.user, subject)


def _stable_id(account: AccountAudit, *subject: str) -> str:
    """The id recipe of every report: the control, the account, then what is named."""
    material = "\x1f".join(("cis-aws-1.11", account.partition, account.account_id, *subject))
    return "initkeys-1.11-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]


def status_label(status: Status) -> str:
    """A status as a column heading or a count's label: ``N/A`` for NOT_APPLICABLE."""
    return "N/A" if status is Status.NOT_APPLICABLE else status.value


def key_label(finding: FindingView) -> str:
    """The key a finding is about: its id when known, else ``key 2``; ``-`` for a user."""
    if finding.access_key_id:
        return finding.access_key_id
    if finding.key_slot is not None:
        return f"key {finding.key_slot}"
    return "-"


def looked_up(finding: FindingView) -> bool:
    """Whether CloudTrail was read for ``finding`` (--cloudtrail): evidence, or a note why none."""
    return finding.created_by is not None or finding.evidence_note is not None


def finding_views(account: AccountAudit) -> Iterable[FindingView]:
    """The findings of ``account`` as a format reads them: a report file's light findings
    as they are held (``evaluate.light.ReportFindings.views``), others as they are."""
    views = getattr(account.findings, "views", None)
    return account.findings if views is None else cast("Iterable[FindingView]", views())


def identified_findings(
    account: AccountAudit, listed: tuple[Status, ...] | None = None
) -> Iterator[tuple[str, FindingView]]:
    """``(id, finding)`` for each finding of ``account``, every id unique; with ``listed``,
    only for the findings of those statuses (ids and repeats still counted over all).

    Ids can only repeat for rows a report got wrong (a duplicated row, two
    unreadable rows without an ARN); the later ones get ``-2``, ``-3``… in file
    order, which a rerun on the same input reproduces.
    """
    # A repeat is the same user and subject (the id's material less its constant head:
    # a subject holds no \x1f, so the two name one material). A user's findings are
    # adjacent unless a row comes back, so only the current user's subjects are kept,
    # until a user comes back (rare): from there every user and subject is counted. No
    # id is hashed to be counted: a format that lists a third of a million-row report's
    # findings hashes only those, and nothing is held per finding.
    head = "\x1f".join(("cis-aws-1.11", account.partition, account.account_id, ""))
    sha256 = hashlib.sha256
    users: set[str | None] = set()  # the users before the current one
    current: str | None = None
    subjects: list[str] = []  # the current user's
    for position, finding in enumerate(finding_views(account)):
        who = finding.arn or finding.user
        slot = finding.key_slot
        subject = "user" if slot is None else f"key{slot}@{finding.key_created_utc or '?'}"
        if who == current:
            count = subjects.count(subject) + 1
            subjects.append(subject)
        elif who in users:  # a user came back
            yield from _counting_every(account, position, listed)
            return
        else:
            users.add(current)
            current, subjects, count = who, [subject], 1
        if listed is not None and finding.status not in listed:
            continue
        material = head + who + "\x1f" + subject
        base = "initkeys-1.11-" + sha256(material.encode("utf-8")).hexdigest()[:24]
        yield (base if count == 1 else f"{base}-{count}"), finding


def _counting_every(
    account: AccountAudit, start: int, listed: tuple[Status, ...] | None
) -> Iterator[tuple[str, FindingView]]:
    """:func:`identified_findings` from finding ``start`` on, every user and subject
    counted (those before ``start`` too)."""
    head = "\x1f".join(("cis-aws-1.11", account.partition, account.account_id, ""))
    counts: dict[tuple[str, str], int] = {}
    for position, finding in enumerate(finding_views(account)):
        slot = finding.key_slot
        subject = "user" if slot is None else f"key{slot}@{finding.key_created_utc or '?'}"
        pair = (finding.arn or finding.user, subject)
        count = counts[pair] = counts.get(pair, 0) + 1
        if position < start or (listed is not None and finding.status not in listed):
            continue
        material = head + pair[0] + "\x1f" + subject
        base = "initkeys-1.11-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]
        yield (base if count == 1 else f"{base}-{count}"), finding


def incomplete_note(run: AuditRun) -> str | None:
    """The sentence every format shows when the run is incomplete (``run.incomplete()``):
    what was not seen, and that it is not a pass; None for a complete run.

    ``--allow-errors`` changes only the exit code, so the sentence stays and says so."""
    if not run.incomplete():
        return None
    accounts = sum(1 for a in run.accounts if a.error is not None)
    errors = sum(a.open_counts()[Status.ERROR] for a in run.accounts if a.error is None)
    parts = []
    if accounts:
        parts.append(f"{accounts} account{_s(accounts)} could not be audited")
    if errors:
        parts.append(f"{errors} finding{_s(errors)} {'is' if errors == 1 else 'are'} ERROR")
    note = f"INCOMPLETE: {' and '.join(parts)}: what was not seen is not a pass"
    if run.settings.allow_errors:
        note += " (--allow-errors: the exit code ignores it)"
    return note


def _s(n: int) -> str:
    return "" if n == 1 else "s"


# Characters no format writes as they are, but as visible escapes (``\\x1b``,
# ``\\u202e``): control characters (C0, DEL, C1), the line and paragraph
# separators, and every format character (Unicode category Cf: the bidi
# embedding/override/isolate controls, zero-width spaces and joiners, the
# byte-order mark, invisible tag characters). A crafted name must neither drive
# a terminal, break a line or a table row, reorder what a reader sees, nor hide
# text in a name that looks like another. A format adds its own extras (see
# :func:`unsafe_pattern`).
_UNSAFE_RANGES = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _escape(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


_VISIBLE = {c: _escape(c) for low, high in _UNSAFE_RANGES for c in range(low, high + 1)}


def visible(text: str) -> str:
    """``text`` with every unsafe character written as a visible escape."""
    return text.translate(_VISIBLE)


def visible_escape(match: re.Match[str]) -> str:
    """The visible escape of the one character ``match`` found (for ``re.sub``)."""
    return _escape(ord(match.group()))


def unsafe_pattern(extra: str = "") -> re.Pattern[str]:
    """One unsafe character, or one of ``extra`` (the inside of a regex character class)."""
    ranges = "".join(f"{chr(low)}-{chr(high)}" for low, high in _UNSAFE_RANGES)
    return re.compile(f"[{ranges}{extra}]")


def write_array(out: TextIO, items: Iterable[str], pad: str = "") -> None:
    """A JSON array of serialized ``items``, one a line after ``pad``, its ``]`` two spaces
    left of them. Written as the items come: an offline run may hold a million findings."""
    first = True
    for item in items:
        out.write(("[\n" if first else ",\n") + pad + item)
        first = False
    out.write("[]" if first else "\n" + pad[:-2] + "]")


def seconds(delta: timedelta | None) -> int | None:
    """Whole seconds of a duration (toward zero), or None."""
    if delta is None:
        return None
    return int(delta.total_seconds())
