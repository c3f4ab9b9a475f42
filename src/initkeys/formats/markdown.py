"""``--format markdown``: a short summary for a pull request or a CI job summary.

GitHub-flavoured Markdown: a title with the result, the counts as a table, a
table of FAIL, ERROR and WARNING findings (at most :data:`MAX_ROWS`, then
"…and N more"; with ``--cloudtrail``, who created each key), the accounts that
could not be audited, and a note on exempt findings. PASS and NOT_APPLICABLE
findings are only counted.

User names, account ids, file names and error sentences are data, not
Markdown: each is written as a code span (:func:`code`), where no emphasis,
link, autolink or HTML is recognised; in a table its ``|`` is escaped, and
line breaks and other control characters become visible escapes, so a crafted
name can neither break a table row nor inject HTML or a link.
"""

from __future__ import annotations

import re
from typing import TextIO

from initkeys.control import CONTROL
from initkeys.formats import (
    LISTED,
    Formatter,
    finding_views,
    incomplete_note,
    looked_up,
    status_label,
    visible,
)
from initkeys.humanize import describe_duration, signed_duration
from initkeys.model import STATUS_ORDER, AccountAudit, AuditRun, FindingView, Status
from initkeys.timeutil import format_utc

MAX_ROWS = 50
"""Findings listed in the table; a PR comment or a job summary stays short."""

_ICON = {
    Status.FAIL: "❌",
    Status.ERROR: "❗",
    Status.WARNING: "⚠️",
    Status.PASS: "✅",
    Status.NOT_APPLICABLE: "➖",
}

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")
_BACKTICKS = re.compile(r"`+")


def code(text: str, *, table: bool = False) -> str:
    """``text`` as a code span, inert whatever it holds; ``table`` also escapes ``|``."""
    text = visible(text)
    if not text:
        return ""
    if table:
        # A table row is split at every unescaped "|", code spans included;
        # GFM and markdown-it turn "\|" back into "|" inside the cell.
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    # A span's content loses one space at each end when it has both; pad text
    # that starts or ends with a backtick or a space so that it survives.
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def escape_inline(text: str) -> str:
    """Our own prose inside a line of Markdown: characters that would start markup are
    escaped. (Not for the start of a line, where ``#``, ``-`` or ``1.`` start blocks.)"""
    return _INLINE_SPECIAL.sub(r"\\\1", visible(text))


class MarkdownFormatter(Formatter):
    name = "markdown"

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        write = out.write
        result = run.status
        not_audited = [a for a in run.accounts if a.error is not None]
        write(
            f"## {_ICON[result]} initkeys: {result.value} · "
            f"CIS AWS Foundations {CONTROL.id}\n\n"
            f"*{escape_inline(CONTROL.title)}.*\n\n"
            f"{_about(run, len(not_audited), tool_version)}\n\n"
        )
        note = incomplete_note(run)
        if note is not None:  # our own words: counts and flags, nothing from the data
            head, _, rest = note.partition(": ")
            write(f"> **{head}:** {escape_inline(rest)}\n\n")
        if not run.accounts:
            write("No accounts audited.\n")
            return
        counts = run.counts()
        write("| " + " | ".join(status_label(s) for s in STATUS_ORDER) + " |\n")
        write("|" + "---:|" * len(STATUS_ORDER) + "\n")
        write("| " + " | ".join(str(counts[s]) for s in STATUS_ORDER) + " |\n\n")
        rows, exempt = _first_rows(run)
        _findings_table(run, out, rows, sum(counts[s] for s in LISTED))
        if not_audited:
            write("\n### Accounts that could not be audited\n\n")
            for account in not_audited[:MAX_ROWS]:
                name = f" ({code(account.account_name)})" if account.account_name else ""
                write(f"- {code(account.account_id)}{name}: {code(account.error or '')}\n")
            if len(not_audited) > MAX_ROWS:
                write(f"- …and {len(not_audited) - MAX_ROWS} more\n")
        if exempt:
            write(
                f"\n{exempt} finding{'' if exempt == 1 else 's'} exempt: kept by the "
                "organization's decision, marked *exempt* above, not counted for the "
                "exit code and never remediated.\n"
            )


