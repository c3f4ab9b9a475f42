"""Carry out planned actions in AWS: re-verify each key live, act, journal.

The only module of remediation that calls AWS. Actions run one at a time, in
plan order, each one:

1. re-read: ``ListAccessKeys`` (the key by id, never by slot: its create date
   and status), then, for a deactivation or deletion, ``GetAccessKeyLastUsed``,
   ``GetLoginProfile`` and ``ListUserTags``, and, when the plan says with which
   mode and window (``PlannedAction.setup_window``), ``GetUser``: the key is
   judged again by the evaluator as AWS shows it now;
2. skipped (and journaled) when the key is gone, re-created, used, no longer
   a console user's, exempt by tag, or no longer judged so that the action
   applies (``refused: ...``); ``already-done`` when it is already in the target
   state; an action the plan refused is journaled as skipped and not attempted;
3. journaled as ``planned``, acted on, journaled as ``applied`` or ``failed``.

When a call's answer is lost (connection dropped, 5xx), the key is read again
to learn what really happened, so the journal tells the truth either way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from initkeys.aws import (
    BAD_CREDENTIAL_CODES,
    EXPIRED_CODES,
    AwsContext,
    Identity,
    describe_access_error,
    error_code,
)
from initkeys.aws.errors import unless_missing
from initkeys.errors import InputError
from initkeys.humanize import shown
from initkeys.model import AccessKey, AccountAudit, IamUser, Settings
from initkeys.remediate.journal import (
    EMPTY_HISTORY,
    JournalEntry,
    JournalHistory,
    JournalWriter,
    KeyState,
    Phase,
)
from initkeys.remediate.plan import Action, PlannedAction, judge_again, refusal
from initkeys.sources.aws import EXEMPT_TAG, LiveAccount
from initkeys.timeutil import as_utc, format_utc

if TYPE_CHECKING:
    from initkeys.audit import TrailFor

OutcomeCallback = Callable[["Outcome"], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one planned action."""

    planned: PlannedAction
    phase: Phase
    reason: str
    before: KeyState | None = None
    after: KeyState | None = None
    attempted: bool = True
    """False when the run stopped before this action was looked at."""

    @property
    def ok(self) -> bool:
        return self.phase in (Phase.APPLIED, Phase.ALREADY_DONE)


