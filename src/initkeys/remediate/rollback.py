"""Undo what a journal records: reactivate the keys remediation deactivated.

Deletions cannot be undone (AWS never shows a secret again); they are listed so
that their owners can be told to create new keys.

Reading the journal in order, a key is to be reactivated when its last word is
a deactivation that was applied, or planned with no known outcome (the run was
killed during the call, which AWS may have carried out), and not since
reactivated or deleted. The executor then re-reads each key: only a key that
still exists, with the journaled create date, and is inactive, is reactivated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from initkeys.errors import InputError
from initkeys.remediate.journal import JournalEntry, Phase, iso
from initkeys.remediate.plan import Action, PlannedAction


@dataclass(frozen=True)
class RollbackPlan:
    account_id: str | None
    """The journal's account (None for an empty journal)."""
    reactivate: tuple[PlannedAction, ...]
    deleted: tuple[JournalEntry, ...]
    """Deletions that were applied: they cannot be undone."""
    maybe_deleted: tuple[JournalEntry, ...]
    """Deletions planned whose outcome is unknown (an interrupted run)."""

    @property
    def undoable(self) -> tuple[JournalEntry, ...]:
        return self.deleted + self.maybe_deleted


def plan_rollback(entries: Iterable[JournalEntry]) -> RollbackPlan:
    """What rolling back a journal would do; pure."""
    accounts: set[str] = set()
    deactivated: dict[str, JournalEntry] = {}
    deleted: dict[str, JournalEntry] = {}
    maybe: dict[str, JournalEntry] = {}
    for entry in entries:
        accounts.add(entry.account)
        key = entry.access_key_id
        if entry.action is Action.DEACTIVATE:
            if entry.phase in (Phase.PLANNED, Phase.APPLIED) and entry.before is not None:
                deactivated[key] = entry
            elif entry.phase is Phase.FAILED and entry.after is not None and entry.after.active:
                deactivated.pop(key, None)  # known not to have happened
        elif entry.action is Action.REACTIVATE:
            if entry.phase in (Phase.APPLIED, Phase.ALREADY_DONE):
                deactivated.pop(key, None)
        elif entry.action is Action.DELETE:
            if entry.phase is Phase.APPLIED:
                deleted[key] = entry
                maybe.pop(key, None)
                deactivated.pop(key, None)
            elif entry.phase is Phase.PLANNED:
                maybe[key] = entry
            elif entry.phase is Phase.FAILED and entry.after is not None:
                maybe.pop(key, None)  # the key was still there afterwards
    if len(accounts) > 1:
        raise InputError(
            f"the journal mixes accounts {', '.join(sorted(accounts))}; roll back one at a time"
        )
    reactivate = tuple(
        PlannedAction(
            user=e.user,
            access_key_id=e.access_key_id,
            action=Action.REACTIVATE,
            why=f"deactivated by run {e.run_id[:8]} at {iso(e.time.replace(microsecond=0))}",
            key_created=e.before.create_date if e.before is not None else None,
            expect_active=False,
        )
        for e in deactivated.values()
    )
    return RollbackPlan(
        account_id=next(iter(accounts), None),
        reactivate=reactivate,
        deleted=tuple(deleted.values()),
        maybe_deleted=tuple(maybe.values()),
    )
