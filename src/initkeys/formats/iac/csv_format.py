"""``initkeys iac --format csv``: one row per finding, for spreadsheets and tickets.

Cells are made inert as in the audit's CSV (:func:`initkeys.formats.csv_format.escape_formula`):
unsafe characters escaped, a leading ``'`` before what a spreadsheet would run as a formula.
Several places in one cell are separated by ``; ``.
"""

from __future__ import annotations

import csv
from typing import TextIO

from initkeys.app.iac import IacRun
from initkeys.formats.csv_format import escape_formula
from initkeys.formats.iac import IacFormatter, finding_message, identified, place

COLUMNS = (
    "id",
    "status",
    "reason",
    "configuration",
    "module",
    "user",
    "user_at",
    "password_at",
    "key_at",
    "conditions",
    "elsewhere",
    "message",
    "exemption",
)


class IacCsvFormatter(IacFormatter):
    name = "csv"

    def write(self, run: IacRun, out: TextIO, tool_version: str) -> None:
        # As the audit's: every text cell quoted, so a "\r" cannot break a row.
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(COLUMNS)
        for finding_id, f in identified(run):
            cells = (
                finding_id,
                f.status.value,
                f.reason.value,
                f.configuration,
                f.module,
                f.user,
                place(f.user_at) if f.user_at else "",
                "; ".join(place(at) for at in f.password_at),
                "; ".join(place(at) for at in f.key_at),
                "; ".join(f.conditions),
                "; ".join(f.elsewhere),
                finding_message(f),
                f.exemption.describe() if f.exemption is not None else "",
            )
            writer.writerow([escape_formula(c) for c in cells])
