"""Remediation: act on an audit's verdicts, safely, and undo it.

The pipeline::

    findings ──plan_remediation──▶ PlannedAction ... ──Remediator.execute──▶ journal + AWS
    journal  ──plan_rollback─────▶ PlannedAction ... ──Remediator.execute──▶ journal + AWS

``plan`` is pure; ``execute`` re-reads every key right before acting and
journals every step; ``from_audit`` reads a saved JSON audit back. Example::

    import initkeys
    from initkeys.remediate import Remediator, plan_remediation

    remediator = Remediator(initkeys.AwsContext.open(profile="prod"))
    planned = plan_remediation(remediator.audit().findings)          # deactivate
    result = remediator.execute(planned, journal="journal.jsonl")
    print(result.exit_code, [(o.phase, o.planned.access_key_id) for o in result.outcomes])

Names load on first use (PEP 562), so importing the package costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Action": "initkeys.remediate.plan",
    "PlannedAction": "initkeys.remediate.plan",
    "plan_remediation": "initkeys.remediate.plan",
    "Outcome": "initkeys.remediate.execute",
    "RemediationResult": "initkeys.remediate.execute",
    "Remediator": "initkeys.remediate.execute",
    "JournalEntry": "initkeys.remediate.journal",
    "KeyState": "initkeys.remediate.journal",
    "Phase": "initkeys.remediate.journal",
    "read_journal": "initkeys.remediate.journal",
    "AuditReport": "initkeys.remediate.from_audit",
    "read_audit_report": "initkeys.remediate.from_audit",
    "RollbackPlan": "initkeys.remediate.rollback",
    "plan_rollback": "initkeys.remediate.rollback",
}

__all__ = [
    "Action",
    "AuditReport",
    "JournalEntry",
    "KeyState",
    "Outcome",
    "Phase",
    "PlannedAction",
    "RemediationResult",
    "Remediator",
    "RollbackPlan",
    "plan_remediation",
    "plan_rollback",
    "read_audit_report",
    "read_journal",
]

if TYPE_CHECKING:
    from initkeys.remediate.execute import Outcome, RemediationResult, Remediator
    from initkeys.remediate.from_audit import AuditReport, read_audit_report
    from initkeys.remediate.journal import JournalEntry, KeyState, Phase, read_journal
    from initkeys.remediate.plan import Action, PlannedAction, plan_remediation
    from initkeys.remediate.rollback import RollbackPlan, plan_rollback


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'initkeys.remediate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
