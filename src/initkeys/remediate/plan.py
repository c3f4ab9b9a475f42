"""What remediation would do to each key: a pure function of findings and options.

The table of ``docs/verdicts.md``, "What remediation may touch":

| finding                                             | --apply    | --apply --delete |
|-----------------------------------------------------|------------|------------------|
| FAIL setup-key-unused (or any FAIL in cis mode)     | deactivate | delete           |
| WARNING setup-key-inactive                          | nothing    | delete           |
| anything else, and every exempted finding           | nothing    | nothing          |

No boto3, no I/O, no clock: the plan is what a human reviews, and what the
executor re-verifies live before every action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from initkeys.evaluate.verdicts import judge_key
from initkeys.humanize import describe_gap
from initkeys.model import AccessKey, Finding, IamUser, Mode, Reason, Settings, Status, TextEnum
from initkeys.timeutil import format_utc


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One key and what to do with it; ``action`` None means it is left alone."""

    user: str
    access_key_id: str | None
    action: Action | None
    why: str
    status: Status | None = None
    """The finding's verdict (None for rollback, which acts on a journal)."""
    reason: Reason | None = None
    key_created: datetime | None = None
    """The creation time the audit saw; the live key must still have it."""
    expect_active: bool | None = None
    """The status the audit saw (True: Active); None when unknown."""
    key_slot: int | None = None
    exempt: bool = False
    refused: str | None = None
    """Why the action the finding asks for is refused: its verdict does not follow from
    its own data (a forged or edited report). A refused action is journaled as skipped."""
    setup_window: timedelta | None = None
    """With ``mode``: the settings the executor judges the live key with right before
    acting (the action must still be what initkeys decides); None: not judged again."""
    mode: Mode | None = None

    @property
    def acts(self) -> bool:
        return self.action is not None and self.access_key_id is not None and self.refused is None

    @property
    def verdict(self) -> str:
        """``FAIL setup-key-unused``, or ``""`` for rollback actions."""
        if self.status is None or self.reason is None:
            return ""
        return f"{self.status.value} {self.reason.value}"


class Action(TextEnum):
    """What is done to one key. ``reactivate`` is only ever done by rollback."""

    DEACTIVATE = "deactivate"
    DELETE = "delete"
    REACTIVATE = "reactivate"


def plan_remediation(
    findings: Iterable[Finding],
    *,
    mode: Mode = Mode.SETUP,
    delete: bool = False,
    setup_window: timedelta | None = None,
) -> tuple[PlannedAction, ...]:
    """One entry per key finding (user-level findings have no key and are left out).

    ``mode`` is the mode the findings were judged in; ``delete`` asks for
    deletion instead of deactivation. A key id that appears twice is planned once.
    With ``setup_window`` (the window the findings were judged with), findings are
    trusted only as far as the evaluator agrees: each verdict that asks for an
    action is judged again from the finding's own dates (an action they do not
    give is ``refused``), and the executor judges the live key again before acting.
    """
    planned: list[PlannedAction] = []
    seen: set[str] = set()
    for finding in findings:
        if finding.key_slot is None and finding.access_key_id is None:
            continue
        if finding.access_key_id is not None:
            if finding.access_key_id in seen:
                continue
            seen.add(finding.access_key_id)
        action, why = _decide(finding, mode, delete)
        refused = None
        if setup_window is not None and action is not None:
            refused = refusal(action, _rejudged(finding, mode, setup_window))
            if refused is not None:
                why = "refused: " + refused
        planned.append(
            PlannedAction(
                user=finding.user,
                access_key_id=finding.access_key_id,
                action=action,
                status=finding.status,
                reason=finding.reason,
                key_created=finding.key_created,
                expect_active=finding.active,
                key_slot=finding.key_slot,
                exempt=finding.exemption is not None,
                why=why,
                refused=refused,
                setup_window=setup_window,
                mode=mode if setup_window is not None else None,
            )
        )
    return tuple(planned)


def refusal(action: Action, judged: Finding | str) -> str | None:
    """Why ``action`` may not be done to a key the evaluator judged ``judged`` (a string:
    why it could not be judged), or None: FAIL for deactivate; FAIL or
    ``setup-key-inactive`` for delete (the table of "What remediation may touch")."""
    if isinstance(judged, str):
        return judged
    if judged.status is Status.FAIL or (
        action is Action.DELETE and judged.reason is Reason.SETUP_KEY_INACTIVE
    ):
        return None
    return (
        f"initkeys judges this key {judged.status.value} {judged.reason.value}{_made(judged)}; "
        + (
            "only FAIL and setup-key-inactive keys are deleted"
            if action is Action.DELETE
            else "only FAIL keys are deactivated"
        )
    )


def judge_again(user: IamUser, key: AccessKey, mode: Mode, setup_window: timedelta) -> Finding:
    """The evaluator's verdict on one key of a console user, with the settings the plan
    was made with (no exemptions: those are checked on their own)."""
    return judge_key(user, key, Settings(mode=mode, setup_window=setup_window))


def _made(finding: Finding) -> str:
    gap = finding.setup_gap
    return "" if gap is None else f" (made {describe_gap(gap)} the user)"


