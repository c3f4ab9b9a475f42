"""The guard's JSON message: the SNS notification, the Lambda log line, and
``initkeys guard simulate --format json`` are this one document.

Pure. It carries ids, names, times and verdicts, never a secret: the guard
never sees one (CloudTrail does not record it, ``ListAccessKeys`` has none), and
nothing of the event is copied but the fields :mod:`initkeys.guard.event` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from initkeys.formats.json_format import finding_fields
from initkeys.guard.config import GuardAction
from initkeys.guard.decide import GuardDecision
from initkeys.model import Finding
from initkeys.remediate.execute import Outcome
from initkeys.timeutil import format_utc

SCHEMA_VERSION = 1

# A key's fields in the message, in this order (then exemption and message).
_KEY_FIELDS = ("access_key_id", "status", "reason", "active")
_KEY_TIMES = ("user_created", "key_created", "last_used", "setup_gap_seconds")

# SNS takes a subject of up to 100 printable ASCII characters.
_SUBJECT_LIMIT = 100


def guard_document(
    decision: GuardDecision,
    *,
    action: GuardAction,
    applied: bool,
    outcomes: Sequence[Outcome] = (),
    tool_version: str,
) -> dict[str, Any]:
    """The decision, what was (or, ``applied`` False, would be) done, as JSON data.

    ``outcomes`` are the deactivations' results, re-verified live (empty for a
    dry run or ``notify``)."""
    event = decision.event
    acting = (
        {p.access_key_id for p in decision.actions} if action is GuardAction.DEACTIVATE else set()
    )
    by_key = {o.planned.access_key_id: o for o in outcomes}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "initkeys", "version": tool_version},
        "control": "CIS AWS Foundations 1.11",
        "decided_at": format_utc(decision.decided_at),
        "account_id": event.account_id,
        "region": event.region,
        "event": {
            "id": event.event_id,
            "name": str(event.event_name),
            "time": format_utc(event.event_time),
        },
        "created_by": {
            "type": event.actor.type,
            "arn": event.actor.arn,
            "name": event.actor.name,
        },
        "user": event.user_name,
        "user_arn": decision.user_arn,
        "access_key_id": event.access_key_id,
        "decision": decision.verdict.value,
        "setup_window_seconds": decision.setup_window_seconds,
        "message": decision.message,
        "action": action.value,
        "applied": applied,
        "keys": [
            _key(f, f.access_key_id in acting, by_key.get(f.access_key_id), applied)
            for f in decision.findings
            if f.key_slot is not None
        ],
    }


def _key(finding: Finding, acts: bool, outcome: Outcome | None, applied: bool) -> dict[str, Any]:
    if outcome is not None:
        result: str | None = outcome.phase.value
    elif acts:
        result = "applied" if applied else "dry-run"
    else:
        result = None
    # The report's shape of a finding, less what an alert does not need; the
    # exemption is its reason alone.
    fields = finding_fields(finding)
    exemption = fields["exemption"]
    return {
        **{name: fields[name] for name in (*_KEY_FIELDS, *_KEY_TIMES)},
        "exemption": exemption["reason"] if exemption is not None else None,
        "message": fields["message"],
        "deactivate": acts,
        "outcome": result,
        "outcome_reason": outcome.reason if outcome is not None else None,
    }


def subject(document: dict[str, Any]) -> str:
    """The notification's subject: what happened to whom, in printable ASCII."""
    user = document["user"]
    phases = [k["outcome"] for k in document["keys"] if k["deactivate"]]
    if not phases:
        text = f"initkeys guard: setup key made for console user {user}"
    elif all(p in ("applied", "already-done") for p in phases):
        text = f"initkeys guard: setup key of console user {user} deactivated"
    else:
        text = f"initkeys guard: setup key of console user {user} NOT deactivated"
    printable = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return printable[:_SUBJECT_LIMIT]