def _about(run: AuditRun, not_audited: int, tool_version: str) -> str:
    window = describe_duration(run.settings.setup_window)
    audited = len(run.accounts) - not_audited
    accounts = f"{audited} account{'' if audited == 1 else 's'} audited"
    if not_audited:
        accounts += f", {not_audited} could not be audited"
    return (
        f"Mode `{run.settings.mode.value}`, setup window {window} · {accounts} · "
        f"{format_utc(run.generated_at)} · initkeys {tool_version}"
    )


def _findings_table(
    run: AuditRun, out: TextIO, rows: list[tuple[AccountAudit, FindingView]], listed: int
) -> None:
    if not listed:
        out.write("No FAIL, ERROR or WARNING findings.\n")
        return
    several = len(run.accounts) > 1
    # Who made each key, only when CloudTrail was read (--cloudtrail) for a listed key.
    trail = any(looked_up(f) for _, f in rows)
    columns = ["status", *(["account"] if several else []), "user", "key"]
    columns += ["created after user", "last used", "reason", *(["created by"] if trail else [])]
    out.write("### Findings\n\n")
    out.write("| " + " | ".join(columns) + " |\n")
    out.write("|" + "---|" * len(columns) + "\n")
    for account, finding in rows:
        cells = [_status_cell(finding)]
        if several:
            cells.append(code(account.account_id, table=True))
        cells += [
            code(finding.user, table=True),
            _key_cell(finding),
            "-" if finding.setup_gap is None else signed_duration(finding.setup_gap),
            _last_used(finding),
            _reason_cell(finding),
        ]
        if trail:
            cells.append(_creator_cell(finding))
        out.write("| " + " | ".join(cells) + " |\n")
    shown = len(rows)
    if listed > shown:
        out.write(
            f"\n…and {listed - shown} more FAIL, ERROR or WARNING "
            f"finding{'' if listed - shown == 1 else 's'}: "
            "the full list is in `--format json`, `csv` or `text`.\n"
        )


def _first_rows(run: AuditRun) -> tuple[list[tuple[AccountAudit, FindingView]], int]:
    """The findings the table shows (FAIL, ERROR, WARNING, then the exempt
    ones), and how many findings are exempt.

    One pass, keeping at most :data:`MAX_ROWS` findings per group, so a run with
    a million findings costs no more memory than a small one.
    """
    exempt = 0
    groups: dict[tuple[bool, Status], list[tuple[AccountAudit, FindingView]]] = {
        (exempt, status): [] for exempt in (False, True) for status in LISTED
    }
    for account in run.accounts:
        if account.error is not None:
            continue
        for finding in finding_views(account):
            exempt += finding.exemption is not None
            group = groups.get((finding.exemption is not None, finding.status))
            if group is not None and len(group) < MAX_ROWS:
                group.append((account, finding))
    rows = [row for group in groups.values() for row in group]
    return rows[:MAX_ROWS], exempt


def _status_cell(finding: FindingView) -> str:
    text = f"{_ICON[finding.status]} {finding.status.value}"
    return text + " *exempt*" if finding.exemption is not None else text


def _key_cell(finding: FindingView) -> str:
    if finding.access_key_id:
        return code(finding.access_key_id, table=True)
    return "-" if finding.key_slot is None else str(finding.key_slot)


def _last_used(finding: FindingView) -> str:
    if finding.key_slot is None:
        return "-"
    last_used = finding.last_used_utc
    return "never" if last_used is None else last_used[:10]


def _creator_cell(finding: FindingView) -> str:
    """``arn`` (how, ``from where``); ``not found`` when CloudTrail has no event for the key
    (the JSON report's ``evidence_note`` says why); ``-`` when it was not looked up."""
    if finding.created_by is None:
        return "not found" if finding.evidence_note is not None else "-"
    cell = code(finding.created_by, table=True)
    details = [escape_inline(finding.created_via)] if finding.created_via else []
    if finding.created_from:
        details.append("from " + code(finding.created_from, table=True))
    return cell + (f" ({', '.join(details)})" if details else "")


def _reason_cell(finding: FindingView) -> str:
    cell = code(finding.reason.value, table=True)
    if finding.status is Status.ERROR:
        cell += ": " + code(finding.message, table=True)
    if finding.exemption is not None:
        cell += ", exempt: " + code(finding.exemption.reason, table=True)
    return cell
