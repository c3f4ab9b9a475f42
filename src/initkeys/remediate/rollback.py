"""Undo what a journal records: reactivate the keys remediation deactivated.

Deletions cannot be undone (AWS never shows a secret again); they are listed so
that their owners can be told to create new keys.

A journal is trusted only as far as it is consistent: rollback restores the
recorded ``before`` state, nothing more. Reading the journal in order, a key is
to be reactivated when its last word is a deactivation that was applied, or
planned with no known outcome (the run was killed during the call, which AWS
may have carried out), and not since reactivated or deleted; and only when
the journal says the key was ``Active`` before. An ``applied`` line counts only
after the ``planned`` line of the same run, key and action (the executor always
writes that first). Every line that would have led to an action and breaks
these rules is refused and listed with why. The executor then re-reads each
key: only a key that still exists, with the journaled create date, and is
inactive, is reactivated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from initkeys.errors import InputError
from initkeys.humanize import shown
from initkeys.remediate.journal import JournalEntry, Phase
from initkeys.remediate.plan import Action, PlannedAction
from initkeys.timeutil import format_utc


@dataclass(frozen=True)
class RollbackPlan:
    account_id: str | None
    """The journal's account (None for an empty journal)."""
    reactivate: tuple[PlannedAction, ...]
    deleted: tuple[JournalEntry, ...]
    """Deletions that were applied: they cannot be undone."""
    maybe_deleted: tuple[JournalEntry, ...]
    """Deletions planned whose outcome is unknown (an interrupted run)."""
    refused: tuple[RefusedLine, ...] = ()
    """Lines that are not what a genuine run writes: not acted on."""

    @property
    def undoable(self) -> tuple[JournalEntry, ...]:
        return self.deleted + self.maybe_deleted


@dataclass(frozen=True)
class RefusedLine:
    """A journal line rollback did not act on, and why."""

    line: int
    """Its number in the journal (1 is the first entry)."""
    entry: JournalEntry
    why: str


def plan_rollback(entries: Iterable[JournalEntry]) -> RollbackPlan:
    """What rolling back a journal would do; pure."""
    accounts: set[str] = set()
    deactivated: dict[str, JournalEntry] = {}
    deleted: dict[str, JournalEntry] = {}
    maybe: dict[str, JournalEntry] = {}
    # Planned lines not yet followed by their applied line: (run, key, action) → line.
    planned: dict[tuple[str, str, Action], JournalEntry] = {}
    refused: list[RefusedLine] = []
    for number, entry in enumerate(entries, start=1):
        accounts.add(entry.account)
        key = entry.access_key_id
        slot = (entry.run_id, key, entry.action)
        if entry.phase is Phase.PLANNED:
            why = _bad_planned(entry)
            if why is not None:
                refused.append(RefusedLine(number, entry, why))
                continue
            planned[slot] = entry
        elif entry.phase is Phase.APPLIED:
            why = _bad_applied(entry, planned.pop(slot, None))
            if why is not None:
                refused.append(RefusedLine(number, entry, why))
                continue
        if entry.action is Action.DEACTIVATE:
            if entry.phase in (Phase.PLANNED, Phase.APPLIED):
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
            f"the journal mixes accounts {shown(', '.join(sorted(accounts)))}; "
            "roll back one at a time"
        )
    reactivate = tuple(
        PlannedAction(
            user=e.user,
            access_key_id=e.access_key_id,
            action=Action.REACTIVATE,
            why=f"deactivated by run {e.run_id[:8]} at {format_utc(e.time, 'seconds')}",
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
        refused=tuple(refused),
    )


def _bad_planned(entry: JournalEntry) -> str | None:
    """Why a planned line cannot be a genuine run's, or None."""
    if entry.action is Action.DEACTIVATE:
        return _not_active_before(entry)
    if entry.before is None:
        return "a planned line without the key's state before it"
    return None


def _bad_applied(entry: JournalEntry, planned: JournalEntry | None) -> str | None:
    """Why an applied line cannot be a genuine run's, or None."""
    if entry.action is Action.DEACTIVATE:
        why = _not_active_before(entry)
        if why is not None:
            return why
    if planned is None:
        return (
            f"{entry.action.value} applied without its planned line before it "
            "(same run, key and action)"
        )
    if entry.before is None or planned.before is None:
        return "an applied line without the key's state before it"
    if entry.before.create_date != planned.before.create_date or entry.user != planned.user:
        return "its key (user, create date) differs from its planned line's"
    return None


def _not_active_before(entry: JournalEntry) -> str | None:
    if entry.before is None:
        return "the journal does not say the key was Active before the deactivation"
    if not entry.before.active:
        return (
            f"the journal says the key was {entry.before.status} before, so deactivating "
            "it changed nothing and rollback will not activate it"
        )
    return None
