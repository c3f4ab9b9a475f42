"""``initkeys iac --format sarif``: SARIF 2.1.0, so that GitHub code scanning (or any SARIF
viewer) shows each finding on the line that creates the user.

One run, one tool (``initkeys``), one rule per reason (rule id = the reason, e.g.
``iac-setup-key``), in the order of :class:`~initkeys.sources.iac.records.IacReason`.
FAIL findings are results of level ``error``, WARNING of level ``warning``, ERROR (a
file that could not be read) of level ``error``; PASS and NOT_APPLICABLE findings are
counted in ``run.properties.summary`` but are not results.

Each result's ``locations[0].physicalLocation`` is the user's line (else its key's or
password's, or the note's file): ``artifactLocation.uri`` relative to the scanned root
(forward slashes, ``uriBaseId`` ``%SRCROOT%``) and ``region.startLine`` (no region when
the format has no lines, as a plan). The console password and the access key are
``relatedLocations``. The stable finding id is in ``fingerprints`` and
``partialFingerprints``; an exempt finding has an accepted external suppression. A run
with an ERROR finding has ``executionSuccessful: false`` and a ``RUN-INCOMPLETE``
notification (fail closed, as the audit's SARIF).
"""

from __future__ import annotations

import json
import posixpath
from typing import Any, TextIO
from urllib.parse import quote

from initkeys.app.iac import IacRun
from initkeys.control import CONTROL
from initkeys.formats.iac import (
    IacFormatter,
    finding_message,
    identified,
    incomplete_note,
    subject,
)
from initkeys.formats.json_format import exemption_document
from initkeys.formats.sarif import FINGERPRINT, RUN_INCOMPLETE, SARIF_SCHEMA, SARIF_VERSION
from initkeys.model import STATUS_ORDER, Status
from initkeys.sources.iac.records import IacFinding, IacReason, SourceLine
from initkeys.timeutil import format_utc

SRCROOT = "%SRCROOT%"
_LEVEL = {Status.FAIL: "error", Status.ERROR: "error", Status.WARNING: "warning"}
_REASONS = tuple(IacReason)

# (name, short description, help) of each rule.
_RULES: dict[IacReason, tuple[str, str, str]] = {
    IacReason.SETUP_KEY: (
        "SetupKeyInConfiguration",
        "One configuration creates an IAM user, its console password and an access key "
        "for it: the key is a setup key.",
        "Leave the access key out of the configuration that creates the console user; "
        "the user creates a key later, when needed (CIS AWS 1.11).",
    ),
    IacReason.MAYBE_SETUP_KEY: (
        "MaybeSetupKeyInConfiguration",
        "A configuration may create an IAM user, its console password and an access key "
        "together, depending on a condition, variable or count.",
        "Check the conditions named: when they can all hold, the configuration creates a "
        "setup key. Scan the plan (terraform show -json PLAN) for a definite answer.",
    ),
    IacReason.PASSWORD_AND_KEY: (
        "PasswordAndKeyForUserElsewhere",
        "A configuration creates a console password and an access key for a user defined "
        "elsewhere.",
        "Create the access key separately from the console password, when it is needed.",
    ),
    IacReason.CONSOLE_USER_NO_KEY: (
        "ConsoleUserWithoutKey",
        "A console user is created without an access key.",
        "Nothing to do.",
    ),
    IacReason.PROGRAMMATIC_USER: (
        "ProgrammaticUser",
        "A user is created without a console password: the control does not apply.",
        "Nothing to do.",
    ),
    IacReason.NOT_SCANNED: (
        "NotScanned",
        "Part of the configuration was not scanned (a remote module, a nested stack).",
        "Scan the plan JSON (terraform show -json PLAN) or the nested template.",
    ),
    IacReason.UNREADABLE: (
        "Unreadable",
        "A file could not be read, so what it creates is unknown.",
        "Fix the file (the message says what is wrong) and scan again.",
    ),
}


class IacSarifFormatter(IacFormatter):
    name = "sarif"

    def write(self, run: IacRun, out: TextIO, tool_version: str) -> None:
        json.dump(sarif_document(run, tool_version), out, indent=2)
        out.write("\n")


