"""Remediation and rollback across accounts: plan, then act, as functions.

Nothing here prints, asks or exits: results come back to the caller (the command
line renders them and asks before acting) and failures are raised as
:class:`~initkeys.errors.InputError` or :class:`~initkeys.errors.AccessError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from initkeys.aws import AwsContext, Identity
from initkeys.errors import AccessError, InputError
from initkeys.model import Mode, Settings
from initkeys.remediate.plan import AccountPlan, PlannedAction, plan_remediation
from initkeys.sources.accounts import AccountSelection

if TYPE_CHECKING:
    from initkeys.audit import TrailFor
    from initkeys.remediate.execute import OutcomeCallback, RemediationResult, Remediator
    from initkeys.remediate.from_audit import AuditReport
    from initkeys.remediate.journal import JournalEntry
    from initkeys.remediate.rollback import RollbackPlan


@dataclass(frozen=True)
class PlannedAccount:
    """One account's plan, and the remediator that acts on it (None: not planned)."""

    plan: AccountPlan
    remediator: Remediator | None = None

    @property
    def work(self) -> list[PlannedAction]:
        """What execution goes through: actions, and refusals to journal."""
        return [p for p in self.plan.planned if p.acts or p.refused is not None]


def plan_account(
    remediator: Remediator,
    report: AuditReport | None,
    settings: Settings,
    *,
    delete: bool,
    trail: TrailFor | None = None,
) -> PlannedAccount:
    """The plan for the account ``remediator`` signs in to (AccessError if it cannot be read):
    from the approved report's findings (with today's exemption rules), judged in its mode
    and window, or from a fresh live audit's (with CloudTrail evidence when ``trail``)."""
    identity = remediator.whoami()
    if report is not None:
        from initkeys.evaluate.verdicts import with_exemption_rules

        audited = report.account(identity.account_id).findings
        findings = with_exemption_rules(audited, settings)
        mode, window = report.mode, report.setup_window
    else:
        findings = tuple(remediator.audit(settings, trail).findings)
        mode, window = settings.mode, settings.setup_window
    planned = plan_remediation(findings, mode=mode, delete=delete, setup_window=window)
    return PlannedAccount(AccountPlan(identity.account_id, identity.arn, planned), remediator)


def remediator_for(own: Remediator, account_id: str, selection: AccountSelection) -> Remediator:
    """``own`` for its own account; for any other, a Remediator through the selection's
    role, which must sign in to that account (a misconfigured role must not act elsewhere)."""
    from initkeys.remediate.execute import Remediator
    from initkeys.sources.accounts import context_for

    me = own.whoami()
    if account_id == me.account_id:
        return own
    reached_by = context_for(own.aws, me.account_id, me.partition, account_id, selection)
    remediator = Remediator(reached_by)
    reached = remediator.whoami().account_id
    if reached != account_id:
        raise AccessError(f"the role's credentials sign in to account {reached}, not {account_id}")
    return remediator


def plan_accounts(
    aws: AwsContext,
    selection: AccountSelection,
    report: AuditReport | None,
    settings: Settings,
    *,
    delete: bool,
    trail: TrailFor | None = None,
) -> list[PlannedAccount]:
    """Every selected account's plan, in order; one that cannot be planned is an
    :class:`AccountPlan` with its ``error`` (and no remediator), and the others go on."""
    from initkeys.app.audit import select_targets
    from initkeys.remediate.execute import Remediator

    own = Remediator(aws)
    planned: list[PlannedAccount] = []
    for target in select_targets(aws, selection):
        try:
            remediator = remediator_for(own, target.account_id, selection)
            planned.append(plan_account(remediator, report, settings, delete=delete, trail=trail))
        except (AccessError, InputError) as exc:
            planned.append(PlannedAccount(AccountPlan(target.account_id, None, error=str(exc))))
    return planned


def journal_directory(given: str | None, now: datetime | None = None) -> str:
    """--journal-dir, or ``initkeys-journals-<UTC time>``."""
    moment = now or datetime.now(timezone.utc)
    return given or f"initkeys-journals-{moment:%Y%m%dT%H%M%SZ}"


def account_journal(directory: str, account_id: str) -> str:
    return os.path.join(directory, f"initkeys-journal-{account_id}.jsonl")


def execute_actions(
    remediator: Remediator,
    actions: Sequence[PlannedAction],
    journal: str,
    *,
    on_outcome: OutcomeCallback | None = None,
    read: Sequence[JournalEntry] | None = None,
) -> RemediationResult:
    """Carry out ``actions``, journaled to ``journal``; ``read``: rollback's journal as it
    was read and planned from (the run goes on if others can write it, as long as it
    has not changed)."""
    return remediator.execute(
        actions,
        journal=journal,
        on_outcome=on_outcome,
        allow_shared_journal=read is not None,
        journal_read=read,
    )


def nothing_done(result: RemediationResult) -> AccessError | None:
    """The error for a run in which nothing could be done (exit 3), else None."""
    if result.exit_code != 3:
        return None
    first = next(o.reason for o in result.outcomes if o.attempted)
    return AccessError(f"nothing could be done: {first} (journal: {result.journal_path})")


@dataclass(frozen=True)
class PlanOutput:
    """Where ``--plan-out`` writes the plan (nowhere without it), and what it came from."""

    path: str | None
    source: str

    def write(self, plans: Sequence[AccountPlan], mode: Mode, delete: bool, apply_: bool) -> None:
        if self.path is None:
            return
        import json

        from initkeys.outputs import atomic_file
        from initkeys.remediate.plan import plan_document

        document = plan_document(
            plans,
            generated_at=datetime.now(timezone.utc).replace(microsecond=0),
            source=self.source,
            mode=mode,
            delete=delete,
            apply=apply_,
        )
        with atomic_file(self.path) as out:
            json.dump(document, out, indent=2)
            out.write("\n")


def read_rollback(
    journal: str, warn: Callable[[str], None] | None = None
) -> tuple[tuple[JournalEntry, ...], RollbackPlan]:
    """``journal``'s entries and its rollback plan (InputError unless it is a journal);
    read before any AWS call."""
    from initkeys.remediate.journal import read_journal
    from initkeys.remediate.rollback import plan_rollback

    entries = tuple(read_journal(journal, warn=warn))
    return entries, plan_rollback(entries)


def rollback_remediator(
    aws: AwsContext, journal: str, plan: RollbackPlan, selection: AccountSelection
) -> tuple[Remediator, Identity]:
    """Who acts on ``journal``'s account: the credentials' own account, or the journal's
    through the selection's role; InputError when neither signs in to it."""
    from initkeys.remediate.execute import Remediator

    remediator = Remediator(aws)
    identity = remediator.whoami()
    if (
        plan.account_id is not None
        and plan.account_id != identity.account_id
        and selection.role_name
    ):
        # A journal of an --org or --accounts run: reach its account through the role.
        remediator = remediator_for(remediator, plan.account_id, selection)
        identity = remediator.whoami()
    if plan.account_id is not None and plan.account_id != identity.account_id:
        raise InputError(
            f"the journal {journal} is about account {plan.account_id}, but the credentials "
            f"sign in to account {identity.account_id} (pass --role-name to reach it)"
        )
    return remediator, identity
