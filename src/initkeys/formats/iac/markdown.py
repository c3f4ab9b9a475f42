"""``initkeys iac --format markdown``: a pull-request comment or job summary.

A summary line, the counts, then a table of the problems (FAIL, ERROR, WARNING; the
first :data:`MAX_ROWS`), each with the file and line of its user, password and key.
Text read from scanned files is in code spans or escaped
(:func:`initkeys.formats.markdown.code`, :func:`~initkeys.formats.markdown.escape_inline`).
"""

from __future__ import annotations

from typing import TextIO

from initkeys.app.iac import IacRun
from initkeys.formats import status_label
from initkeys.formats.iac import IacFormatter, finding_message, incomplete_note, place, places
from initkeys.formats.markdown import code, escape_inline
from initkeys.model import STATUS_ORDER, Status
from initkeys.sources.iac.records import IacFinding

MAX_ROWS = 50
_PROBLEMS = (Status.FAIL, Status.ERROR, Status.WARNING)


class IacMarkdownFormatter(IacFormatter):
    name = "markdown"

    def write(self, run: IacRun, out: TextIO, tool_version: str) -> None:
        out.write(f"## initkeys iac: {status_label(run.status)}\n\n")
        out.write(
            f"Setup keys in infrastructure as code (CIS AWS 1.11), initkeys {tool_version}: "
            f"{run.files_read} files read, {run.skipped} JSON/YAML files not IaC.\n\n"
        )
        note = incomplete_note(run)
        if note is not None:
            out.write(f"**{escape_inline(note)}**\n\n")
        counts = run.counts()
        out.write("| " + " | ".join(status_label(s) for s in STATUS_ORDER) + " |\n")
        out.write("|" + "---:|" * len(STATUS_ORDER) + "\n")
        out.write("| " + " | ".join(str(counts[s]) for s in STATUS_ORDER) + " |\n\n")
        problems = [f for f in run.findings if f.status in _PROBLEMS]
        problems.sort(key=lambda f: _PROBLEMS.index(f.status))
        if not problems:
            out.write("No problems found.\n")
            return
        out.write("| Status | Reason | User | User at | Password at | Key at | Module | Why |\n")
        out.write("|---|---|---|---|---|---|---|---|\n")
        for finding in problems[:MAX_ROWS]:
            out.write(_row(finding))
        if len(problems) > MAX_ROWS:
            out.write(f"\n{len(problems) - MAX_ROWS} more problems: see the full report.\n")


def _row(f: IacFinding) -> str:
    cells = [
        f"**{status_label(f.status)}**" + (" (exempt)" if f.exemption is not None else ""),
        code(f.reason.value, table=True),
        code(f.user, table=True) if f.user else "-",
        code(place(f.user_at), table=True),
        code(places(f.password_at), table=True),
        code(places(f.key_at), table=True),
        code(f.module, table=True) if f.module else "-",
        escape_inline(finding_message(f)),
    ]
    return "| " + " | ".join(cells) + " |\n"
