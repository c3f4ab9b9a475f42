"""The guard's AWS side: read the user an event names, then act and notify.

With remediation, the only place the guard uses boto3. It reuses both of the
project's AWS paths rather than copying them:

Both go through one :class:`~initkeys.aws.AwsContext` (its clients, its retries):

- reading: :class:`~initkeys.sources.aws.LiveAccount` (``GetUser``, then
  ``ListAccessKeys``, ``GetLoginProfile``, ``GetAccessKeyLastUsed`` and
  ``ListUserTags`` through ``read_user``, as a live audit re-reads a user);
- deactivating: :class:`~initkeys.remediate.execute.Remediator`, which reads the
  key again right before ``UpdateAccessKey Status=Inactive`` and skips it when it
  has been used, is gone, is no longer a console user's or is exempt by tag; and
  journals every step. Never ``DeleteAccessKey``: a guard acts without a human
  in the loop, so it only does what ``initkeys rollback`` can undo.

Then one ``sns:Publish`` of the JSON message (:mod:`initkeys.guard.message`).
boto3 loads lazily, as everywhere in initkeys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from initkeys._version import __version__
from initkeys.aws import AwsContext, access_errors
from initkeys.errors import AccessError
from initkeys.guard.config import GuardAction, GuardConfig, topic_region
from initkeys.guard.decide import GuardDecision, decide
from initkeys.guard.event import GuardEvent, IrrelevantEvent
from initkeys.guard.message import guard_document, subject
from initkeys.remediate.execute import Outcome, Remediator
from initkeys.remediate.journal import Phase


@dataclass(frozen=True)
class GuardResult:
    """A decision and what was done about it."""

    decision: GuardDecision
    document: dict[str, Any]
    """The JSON message (what was, or would be, notified)."""
    applied: bool
    outcomes: tuple[Outcome, ...] = ()
    message_id: str | None = None
    """The SNS message id, when a notification was sent."""
    journal: str | None = None
    notify_error: str | None = None
    """Why the notification could not be sent (the actions above stand)."""

    @property
    def failed(self) -> bool:
        """True when a deactivation was attempted and did not happen."""
        return any(o.phase is Phase.FAILED for o in self.outcomes)


class Guard:
    """The guard for the account its :class:`AwsContext` signs in to."""

    def __init__(self, aws: AwsContext, config: GuardConfig | None = None) -> None:
        self.config = config or GuardConfig()
        self.aws = aws
        self._remediator = Remediator(aws, policy="guard")

    def decide(self, event: GuardEvent, now: datetime) -> GuardDecision:
        """Read the user the event names, live, and decide (changes nothing).

        Raises :class:`IrrelevantEvent` for an event of another account, and
        AccessError when AWS cannot be read."""
        identity = self._remediator.whoami()
        if identity.account_id != event.account_id:
            raise IrrelevantEvent(
                f"the event is about account {event.account_id}, but the guard runs in "
                f"{identity.account_id}: it only reads and acts in its own account"
            )
        user = None
        if not event.self_created:  # the event alone decides: no read needed
            account = self._remediator.account
            with access_errors(
                "iam:GetUser/ListAccessKeys/GetLoginProfile", self.aws, policy="guard"
            ):
                listed = account.get_user(event.user_name)
                if listed is not None:
                    user = account.read_user(listed)
        return decide(event, user, self.config.settings, now)

    def preview(self, decision: GuardDecision) -> GuardResult:
        """What :meth:`act` would do, without doing it (a dry run)."""
        return GuardResult(decision, self._document(decision, False, ()), applied=False)

    def act(self, decision: GuardDecision, *, journal: str) -> GuardResult:
        """Deactivate (with ``deactivate``) the setup keys the decision found, then notify.

        Nothing happens for a decision that is not an alert. Each deactivation is
        re-verified live and journaled to ``journal``. A notification that cannot be
        sent is ``notify_error``, not an exception: what was done must still be reported.
        """
        if not decision.alert:
            return GuardResult(decision, self._document(decision, True, ()), applied=True)
        outcomes: tuple[Outcome, ...] = ()
        used_journal = None
        if self.config.action is GuardAction.DEACTIVATE and decision.actions:
            result = self._remediator.execute(decision.actions, journal=journal)
            outcomes, used_journal = result.outcomes, result.journal_path
        document = self._document(decision, True, outcomes)
        message_id = notify_error = None
        if self.config.topic_arn is not None:
            try:
                message_id = self._publish(self.config.topic_arn, document)
            except AccessError as exc:
                notify_error = str(exc)
        return GuardResult(
            decision, document, True, outcomes, message_id, used_journal, notify_error
        )

    def _document(
        self, decision: GuardDecision, applied: bool, outcomes: tuple[Outcome, ...]
    ) -> dict[str, Any]:
        return guard_document(
            decision,
            action=self.config.action,
            applied=applied,
            outcomes=outcomes,
            tool_version=__version__,
        )

    def _publish(self, topic_arn: str, document: dict[str, Any]) -> str:
        with access_errors("sns:Publish", self.aws, policy="guard"):
            sns = self.aws.client("sns", topic_region(topic_arn))
            answer = sns.publish(
                TopicArn=topic_arn,
                Subject=subject(document),
                Message=json.dumps(document, ensure_ascii=False),
            )
        message_id = answer.get("MessageId")
        if not isinstance(message_id, str):
            raise AccessError(f"sns:Publish to {topic_arn} returned no message id")
        return message_id
