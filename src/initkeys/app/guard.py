"""The event guard run on one event, as ``initkeys guard simulate`` runs it: decide, then
(with ``apply``) act and notify. Nothing printed, nothing exited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from initkeys.guard.decide import GuardDecision
from initkeys.guard.event import GuardEvent
from initkeys.guard.runner import Guard, GuardResult


def simulate(
    guard: Guard,
    event: GuardEvent,
    now: datetime,
    *,
    apply: bool = False,
    journal: str | None = None,
    confirm: Callable[[GuardDecision], None] | None = None,
) -> GuardResult:
    """Decide on ``event`` reading its user live; with ``apply`` and an alert, ``confirm``
    (which may end the run), then act (journaled to ``journal``, default
    ``initkeys-journal-<account>-<UTC time>.jsonl``) and notify; otherwise a preview."""
    from initkeys.remediate.execute import default_journal_path

    decision = guard.decide(event, now)
    if not (apply and decision.alert):
        return guard.preview(decision)
    if confirm is not None:
        confirm(decision)
    return guard.act(decision, journal=journal or default_journal_path(event.account_id))
