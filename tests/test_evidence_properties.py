"""Properties of CloudTrail evidence in the pure evaluator, for any findings and events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from test_evaluate_properties import TRACKING_START, YEAR, iam_users, run_settings

from initkeys.evaluate import judge_user, needs_evidence, search_ranges, with_evidence
from initkeys.model import (
    CreationEvent,
    EventName,
    Finding,
    Mode,
    Reason,
    Settings,
    Status,
    TimeRange,
    TrailEvidence,
)

FAST = settings(max_examples=150, deadline=None)
ACCOUNT = "123456789012"
ADMIN = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/ops"
HELPDESK = f"arn:aws:iam::{ACCOUNT}:user/helpdesk"


def principal(kind: str, user: str) -> dict[str, str]:
    if kind == "self":
        return {
            "principal_arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
            "principal_type": "IAMUser",
            "principal_name": user,
        }
    if kind == "admin":
        return {"principal_arn": ADMIN, "principal_type": "AssumedRole", "principal_name": "ops"}
    return {"principal_arn": HELPDESK, "principal_type": "IAMUser", "principal_name": "helpdesk"}


principals = st.sampled_from(["self", "admin", "helpdesk"])

# A user's findings, what CloudTrail holds about them, and how they were judged.
Case = tuple[list[Finding], TrailEvidence, Settings]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A user's findings and the events CloudTrail might hold about them: the key's
    own event (by anyone, with or without its id, a little off in time), events of
    the user's setup, and events about other keys."""
    user = draw(
        iam_users(console=True, readable=True, created_from=TRACKING_START + timedelta(days=2))
    )
    run = draw(run_settings)
    findings = judge_user(user, run)
    events: list[CreationEvent] = []
    for f in findings:
        if f.key_created is None or not draw(st.booleans()):
            continue
        events.append(
            CreationEvent(
                name=EventName.CREATE_ACCESS_KEY,
                time=f.key_created + timedelta(seconds=draw(st.integers(-3, 3))),
                account_id=ACCOUNT,
                target_user=draw(st.sampled_from([f.user, f.user.upper()])),
                access_key_id=draw(st.sampled_from([f.access_key_id, None])),
                via=draw(st.sampled_from(["console", "cli", None])),
                source_ip="192.0.2.1",
                **principal(draw(principals), f.user),
            )
        )
        if draw(st.booleans()):  # another key of the user, made about then by someone
            events.append(
                replace(
                    events[-1],
                    access_key_id=draw(st.sampled_from(["AKIAANOTHERKEY000001", None])),
                    **principal(draw(principals), f.user),
                )
            )
    if user.created is not None:
        for name in (EventName.CREATE_USER, EventName.CREATE_LOGIN_PROFILE):
            if draw(st.booleans()):
                events.append(
                    CreationEvent(
                        name=name,
                        time=user.created + timedelta(seconds=draw(st.integers(0, 5))),
                        account_id=ACCOUNT,
                        target_user=user.name,
                        **principal(draw(principals), user.name),
                    )
                )
    ranges = search_ranges(findings, run)
    horizon = draw(st.sampled_from([None, *(r.start + timedelta(days=1) for r in ranges[:1])]))
    evidence = TrailEvidence(source="test", events=tuple(events), searched=ranges, horizon=horizon)
    return findings, evidence, run


@FAST
@given(case=cases())
def test_evidence_never_fails_a_key_and_keeps_used_keys_as_they_were(case: Case) -> None:
    findings, evidence, run = case
    after = list(with_evidence(findings, evidence, run))
    assert len(after) == len(findings)
    for before, now in zip(findings, after, strict=True):
        if before.last_used is not None:
            assert now == before  # a used key passed already: nothing to look up
        if now.status is Status.FAIL:
            assert before.status is Status.FAIL and now.reason is before.reason


@FAST
@given(case=cases())
def test_the_only_verdict_change_is_self_created_pass_in_setup_mode(case: Case) -> None:
    findings, evidence, run = case
    for before, now in zip(findings, with_evidence(findings, evidence, run), strict=True):
        if (now.status, now.reason) != (before.status, before.reason):
            assert run.mode is Mode.SETUP
            assert (now.status, now.reason) == (Status.PASS, Reason.SELF_CREATED)
            assert now.created_by == before.arn
        # Evidence never touches what the key is, or its exemption.
        keep = ("user", "arn", "key_slot", "access_key_id", "active", "key_created", "last_used")
        assert all(getattr(now, name) == getattr(before, name) for name in keep)
        assert now.exemption == before.exemption
        if not needs_evidence(before):
            assert now == before
        elif now.created_by is None:
            assert now.evidence_note  # a key looked up and not found says why


@FAST
@given(case=cases())
def test_cis_verdicts_ignore_evidence(case: Case) -> None:
    findings, evidence, run = case
    cis = replace(run, mode=Mode.CIS)
    for before, now in zip(findings, with_evidence(findings, evidence, cis), strict=True):
        assert (now.status, now.reason) == (before.status, before.reason)


@FAST
@given(case=cases(), shift=st.integers(min_value=0, max_value=10 * YEAR))
def test_shifting_every_timestamp_together_keeps_the_evidence(case: Case, shift: int) -> None:
    findings, evidence, run = case
    delta = timedelta(seconds=shift)

    def moved(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment + delta

    shifted_findings = [
        replace(
            f,
            user_created=moved(f.user_created),
            key_created=moved(f.key_created),
            last_used=moved(f.last_used),
            password_created=moved(f.password_created),
        )
        for f in findings
    ]
    shifted = replace(
        evidence,
        events=tuple(replace(e, time=e.time + delta) for e in evidence.events),
        searched=tuple(TimeRange(r.start + delta, r.end + delta) for r in evidence.searched),
        horizon=moved(evidence.horizon),
    )

    def summary(items: list[Finding]) -> list[tuple[object, ...]]:
        return [(f.status, f.reason, f.created_by, f.created_via, f.created_from) for f in items]

    assert summary(list(with_evidence(findings, evidence, run))) == summary(
        list(with_evidence(shifted_findings, shifted, run))
    )