@dataclass(frozen=True)
class RemediationResult:
    account_id: str
    principal: str
    run_id: str
    journal_path: str
    outcomes: tuple[Outcome, ...]
    stopped: str | None = None
    """Why the run stopped early (credentials or network), if it did."""

    def count(self, phase: Phase) -> int:
        return sum(o.phase is phase for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 all applied or already done (or nothing to do), 1 some skipped or failed,
        3 nothing could be done at all (every action failed or was not attempted)."""
        if all(o.ok for o in self.outcomes):
            return 0
        if all(o.phase is Phase.FAILED or not o.attempted for o in self.outcomes):
            return 3
        return 1


def default_journal_path(account_id: str, now: datetime | None = None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"initkeys-journal-{account_id}-{moment:%Y%m%dT%H%M%SZ}.jsonl"


class Remediator:
    """Acts on one AWS account, the one its :class:`AwsContext` signs in to."""

    def __init__(self, aws: AwsContext, *, policy: str = "remediate") -> None:
        """``policy``: the ``initkeys policy`` a denial names (the event guard has its own)."""
        self.aws = aws
        # The account's reader, with these clients (the event guard reads the user an
        # event names through it). An assumed role's context knows its identity.
        self.account = LiveAccount(self.aws, max_workers=1)
        self._policy = policy

    def whoami(self) -> Identity:
        """The account and acting principal (STS, once); raises AccessError when AWS says no."""
        return self.account.whoami()

    def audit(
        self, settings: Settings | None = None, trail: TrailFor | None = None
    ) -> AccountAudit:
        """A fresh live audit of the account, to plan from (same clients and identity);
        with ``trail`` (``sources.cloudtrail.trail_readers``), with CloudTrail evidence,
        so that a key its own user made is PASS ``self-created`` and left alone."""
        from initkeys.audit import audit_live_account

        return audit_live_account(self.account, settings=settings or Settings(), trail=trail)

    def execute(
        self,
        actions: Sequence[PlannedAction],
        *,
        journal: str | None = None,
        on_outcome: OutcomeCallback | None = None,
        allow_shared_journal: bool = False,
        journal_read: Sequence[JournalEntry] | None = None,
    ) -> RemediationResult:
        """Re-verify and carry out every action that ``acts``, journaling each; an action
        the plan ``refused`` is journaled as skipped, with its reason, and not attempted.

        ``journal`` is appended to when it exists (default:
        ``initkeys-journal-<account>-<UTC time>.jsonl`` in the working directory).
        A journal of another account, a link, anything but a regular file, a file
        that is not a journal, or one others can write to (unless
        ``allow_shared_journal``: rollback warns and goes on) is refused (InputError).
        ``journal_read``: the entries the actions were planned from (rollback); a
        journal that no longer begins with them is refused, nothing done.
        """
        identity = self.whoami()
        path = journal or default_journal_path(identity.account_id)
        run = _Run(self.account, identity, uuid.uuid4().hex, self._policy)
        outcomes: list[Outcome] = []
        with JournalWriter(path, allow_shared=allow_shared_journal) as writer:
            # Read under the writer's lock: no other run is appending now.
            run.history = JournalHistory.of(writer.content.entries)
            if journal_read is not None and (
                writer.content.entries[: len(journal_read)] != tuple(journal_read)
            ):
                raise InputError(
                    f"the journal {path} changed since it was read; nothing was done, "
                    "run the command again"
                )
            others = run.history.accounts - {identity.account_id}
            if others:
                raise InputError(
                    f"the journal {path} is about account {shown(', '.join(sorted(others)))}, but "
                    f"the credentials sign in to {identity.account_id}"
                )
            run.writer = writer
            for planned in actions:
                if not planned.acts:
                    if planned.refused is None or not _journalable(planned):
                        continue
                    outcome = run.done(planned, Phase.SKIPPED, planned.why, None)
                elif run.stopped is None:
                    outcome = run.one(planned)
                else:
                    why = f"not attempted: the run stopped ({run.stopped})"
                    outcome = run.record(Outcome(planned, Phase.SKIPPED, why, attempted=False))
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
        return RemediationResult(
            account_id=identity.account_id,
            principal=identity.arn,
            run_id=run.run_id,
            journal_path=path,
            outcomes=tuple(outcomes),
            stopped=run.stopped,
        )


class _Run:
    """One execution: the IAM client, the journal, and what was decided so far."""

    def __init__(self, account: LiveAccount, identity: Identity, run_id: str, policy: str) -> None:
        self.account = account
        self.policy = policy
        self.iam = account.iam
        self.identity = identity
        self.run_id = run_id
        self.history = EMPTY_HISTORY
        self.writer: JournalWriter | None = None
        self.stopped: str | None = None
        """Set when credentials or the network fail: the next action would fail the same way."""

    # -- journal ---------------------------------------------------------------

    def write(
        self,
        planned: PlannedAction,
        phase: Phase,
        reason: str,
        before: KeyState | None,
        after: KeyState | None,
    ) -> None:
        assert self.writer is not None and planned.action is not None
        assert planned.access_key_id is not None
        self.writer.write(
            JournalEntry(
                time=self.account.aws.now(),
                run_id=self.run_id,
                account=self.identity.account_id,
                principal=self.identity.arn,
                user=planned.user,
                access_key_id=planned.access_key_id,
                action=planned.action,
                phase=phase,
                before=before,
                after=after,
                reason=reason,
                verdict=planned.verdict or None,
            )
        )

    def record(self, outcome: Outcome) -> Outcome:
        """Journal an outcome (before and after as seen)."""
        self.write(outcome.planned, outcome.phase, outcome.reason, outcome.before, outcome.after)
        return outcome

    def done(
        self, planned: PlannedAction, phase: Phase, reason: str, state: KeyState | None
    ) -> Outcome:
        """An outcome where nothing was changed: before and after are the same."""
        return self.record(Outcome(planned, phase, reason, state, state))

    # -- one action --------------------------------------------------------------

    def one(self, planned: PlannedAction) -> Outcome:
        assert planned.action is not None and planned.access_key_id is not None
        action = planned.action
        try:
            state = self.read_key(planned.user, planned.access_key_id)
        except _aws_errors() as exc:
            return self.failed_read(planned, exc, "iam:ListAccessKeys", None)

        if state is None:
            if planned.access_key_id in self.history.deleted:
                return self.done(
                    planned, Phase.ALREADY_DONE, "deleted by an earlier run (see journal)", None
                )
            why = "the key no longer exists"
            if action is Action.REACTIVATE:
                why += "; a deleted key cannot be reactivated"
            return self.done(planned, Phase.SKIPPED, why, None)
        if planned.key_created is not None and not _same_second(
            state.create_date, planned.key_created
        ):
            return self.done(
                planned,
                Phase.SKIPPED,
                f"the key's create date is {format_utc(state.create_date)}, not "
                f"{format_utc(planned.key_created)} as planned",
                state,
            )

        if action is Action.REACTIVATE:
            if state.active:
                return self.done(planned, Phase.ALREADY_DONE, "the key is already active", state)
            return self.act(planned, state)

        if action is Action.DEACTIVATE and not state.active:
            return self.done(planned, Phase.ALREADY_DONE, "the key is already inactive", state)
        try:
            state = self.with_last_use(state, planned.access_key_id)
        except _aws_errors() as exc:
            return self.failed_read(planned, exc, "iam:GetAccessKeyLastUsed", state)
        if state.last_used is not None:
            # Whatever the plan says: a used key is in use somewhere.
            return self.done(
                planned,
                Phase.SKIPPED,
                f"the key has been used (last used {format_utc(state.last_used)}); a used key is "
                "never deactivated or deleted",
                state,
            )
        if action is Action.DELETE and planned.expect_active is False and state.active:
            return self.done(
                planned,
                Phase.SKIPPED,
                "the key was reactivated since the audit: someone may need it; audit again",
                state,
            )
        try:
            blocker = self.user_blocker(planned.user)
        except _aws_errors() as exc:
            return self.failed_read(planned, exc, "iam:GetLoginProfile/ListUserTags", state)
        if blocker is not None:
            return self.done(planned, Phase.SKIPPED, blocker, state)
        if planned.setup_window is not None and planned.mode is not None:
            try:
                refused = self.live_refusal(planned, state)
            except _aws_errors() as exc:
                return self.failed_read(planned, exc, "iam:GetUser", state)
            if refused is not None:
                return self.done(planned, Phase.SKIPPED, "refused: " + refused, state)
        return self.act(planned, state)

    def act(self, planned: PlannedAction, before: KeyState) -> Outcome:
        assert planned.action is not None and planned.access_key_id is not None
        key_id, user = planned.access_key_id, planned.user
        self.write(planned, Phase.PLANNED, planned.why, before, None)
        target: KeyState | None
        if planned.action is Action.DELETE:
            target = None
            call = "iam:DeleteAccessKey"

            def request() -> Any:
                return self.iam.delete_access_key(UserName=user, AccessKeyId=key_id)
        else:
            status = "Active" if planned.action is Action.REACTIVATE else "Inactive"
            target = KeyState(status, before.create_date, before.last_used)
            call = "iam:UpdateAccessKey"

            def request() -> Any:
                return self.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status=status)

        try:
            request()
        except _aws_errors() as exc:
            return self.after_failed_call(planned, before, target, exc, call)
        return self.record(Outcome(planned, Phase.APPLIED, planned.why, before, target))

    def after_failed_call(
        self,
        planned: PlannedAction,
        before: KeyState,
        target: KeyState | None,
        exc: BaseException,
        call: str,
    ) -> Outcome:
        """The call failed, or only its answer did: read the key to know which."""
        assert planned.access_key_id is not None
        problem = self.describe(exc, call)
        try:
            now = self.read_key(planned.user, planned.access_key_id)
        except _aws_errors():
            self.stop_if_fatal(exc, problem)
            return self.record(
                Outcome(planned, Phase.FAILED, f"{problem}; outcome unknown", before, None)
            )
        reached = (
            (now is None) if target is None else (now is not None and now.status == target.status)
        )
        if reached:
            why = f"{planned.why} (AWS applied it though the call reported: {problem})"
            return self.record(Outcome(planned, Phase.APPLIED, why, before, now))
        self.stop_if_fatal(exc, problem)
        return self.record(Outcome(planned, Phase.FAILED, problem, before, now))

    def failed_read(
        self, planned: PlannedAction, exc: BaseException, call: str, state: KeyState | None
    ) -> Outcome:
        problem = self.describe(exc, call)
        self.stop_if_fatal(exc, problem)
        return self.record(Outcome(planned, Phase.FAILED, problem, state, state))

    # -- AWS reads -----------------------------------------------------------------

    def read_key(self, user: str, key_id: str) -> KeyState | None:
        """The key by id (never by slot), or None when it or its user is gone."""
        listed = unless_missing(lambda: self.iam.list_access_keys(UserName=user))
        if listed is None:
            return None
        for m in listed["AccessKeyMetadata"]:
            if m["AccessKeyId"] == key_id:
                return KeyState(status=str(m["Status"]), create_date=as_utc(m["CreateDate"]))
        return None

    def with_last_use(self, state: KeyState, key_id: str) -> KeyState:
        answer = self.iam.get_access_key_last_used(AccessKeyId=key_id)
        used = answer.get("AccessKeyLastUsed", {}).get("LastUsedDate")
        return KeyState(state.status, state.create_date, as_utc(used) if used is not None else None)

    def live_refusal(self, planned: PlannedAction, state: KeyState) -> str | None:
        """Why the evaluator, judging the key as AWS shows it now (with the plan's mode
        and window), does not give the planned action; None when it does. The caller
        has checked that the user still has a console password."""
        assert planned.action is not None and planned.setup_window is not None
        assert planned.mode is not None and planned.access_key_id is not None
        user = self.iam.get_user(UserName=planned.user)["User"]
        judged = judge_again(
            IamUser(
                name=planned.user,
                arn=str(user.get("Arn", "")),
                created=as_utc(user["CreateDate"]),
                console_password=True,
            ),
            AccessKey(
                slot=planned.key_slot or 1,
                created=state.create_date,
                active=state.active,
                last_used=state.last_used,
                access_key_id=planned.access_key_id,
            ),
            planned.mode,
            planned.setup_window,
        )
        return refusal(planned.action, judged)

    def user_blocker(self, user: str) -> str | None:
        """Why the user's keys must not be touched now, or None."""
        if unless_missing(lambda: self.iam.get_login_profile(UserName=user)) is None:
            return "the user has no console password now, so the control no longer applies"
        # Read again: a tag added since the audit still protects the user's keys.
        tag = self.account.exempt_tag(user)
        if tag is not None:
            return f"the user is exempt by the IAM tag {EXEMPT_TAG} ({tag or 'no reason given'})"
        return None

    # -- errors --------------------------------------------------------------------

    def describe(self, exc: BaseException, call: str) -> str:
        return describe_access_error(exc, call, self.account.aws, policy=self.policy)

    def stop_if_fatal(self, exc: BaseException, problem: str) -> None:
        """Stop the run after credential and network failures (botocore has already
        retried the network ones); a denied or failed call stops only its own action."""
        from botocore import exceptions as bce

        code = error_code(exc)
        if (
            code in EXPIRED_CODES
            or code in BAD_CREDENTIAL_CODES
            or isinstance(
                exc,
                (
                    bce.NoCredentialsError,
                    bce.ConnectionError,
                    bce.HTTPClientError,
                    bce.ReadTimeoutError,
                    bce.ConnectTimeoutError,
                ),
            )
        ):
            self.stopped = problem


def _journalable(planned: PlannedAction) -> bool:
    return planned.action is not None and planned.access_key_id is not None


def _aws_errors() -> tuple[type[BaseException], ...]:
    """What AWS (or the way to it) can raise; anything else is a bug and propagates."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError  # an answer that is not AWS's: not a bug

    return (BotoCoreError, ClientError, ResponseParserError)


def _same_second(a: datetime, b: datetime) -> bool:
    # AWS reports create dates to the second; the emulator adds microseconds.
    return a.astimezone(timezone.utc).replace(microsecond=0) == b.astimezone(timezone.utc).replace(
        microsecond=0
    )
