"""``initkeys iac --format json``: the IaC report, ``schema_version`` 1, described field by
field by ``initkeys/schemas/iac-report-v1.json`` (docs/verdicts.md, "Infrastructure as
code"). Fields may be added within version 1; none is renamed or removed.

Strings are written as read (JSON escapes control characters itself); ``message`` is the
sentence the other formats show, with unsafe characters escaped.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from initkeys.app.iac import IacRun
from initkeys.control import CONTROL
from initkeys.formats.iac import IacFormatter, finding_message, identified, incomplete_note
from initkeys.formats.json_format import exemption_document
from initkeys.model import STATUS_ORDER
from initkeys.sources.iac.records import IacFinding, SourceLine
from initkeys.timeutil import format_utc

SCHEMA_VERSION = 1


class IacJsonFormatter(IacFormatter):
    name = "json"

    def write(self, run: IacRun, out: TextIO, tool_version: str) -> None:
        # One write: json.dump writes each of its (~75 per finding) chunks on its own.
        out.write(json.dumps(report_document(run, tool_version), indent=2) + "\n")


def report_document(run: IacRun, tool_version: str) -> dict[str, Any]:
    note = incomplete_note(run)
    counts = run.counts()
    return {
        "schema_version": SCHEMA_VERSION,
        "report": "iac",
        "tool": {"name": "initkeys", "version": tool_version},
        "control": {"id": CONTROL.id, "title": CONTROL.title},
        "generated_at": format_utc(run.generated_at),
        "paths": list(run.paths),
        "files_read": run.files_read,
        "skipped": run.skipped,
        "fail_on": run.settings.fail_on.value,
        "allow_errors": run.settings.allow_errors,
        "result": run.status.value,
        "complete": note is None,
        "incomplete": note,
        "summary": {status.value: counts[status] for status in STATUS_ORDER},
        "exempt": run.exempt,
        "findings": [finding_document(f, i) for i, f in identified(run)],
    }


def finding_document(finding: IacFinding, finding_id: str) -> dict[str, Any]:
    return {
        "id": finding_id,
        "status": finding.status.value,
        "reason": finding.reason.value,
        "configuration": finding.configuration,
        "module": finding.module,
        "user": finding.user,
        "user_at": location(finding.user_at),
        "password_at": [location(at) for at in finding.password_at],
        "key_at": [location(at) for at in finding.key_at],
        "conditions": list(finding.conditions),
        "elsewhere": list(finding.elsewhere),
        "note": finding.note.what if finding.note is not None else None,
        "message": finding_message(finding),
        "exemption": exemption_document(finding.exemption),
    }


def location(at: SourceLine | None) -> dict[str, Any] | None:
    """``{"path", "line"}``; ``line`` is null when the format has no lines (a plan)."""
    if at is None:
        return None
    return {"path": at.path, "line": at.line if at.line > 0 else None}
