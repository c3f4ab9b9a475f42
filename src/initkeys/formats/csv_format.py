"""``--format csv``: one row per finding, for spreadsheets and ticket imports.

An account that could not be audited gets one row with status ERROR and the
reason in ``message``, so that it cannot silently drop out of a spreadsheet.

User names, file names and messages are attacker-influenced (IAM user names may
contain ``+ = , . @ - _``), and spreadsheet apps run a cell that starts with
``= + - @`` as a formula. Such text cells get a leading ``'``, the OWASP
advice for CSV injection. Numbers this module writes itself are left alone.

Before that, the characters no format writes as they are (control characters,
C1, line breaks, bidi overrides and other format characters: see
:func:`initkeys.formats.visible`) become visible escapes (``\\x1b``), so that
``cat`` or ``less`` on the file cannot drive the terminal, and every record
stays on one line.
"""

from __future__ import annotations

import csv
from typing import TextIO

from initkeys.formats import Formatter, identified_findings, seconds, visible
from initkeys.model import AccountAudit, AuditRun, FindingView, LightFinding, Reason, Status

COLUMNS = (
    "account_id",
    "partition",
    "source",
    "user",
    "arn",
    "key_slot",
    "access_key_id",
    "status",
    "reason",
    "active",
    "user_created",
    "key_created",
    "setup_gap_seconds",
    "last_used",
    "password_created",
    "message",
    "exemption",
    "exemption_source",
    "exemption_expires",
    "exemption_expired_on",
    "id",
    # Added after ``id`` so that every earlier column keeps its place.
    "created_by",
    "created_via",
    "created_from",
    "evidence_note",
)

# Enum values by member: a dict lookup, not the enum's ``value`` property, per row.
_VALUE: dict[Status | Reason, str] = {v: v.value for v in (*Status, *Reason)}

# Tab and carriage return also start formulas in some spreadsheet apps.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int


class CsvFormatter(Formatter):
    name = "csv"

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        # "\n", not the RFC's "\r\n": ``out`` is a text stream that already
        # translates newlines for the platform (sys.stdout on Windows). With
        # "\n" alone, QUOTE_MINIMAL would leave a field holding "\r" unquoted
        # and so break the row; every text field is quoted instead, and the
        # numbers stay bare so that readers can tell them apart.
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(COLUMNS)
        for account in run.accounts:
            if account.error is not None:
                writer.writerow(_error_row(account))
                continue
            # The account's cells, escaped once for all its rows.
            where = tuple(escape_formula(x) for x in _account_cells(account))
            head = _quoted(where)
            for finding_id, finding in identified_findings(account):
                if type(finding) is LightFinding:
                    line = _light_row(head, finding, finding_id)
                    if line is not None:
                        out.write(line)
                        continue
                writer.writerow(_finding_row(where, finding, finding_id))


def escape_formula(text: str) -> str:
    """``text`` made inert for terminals (:func:`~initkeys.formats.visible`) and for
    spreadsheet apps: a leading ``'`` if it could start a formula."""
    if not text.isascii() or not text.isprintable():  # the rare case: escapes to write
        text = visible(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _account_cells(account: AccountAudit) -> tuple[str, str, str]:
    return (account.account_id, account.partition, account.source)


def _finding_row(where: tuple[str, ...], finding: FindingView, finding_id: str) -> tuple[Cell, ...]:
    # Hot path (one call per finding): cells are converted here, not by a
    # generic per-cell dispatch. Every text that is not ours is escaped;
    # ``where`` is the account's cells, escaped already.
    return (
        *where,
        escape_formula(finding.user),
        escape_formula(finding.arn),
        "" if finding.key_slot is None else finding.key_slot,
        "" if finding.access_key_id is None else escape_formula(finding.access_key_id),
        finding.status.value,
        finding.reason.value,
        "" if finding.active is None else str(finding.active).lower(),  # as in the report
        finding.user_created_utc or "",
        finding.key_created_utc or "",
        _number(seconds(finding.setup_gap)),
        finding.last_used_utc or "",
        finding.password_created_utc or "",
        escape_formula(finding.message),
        *_exemption_cells(finding),
        finding_id,
        # Evidence is None unless --cloudtrail: the escape of "" is "".
        "" if finding.created_by is None else escape_formula(finding.created_by),
        finding.created_via or "",
        "" if finding.created_from is None else escape_formula(finding.created_from),
        "" if finding.evidence_note is None else escape_formula(finding.evidence_note),
    )


def _quoted(cells: tuple[str, ...]) -> str:
    """``cells`` as the writer quotes text (QUOTE_NONNUMERIC, quotes doubled), comma-led."""
    return "".join(',"' + cell.replace('"', '""') + '"' for cell in cells)[1:]


def _light_row(head: str, finding: LightFinding, finding_id: str) -> str | None:
    """The line the writer makes of :func:`_finding_row` for a light finding, joined here:
    its text cells hold no quote (a report row with one is never light), the numbers are
    bare; None when a cell would need more than quotes around it (the writer then writes)."""
    user, arn, status, reason, slot, active, _, _, _, _, gap = finding
    message = escape_formula(finding.message)
    user = escape_formula(user)
    arn = escape_formula(arn)
    if '"' in message or '"' in user or '"' in arn:
        return None
    empty = '""'  # an empty cell is text, so quoted
    return (
        f'{head},"{user}","{arn}",{empty if slot is None else slot},"",'
        f'"{_VALUE[status]}","{_VALUE[reason]}","{"" if active is None else str(active).lower()}",'
        f'"{finding.user_created_utc or ""}","{finding.key_created_utc or ""}",'
        f"{empty if gap is None else int(gap.total_seconds())},"
        f'"{finding.last_used_utc or ""}","{finding.password_created_utc or ""}","{message}",'
        f'"","","","","{finding_id}","","","",""\n'
    )


def _exemption_cells(finding: FindingView) -> tuple[str, str, str, str]:
    """Reason, source and end date of the exemption in force; the end of an expired one."""
    active, expired = finding.exemption, finding.expired_exemption
    if active is None and expired is None:
        return ("", "", "", "")
    return (
        escape_formula(active.reason) if active else "",
        escape_formula(active.source) if active else "",
        active.expires.isoformat() if active and active.expires else "",
        expired.expires.isoformat() if expired and expired.expires else "",
    )


def _error_row(account: AccountAudit) -> tuple[Cell, ...]:
    cells = dict.fromkeys(COLUMNS, "")
    cells["account_id"] = escape_formula(account.account_id)
    cells["partition"] = escape_formula(account.partition)
    cells["source"] = escape_formula(account.source)
    cells["status"] = Status.ERROR.value
    cells["message"] = escape_formula(account.error or "")
    return tuple(cells.values())


def _number(value: int | None) -> str | int:
    return "" if value is None else value