def _rejudged(finding: Finding, mode: Mode, setup_window: timedelta) -> Finding | str:
    """The finding judged again from its own data, or why it cannot be trusted."""
    if finding.user_created is None or finding.key_created is None or finding.active is None:
        return (
            "the finding lacks the dates its verdict rests on (user_created, key_created, active)"
        )
    user = IamUser(
        name=finding.user,
        arn=finding.arn,
        created=finding.user_created,
        console_password=True,
        password_created=finding.password_created,
    )
    key = AccessKey(
        slot=finding.key_slot or 1,
        created=finding.key_created,
        active=finding.active,
        last_used=finding.last_used,
        access_key_id=finding.access_key_id,
    )
    judged = judge_again(user, key, mode, setup_window)
    if (judged.status, judged.reason) != (finding.status, finding.reason):
        return (
            f"the report says {finding.status.value} {finding.reason.value}, but its own "
            f"dates give {judged.status.value} {judged.reason.value}{_made(judged)}"
        )
    return judged


def _decide(finding: Finding, mode: Mode, delete: bool) -> tuple[Action | None, str]:
    if finding.exemption is not None:
        return None, "exempt: " + describe_exemption(finding)
    failing = finding.status is Status.FAIL and (
        finding.reason is Reason.SETUP_KEY_UNUSED or mode is Mode.CIS
    )
    inactive_setup_key = (
        finding.status is Status.WARNING and finding.reason is Reason.SETUP_KEY_INACTIVE
    )
    if not (failing or inactive_setup_key):
        return None, _why_not(finding)
    if finding.access_key_id is None:
        # Offline reports name keys by slot only, and a slot is never enough to act on.
        return None, "the audit has no key id (a credential report file); audit the account live"
    evidence = _evidence(finding)
    if delete:
        return Action.DELETE, evidence
    if failing:
        return Action.DEACTIVATE, evidence
    return None, evidence + "; add --delete to delete it"


def _evidence(finding: Finding) -> str:
    state = "inactive" if finding.active is False else "active"
    if finding.reason in (Reason.SETUP_KEY_UNUSED, Reason.SETUP_KEY_INACTIVE):
        gap = finding.setup_gap
        when = "" if gap is None else f" ({describe_gap(gap)} the user)"
        return f"{state} setup key{when}, never used"
    if finding.reason is Reason.USAGE_UNKNOWN:
        return f"{state}, created before AWS tracked key use, no recorded use (cis mode)"
    return f"{state} and never used (cis mode)"


def _why_not(finding: Finding) -> str:
    if finding.reason is Reason.SELF_CREATED:
        return "passes: CloudTrail shows its own user made it, as a separate step"
    if finding.status in (Status.PASS, Status.NOT_APPLICABLE):
        return "passes"
    if finding.status is Status.ERROR:
        return "could not be judged; audit it again"
    if finding.reason is Reason.UNUSED_KEY:
        return "not a setup key: the user made it later; review it by hand"
    if finding.reason is Reason.USAGE_UNKNOWN:
        return "created before AWS tracked key use: its use is unknown; review it by hand"
    if finding.status is Status.FAIL:
        return f"{finding.reason.value} is acted on only in cis mode"
    return f"{finding.status.value} {finding.reason.value} is not remediated"


def describe_exemption(finding: Finding) -> str:
    return "" if finding.exemption is None else finding.exemption.describe()


@dataclass(frozen=True)
class AccountPlan:
    """The plan for one account, or why there is none."""

    account_id: str
    principal: str | None
    planned: tuple[PlannedAction, ...] = ()
    error: str | None = None


def plan_document(
    plans: Iterable[AccountPlan],
    *,
    generated_at: datetime,
    source: str,
    mode: Mode,
    delete: bool,
    apply: bool,
) -> dict[str, object]:
    """The plan as ``--plan-out`` writes it: what a reviewer or a pipeline checks
    before (or as a record of) ``--apply``. Keys left alone are listed with why."""
    accounts = []
    totals: dict[str, int] = {"deactivate": 0, "delete": 0, "left_alone": 0, "refused": 0}
    for plan in plans:
        actions = []
        for p in plan.planned:
            action = p.action.value if p.acts and p.action is not None else None
            totals[action or ("refused" if p.refused is not None else "left_alone")] += 1
            actions.append(
                {
                    "user": p.user,
                    "access_key_id": p.access_key_id,
                    "key_slot": p.key_slot,
                    "action": action,
                    "status": p.status.value if p.status else None,
                    "reason": p.reason.value if p.reason else None,
                    "exempt": p.exempt,
                    "key_created": format_utc(p.key_created),
                    "why": p.why,
                    "refused": p.refused,
                }
            )
        accounts.append(
            {
                "account_id": plan.account_id,
                "principal": plan.principal,
                "error": plan.error,
                "actions": actions,
            }
        )
    return {
        "schema_version": 1,
        "kind": "initkeys-remediation-plan",
        "generated_at": format_utc(generated_at),
        "source": source,
        "mode": mode.value,
        "delete": delete,
        "apply": apply,
        "accounts": accounts,
        "summary": totals,
    }
