"""``--format ocsf``: OCSF 1.5.0 Detection Finding events (class 2004), one per finding.

The output is a JSON array with one event per line, written one event at a
time (an offline run may hold a million findings). Every event carries the
``cloud`` profile (``cloud.provider`` ``AWS`` and the audited account), the
control's remediation text, and the stable finding id as ``finding_info.uid``.

Where things go:

- ``status_code`` is the initkeys verdict (``FAIL`` …), ``metadata.event_code``
  the reason code (``setup-key-unused`` …), ``message`` the human sentence.
- ``severity_id``: FAIL Medium, WARNING and ERROR Low (a person has to look),
  PASS and NOT_APPLICABLE Informational. PASS and NOT_APPLICABLE findings are
  kept: auditors need evidence that every user was looked at; a SIEM that
  only wants problems filters on ``severity_id >= 2``.
- ``status_id``: New, or Suppressed for an exempt finding (the exemption is in
  ``unmapped.exemption``).
- ``resources``: the access key (``AwsIamAccessKey``; ``uid`` only when the key
  id is known, i.e. in live audits) and its user (``AwsIamUser``, ``uid`` the
  ARN), with the evidence timestamps in ``data``.
- The Detection Finding class has no ``compliance`` attribute (only Compliance
  Finding, class 2003, has), so the compliance object (standards,
  requirements, control, status) is in ``unmapped.compliance``, shaped like
  OCSF's compliance object. So are the other initkeys fields OCSF has no place
  for (mode, setup window, setup gap, source, exemptions).
- CloudTrail evidence (``--cloudtrail``): a key whose ``CreateAccessKey`` event
  was found has one ``evidences`` artifact (``api.operation``
  ``CreateAccessKey``; ``data`` holds ``created_by``, the creator's ARN,
  ``created_via`` and ``created_from``); a key looked up without success has
  ``unmapped.evidence_note``, saying why. Without ``--cloudtrail`` neither is there.
- An account that could not be audited gets one event of its own
  (``metadata.event_code`` ``account-error``, ``status_code`` ``ERROR``,
  compliance status Unknown, the account as the resource), so that it cannot
  silently drop out of a SIEM: no events would read as a clean account.

The formatter writes plain dicts; it needs no OCSF library at run time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, TextIO

from initkeys.control import CONTROL
from initkeys.formats import Formatter, _stable_id, identified_findings, seconds, write_array
from initkeys.formats.json_format import exemption_document
from initkeys.model import AccountAudit, AuditRun, FindingView, Status
from initkeys.timeutil import format_utc

OCSF_VERSION = "1.5.0"
CLASS_UID = 2004  # Detection Finding
CATEGORY_UID = 2  # Findings
ACTIVITY_ID = 1  # Create
TYPE_UID = CLASS_UID * 100 + ACTIVITY_ID
STANDARD = "CIS AWS Foundations Benchmark"
FINDING_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/" + STANDARD
ACCOUNT_ERROR_CODE = "account-error"

# verdict → (severity_id, severity, compliance status_id, compliance status);
# compliance 99 (Other) carries our own label.
_BY_STATUS: dict[Status, tuple[int, str, int, str]] = {
    Status.FAIL: (3, "Medium", 3, "Fail"),
    Status.ERROR: (2, "Low", 0, "Unknown"),
    Status.WARNING: (2, "Low", 2, "Warning"),
    Status.PASS: (1, "Informational", 1, "Pass"),
    Status.NOT_APPLICABLE: (1, "Informational", 99, "Not Applicable"),
}

_NEW = (1, "New")
_SUPPRESSED = (3, "Suppressed")


class OcsfFormatter(Formatter):
    name = "ocsf"

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        write_array(out, map(json.dumps, _events(run, tool_version)))
        out.write("\n")


def _events(run: AuditRun, tool_version: str) -> Iterator[dict[str, Any]]:
    common = _common(run, tool_version)
    for account in run.accounts:
        context = _account_context(account, common)
        if account.error is not None:
            yield _error_event(account, context)
            continue
        for finding_id, finding in identified_findings(account):
            yield _finding_event(account, finding, finding_id, context)


def epoch_ms(moment: datetime) -> int:
    """OCSF ``timestamp_t``: milliseconds since the epoch; a naive datetime is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def account_error_id(account: AccountAudit) -> str:
    """The stable id of an account's "could not be audited" event.

    Shaped like a finding id, but made from material no finding can have, so
    it never names a user's finding of the same account in another run.
    """
    return _stable_id(account, "account-error")


def _common(run: AuditRun, tool_version: str) -> dict[str, Any]:
    """What every event of one run shares (the dicts are shared, never changed)."""
    time = epoch_ms(run.generated_at)
    return {
        "time": time,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "initkeys",
                "uid": "initkeys",
                "vendor_name": "initkeys",
                "version": tool_version,
            },
            "profiles": ["cloud"],
        },
        "finding_info": {
            "title": f"CIS AWS Foundations {CONTROL.id}: {CONTROL.title}",
            "desc": f"{CONTROL.information} {CONTROL.rationale}",
            "types": [FINDING_TYPE],
            "created_time": time,
            "analytic": {
                "uid": CONTROL.control_id,
                "name": f"CIS AWS Foundations {CONTROL.id}",
                "type": "Rule",
                "type_id": 1,
            },
        },
        "remediation": {"desc": CONTROL.solution, "references": [CONTROL.see_also]},
        "unmapped": {
            "mode": run.settings.mode.value,
            "setup_window_seconds": seconds(run.settings.setup_window),
            "control_references": list(CONTROL.references),
        },
    }