def rules() -> list[dict[str, Any]]:
    return [
        {
            "id": reason.value,
            "name": _RULES[reason][0],
            "shortDescription": {"text": _RULES[reason][1]},
            "help": {"text": _RULES[reason][2]},
            "helpUri": CONTROL.see_also,
            "properties": {"tags": ["security", "aws", "iam", "access-keys", "iac"]},
        }
        for reason in _REASONS
    ]


def sarif_document(run: IacRun, tool_version: str) -> dict[str, Any]:
    note = incomplete_note(run)
    notifications = []
    if note is not None:
        notifications.append(
            {"level": "error", "message": {"text": note}, "descriptor": {"id": RUN_INCOMPLETE}}
        )
    counts = run.counts()
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "initkeys",
                        "version": tool_version,
                        "rules": rules(),
                    }
                },
                "invocations": [
                    {
                        # Fail closed: a run that did not read everything did not succeed.
                        "executionSuccessful": note is None,
                        "startTimeUtc": format_utc(run.generated_at),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "properties": {
                    "fail_on": run.settings.fail_on.value,
                    "allow_errors": run.settings.allow_errors,
                    "result": run.status.value,
                    "complete": note is None,
                    "files_read": run.files_read,
                    "skipped": run.skipped,
                    "summary": {s.value: counts[s] for s in STATUS_ORDER},
                },
                "results": [
                    _result(f, finding_id)
                    for finding_id, f in identified(run)
                    if f.status in _LEVEL
                ],
            }
        ],
    }


def _result(finding: IacFinding, finding_id: str) -> dict[str, Any]:
    at = finding.at
    related = [
        *(
            _related(i, at, "console password (login profile)")
            for i, at in enumerate(finding.password_at)
        ),
        *(
            _related(len(finding.password_at) + i, at, "access key")
            for i, at in enumerate(finding.key_at)
        ),
    ]
    result: dict[str, Any] = {
        "ruleId": finding.reason.value,
        "ruleIndex": _REASONS.index(finding.reason),
        "level": _LEVEL[finding.status],
        "message": {"text": finding_message(finding)},
        "locations": [
            {
                **({"physicalLocation": physical_location(at)} if at is not None else {}),
                "logicalLocations": [_logical(finding)],
            }
        ],
        "fingerprints": {FINGERPRINT: finding_id},
        "partialFingerprints": {FINGERPRINT: finding_id},
        "suppressions": _suppressions(finding),
        "properties": {
            "status": finding.status.value,
            "user": subject(finding),
            "configuration": finding.configuration,
            "module": finding.module,
            "conditions": list(finding.conditions),
            "elsewhere": list(finding.elsewhere),
        },
    }
    if related:
        result["relatedLocations"] = related
    return result


def _logical(finding: IacFinding) -> dict[str, Any]:
    """The configuration (and module path in it) the finding is in."""
    name = finding.module or finding.configuration
    qualified = finding.configuration + (f"#{finding.module}" if finding.module else "")
    return {"name": name, "fullyQualifiedName": qualified, "kind": "module"}


def _related(index: int, at: SourceLine, what: str) -> dict[str, Any]:
    return {
        "id": index,
        "physicalLocation": physical_location(at),
        "message": {"text": what},
    }


def physical_location(at: SourceLine) -> dict[str, Any]:
    """``artifactLocation`` (and ``region`` when the line is known) of a place."""
    location: dict[str, Any] = {"artifactLocation": artifact(at.path)}
    if at.line > 0:
        location["region"] = {"startLine": at.line}
    return location


def artifact(path: str) -> dict[str, Any]:
    """A path as a SARIF artifact location: relative to ``%SRCROOT%`` with forward slashes,
    or a ``file:`` URI when the user named an absolute path."""
    text = path.replace("\\", "/")
    if text.startswith("/"):
        return {"uri": "file://" + quote(posixpath.normpath(text))}
    text = posixpath.normpath(text)
    return {"uri": quote(text), "uriBaseId": SRCROOT}


def _suppressions(finding: IacFinding) -> list[dict[str, Any]]:
    if finding.exemption is None:
        return []
    return [
        {
            "kind": "external",
            "status": "accepted",
            "justification": finding.exemption.reason,
            "properties": exemption_document(finding.exemption),
        }
    ]
