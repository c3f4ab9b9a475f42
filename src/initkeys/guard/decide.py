"""The guard's decision: was a setup key just made for a console user? A pure function.

No I/O, no clock: the event, the user as read live, the settings and ``now``
come in as arguments, so the Lambda function, ``initkeys guard simulate`` and
the tests all decide the same way. The verdicts are the evaluator's
(:func:`~initkeys.evaluate.judge_user`) and what may be acted on is the
remediation plan's (:func:`~initkeys.remediate.plan.plan_remediation`): the
guard adds only what the event tells, which is who made the key.

| event                                      | decision        | acted on |
|--------------------------------------------|-----------------|----------|
| CreateAccessKey by the key's own IAM user  | ``self-created``| never    |
| CreateAccessKey: the key is a FAIL         | ``setup-key``   | that key |
| CreateLoginProfile: a key of the user FAILs| ``setup-key``   | those keys |
| a FAIL key whose user is exempt            | ``exempt``      | never    |
| anything else (PASS, WARNING, N/A)         | ``no-setup-key``| never    |
| the user or the key no longer exists       | ``user-gone`` / ``key-gone`` | never |

Judged in ``setup`` mode only: every key is unused the moment it is made, so in
``cis`` mode the guard would deactivate every key anyone made for a console user.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from initkeys.evaluate.verdicts import judge_user
from initkeys.guard.event import GuardEvent
from initkeys.model import EventName, Finding, IamUser, Mode, Settings, Status
from initkeys.remediate.plan import PlannedAction, describe_exemption, plan_remediation


class Verdict(str, enum.Enum):
    """What the guard concluded about one event."""

    SETUP_KEY = "setup-key"
    """A console user has an unused key made with the user: act."""
    SELF_CREATED = "self-created"
    NO_SETUP_KEY = "no-setup-key"
    EXEMPT = "exempt"
    USER_GONE = "user-gone"
    KEY_GONE = "key-gone"


@dataclass(frozen=True)
class GuardDecision:
    event: GuardEvent
    verdict: Verdict
    message: str
    """One sentence for people (the notification's, the log's)."""
    decided_at: datetime
    setup_window_seconds: int
    user_arn: str | None = None
    findings: tuple[Finding, ...] = ()
    """The evaluator's verdicts on the keys the event is about (or on the user,
    when it has no console password or no keys)."""
    plan: tuple[PlannedAction, ...] = ()
    """One entry per key finding; those that ``acts`` are the keys to deactivate."""

    @property
    def alert(self) -> bool:
        """True when a setup key of a console user was just made: notify, and act."""
        return self.verdict is Verdict.SETUP_KEY

    @property
    def actions(self) -> tuple[PlannedAction, ...]:
        """The keys to deactivate (each re-verified live right before)."""
        return tuple(p for p in self.plan if p.acts)


def decide(
    event: GuardEvent, user: IamUser | None, settings: Settings, now: datetime
) -> GuardDecision:
    """Decide on ``event`` given ``user`` as read live right after it.

    ``user`` is None when the user no longer exists, or was not read because the
    event alone decides (a self-created key). ``now`` dates exemption expiry.
    """
    settings = replace(settings, mode=Mode.SETUP, today=now.date())
    verdict, message, findings = _judge(event, user, settings)
    return GuardDecision(
        event=event,
        verdict=verdict,
        message=message,
        decided_at=now,
        setup_window_seconds=int(settings.setup_window.total_seconds()),
        user_arn=user.arn if user is not None else None,
        findings=findings,
        plan=plan_remediation(findings, mode=Mode.SETUP) if verdict is Verdict.SETUP_KEY else (),
    )


def _judge(
    event: GuardEvent, user: IamUser | None, settings: Settings
) -> tuple[Verdict, str, tuple[Finding, ...]]:
    if event.self_created:
        return (
            Verdict.SELF_CREATED,
            f"{event.user_name} made the key {event.access_key_id} itself, as a separate step "
            "(what the control asks for); the guard never acts on it.",
            (),
        )
    if user is None:
        return Verdict.USER_GONE, f"The user {event.user_name} no longer exists.", ()
    findings = judge_user(user, settings)
    if event.event_name == EventName.CREATE_ACCESS_KEY:
        if not any(k.access_key_id == event.access_key_id for k in user.keys):
            return (
                Verdict.KEY_GONE,
                f"The key {event.access_key_id} of {user.name} no longer exists.",
                (),
            )
        if user.console_password:
            # Only the new key is in question; the user's other keys are the audit's.
            findings = [f for f in findings if f.access_key_id == event.access_key_id]
    details = " ".join(f.message for f in findings)
    failing = [f for f in findings if f.status is Status.FAIL]
    exempt = [f for f in failing if f.exemption is not None]
    if len(exempt) < len(failing):
        made = (
            "made a key for"
            if event.event_name == EventName.CREATE_ACCESS_KEY
            else "gave a password to"
        )
        return (
            Verdict.SETUP_KEY,
            f"{event.actor.describe()} {made} {user.name}: a setup key of a console user. "
            + details,
            tuple(findings),
        )
    if exempt:
        return (
            Verdict.EXEMPT,
            f"{details} Kept: {user.name} is exempt, {describe_exemption(exempt[0])}.",
            tuple(findings),
        )
    return Verdict.NO_SETUP_KEY, details, tuple(findings)