def _account_context(account: AccountAudit, common: dict[str, Any]) -> dict[str, Any]:
    """``common`` with what every event of one account shares: the cloud, the source."""
    cloud = {
        "provider": "AWS",
        "account": {
            "uid": account.account_id,
            # The account's name when AWS Organizations told us; its id otherwise.
            "name": account.account_name or account.account_id,
            "type": "AWS Account",
            "type_id": 10,
        },
    }
    unmapped = {
        **common["unmapped"],
        "source": account.source,
        "report_generated_at": format_utc(account.report_generated_at),
    }
    return {**common, "cloud": cloud, "unmapped": unmapped}


# OCSF's compliance object for each verdict (shared, never changed).
_COMPLIANCE = {
    status: {
        "standards": [STANDARD],
        "requirements": [CONTROL.id],
        "control": CONTROL.id,
        "status_id": status_id,
        "status": label,
        "status_code": status.value,
    }
    for status, (_, _, status_id, label) in _BY_STATUS.items()
}


def _event(
    status: Status,
    exempt: bool,
    event_id: str,
    event_code: str,
    message: str,
    context: dict[str, Any],
) -> dict[str, Any]:
    """The attributes every event has; the caller adds resources and unmapped."""
    severity_id, severity, _, _ = _BY_STATUS[status]
    status_id, status_label = _SUPPRESSED if exempt else _NEW
    return {
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": ACTIVITY_ID,
        "activity_name": "Create",
        "type_uid": TYPE_UID,
        "type_name": "Detection Finding: Create",
        "time": context["time"],
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status_label,
        "status_code": status.value,
        "message": message,
        "metadata": {**context["metadata"], "event_code": event_code},
        "finding_info": {**context["finding_info"], "uid": event_id},
        "cloud": context["cloud"],
        "remediation": context["remediation"],
    }


def _finding_event(
    account: AccountAudit, finding: FindingView, finding_id: str, context: dict[str, Any]
) -> dict[str, Any]:
    event = _event(
        finding.status,
        finding.exemption is not None,
        finding_id,
        finding.reason.value,
        finding.message,
        context,
    )
    event["resources"] = _resources(account, finding)
    if finding.created_by is not None:
        event["evidences"] = [_creation_evidence(finding)]
    event["unmapped"] = {
        **context["unmapped"],
        "compliance": _COMPLIANCE[finding.status],
        "setup_gap_seconds": seconds(finding.setup_gap),
        "exemption": exemption_document(finding.exemption),
        "exemption_expired": exemption_document(finding.expired_exemption),
    }
    if finding.evidence_note is not None:
        event["unmapped"]["evidence_note"] = finding.evidence_note
    return event


def _creation_evidence(finding: FindingView) -> dict[str, Any]:
    """The key's ``CreateAccessKey`` event as an evidence artifact: the API call, and
    who made it, how and from where in ``data`` (the evidence object's ``actor`` and
    ``src_endpoint`` are not in the py-ocsf-models release the tests validate with)."""
    return {
        "name": "CloudTrail CreateAccessKey",
        "api": {"operation": "CreateAccessKey"},
        "data": {
            "created_by": finding.created_by,
            "created_via": finding.created_via,
            "created_from": finding.created_from,
        },
    }


def _resources(account: AccountAudit, finding: FindingView) -> list[dict[str, Any]]:
    user = {
        "type": "AwsIamUser",
        "uid": finding.arn,
        "name": finding.user,
        "cloud_partition": account.partition,
        "data": {
            "user_created": finding.user_created_utc,
            "password_created": finding.password_created_utc,
        },
    }
    if finding.key_slot is None:
        return [user]
    key: dict[str, Any] = {"type": "AwsIamAccessKey"}
    if finding.access_key_id is not None:  # a credential report carries no key ids
        key["uid"] = finding.access_key_id
    key["name"] = finding.access_key_id or f"{finding.user} key {finding.key_slot}"
    key["cloud_partition"] = account.partition
    key["data"] = {
        "user": finding.user,
        "user_arn": finding.arn,
        "key_slot": finding.key_slot,
        "active": finding.active,
        "key_created": finding.key_created_utc,
        "last_used": finding.last_used_utc,
    }
    return [key, user]


def _error_event(account: AccountAudit, context: dict[str, Any]) -> dict[str, Any]:
    event = _event(
        Status.ERROR,
        False,
        account_error_id(account),
        ACCOUNT_ERROR_CODE,
        f"Account {account.account_id} could not be audited: {account.error}",
        context,
    )
    event["resources"] = [
        {
            "type": "AwsAccount",
            "uid": account.account_id,
            "name": account.account_name or account.account_id,
            "cloud_partition": account.partition,
        }
    ]
    event["unmapped"] = {
        **context["unmapped"],
        "compliance": _COMPLIANCE[Status.ERROR],
        "error": account.error,
    }
    return event
