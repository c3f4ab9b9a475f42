"""Properties of the pure evaluator that must hold for any input."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from initkeys.evaluate import evaluate_report, judge_user
from initkeys.model import (
    TRACKING_START,
    AccessKey,
    CredentialReport,
    IamUser,
    Mode,
    Reason,
    Settings,
    Status,
    worst,
)

FAST = settings(max_examples=150, deadline=None)

UTC = timezone.utc
EARLIEST = datetime(2008, 1, 1, tzinfo=UTC)
LATEST = datetime(2035, 1, 1, tzinfo=UTC)
YEAR = 365 * 86_400

# Gaps between user and key creation: mostly around the interesting boundaries
# (clock skew, 90 s, 10 min, 1 h), sometimes anywhere within years.
near_boundaries = st.sampled_from(
    [-61, -60, -59, 0, 1, 89, 90, 91, 599, 600, 601, 3599, 3600, 3601]
)
gaps = st.one_of(
    near_boundaries,
    st.integers(min_value=-120, max_value=4000),
    st.integers(min_value=-5 * 86_400, max_value=5 * YEAR),
).map(lambda seconds: timedelta(seconds=seconds))

windows = st.one_of(
    st.sampled_from([0, 90, 600, 3600]),
    st.integers(min_value=0, max_value=3 * 86_400),
).map(lambda seconds: timedelta(seconds=seconds))

modes = st.sampled_from(list(Mode))
run_settings = st.builds(Settings, mode=modes, setup_window=windows)


def instants(start: datetime = EARLIEST, end: datetime = LATEST) -> st.SearchStrategy[datetime]:
    """Whole seconds (as the report has them) or with microseconds (as live reads have)."""
    span = int((end - start).total_seconds())
    return st.builds(
        lambda seconds, micro: start + timedelta(seconds=seconds, microseconds=micro),
        st.integers(min_value=0, max_value=span),
        st.one_of(st.just(0), st.integers(min_value=0, max_value=999_999)),
    )


NAMES = st.sampled_from(["alice", "bob", "ci-deploy", "svc.build@example", "x_1", "zoe+ops"])


@st.composite
def access_keys(draw: st.DrawFn, user_created: datetime, slot: int) -> AccessKey:
    created = user_created + draw(gaps)
    used = draw(
        st.one_of(
            st.none(),
            st.integers(min_value=0, max_value=3 * YEAR).map(
                lambda seconds: created + timedelta(seconds=seconds)
            ),
        )
    )
    key_id = draw(st.one_of(st.none(), st.just(f"AKIAEXAMPLE{slot:09d}")))
    return AccessKey(
        slot=slot, created=created, active=draw(st.booleans()), last_used=used, access_key_id=key_id
    )


@st.composite
def iam_users(
    draw: st.DrawFn,
    *,
    console: bool | None = None,
    readable: bool = False,
    root: bool = False,
    created_from: datetime = EARLIEST,
) -> IamUser:
    """Any user the sources can produce; ``readable`` rules out root and bad rows."""
    created = draw(instants(created_from))
    slots = draw(st.sampled_from([(), (1,), (2,), (1, 2)]))
    keys = tuple(draw(access_keys(created, slot)) for slot in slots)
    name = draw(NAMES)
    is_root = root
    problem = None
    if not readable:
        kind = draw(st.sampled_from(["normal"] * 6 + ["problem", "no-created", "root"]))
        if kind == "problem":
            problem = draw(st.sampled_from(["line 3 has 2 fields, the header has 22", "bad"]))
        elif kind == "no-created":
            created = None  # type: ignore[assignment]
        elif kind == "root":
            is_root = True
    if is_root:
        name = "<root_account>"
    has_password = draw(st.booleans()) if console is None else console
    password_created = None
    if has_password and created is not None:
        password_created = created + timedelta(seconds=draw(st.integers(0, 4 * YEAR)))
    return IamUser(
        name=name,
        arn=f"arn:aws:iam::123456789012:user/{name}",
        created=created,
        console_password=has_password,
        password_created=password_created,
        keys=keys,
        is_root=is_root,
        problem=problem,
    )


def is_judged_per_key(user: IamUser) -> bool:
    """A console user whose row is readable: one finding per key."""
    return (
        not user.is_root
        and user.problem is None
        and user.created is not None
        and user.console_password
    )


# --- properties ---------------------------------------------------------------------------------


@FAST
@given(user=iam_users(), run=run_settings)
def test_a_used_key_never_fails(user: IamUser, run: Settings) -> None:
    used = {k.slot for k in user.keys if k.last_used is not None}
    for finding in judge_user(user, run):
        if finding.key_slot in used:
            assert finding.status is Status.PASS
            assert finding.reason in (Reason.SETUP_KEY_USED, Reason.KEY_USED)
        if finding.status is Status.FAIL:
            assert finding.last_used is None


@FAST
@given(user=iam_users(), run=run_settings)
def test_every_user_has_a_finding_and_every_key_exactly_one(user: IamUser, run: Settings) -> None:
    findings = judge_user(user, run)
    assert len(findings) >= 1
    assert all(f.user == user.name and f.arn == user.arn for f in findings)
    if is_judged_per_key(user) and user.keys:
        assert [f.key_slot for f in findings] == [k.slot for k in user.keys]
        for finding, key in zip(findings, user.keys, strict=True):
            assert finding.key_created == key.created
            assert finding.active is key.active
            assert finding.last_used == key.last_used
            assert finding.access_key_id == key.access_key_id
    else:
        assert len(findings) == 1
        assert findings[0].key_slot is None
        assert findings[0].access_key_id is None


@FAST
@given(
    user=iam_users(readable=True, created_from=TRACKING_START + timedelta(days=5)),
    run=run_settings,
    data=st.data(),
)
def test_shifting_all_timestamps_keeps_every_verdict(
    user: IamUser, run: Settings, data: st.DataObject
) -> None:
    assert user.created is not None
    # Tracking start is an absolute date: every key stays at or after it.
    earliest = min([k.created for k in user.keys], default=user.created)
    assert earliest >= TRACKING_START
    room = int((earliest - TRACKING_START).total_seconds())
    delta = timedelta(
        seconds=data.draw(
            st.one_of(
                st.integers(min_value=-room, max_value=15 * YEAR),
                st.sampled_from([-room, -1, 1, 86_400]).filter(lambda d: d >= -room),
            ),
            label="delta seconds",
        ),
        microseconds=data.draw(st.sampled_from([0, 0, 1, 500_000]), label="delta micro"),
    )
    assume(all(k.created + delta >= TRACKING_START for k in user.keys))

    def shift(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment + delta

    shifted = replace(
        user,
        created=user.created + delta,
        password_created=shift(user.password_created),
        keys=tuple(
            replace(k, created=k.created + delta, last_used=shift(k.last_used)) for k in user.keys
        ),
    )
    before = [(f.key_slot, f.status, f.reason) for f in judge_user(user, run)]
    after = [(f.key_slot, f.status, f.reason) for f in judge_user(shifted, run)]
    assert before == after


@FAST
@given(user=iam_users(), window=windows)
def test_cis_fails_every_key_that_setup_fails(user: IamUser, window: timedelta) -> None:
    setup = judge_user(user, Settings(mode=Mode.SETUP, setup_window=window))
    cis = judge_user(user, Settings(mode=Mode.CIS, setup_window=window))
    assert [f.key_slot for f in setup] == [f.key_slot for f in cis]
    for in_setup, in_cis in zip(setup, cis, strict=True):
        if in_setup.status is Status.FAIL:
            assert in_cis.status is Status.FAIL
        # Modes change statuses, never the reason.
        assert in_setup.reason is in_cis.reason


@FAST
@given(user=iam_users(), narrow=windows, extra=windows)
def test_widening_the_window_keeps_setup_fails(
    user: IamUser, narrow: timedelta, extra: timedelta
) -> None:
    wide = narrow + extra
    before = judge_user(user, Settings(mode=Mode.SETUP, setup_window=narrow))
    after = judge_user(user, Settings(mode=Mode.SETUP, setup_window=wide))
    assert [f.key_slot for f in before] == [f.key_slot for f in after]
    for a, b in zip(before, after, strict=True):
        if a.status is Status.FAIL:
            assert b.status is Status.FAIL


@FAST
@given(user=iam_users(console=False, readable=True), run=run_settings)
def test_non_console_users_are_not_applicable(user: IamUser, run: Settings) -> None:
    (finding,) = judge_user(user, run)
    assert finding.status is Status.NOT_APPLICABLE
    assert finding.reason is Reason.NO_CONSOLE_PASSWORD


@FAST
@given(user=iam_users(root=True), run=run_settings)
def test_root_is_not_applicable(user: IamUser, run: Settings) -> None:
    assert user.is_root
    (finding,) = judge_user(user, run)
    assert (finding.status, finding.reason) == (Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT)


@FAST
@given(user=iam_users(), run=run_settings)
def test_setup_mode_fails_only_unused_active_setup_keys(user: IamUser, run: Settings) -> None:
    """In setup mode, FAIL means exactly row 5 of the table."""
    for finding in judge_user(user, replace(run, mode=Mode.SETUP)):
        if finding.status is Status.FAIL:
            assert finding.reason is Reason.SETUP_KEY_UNUSED
            assert finding.active is True
            assert finding.last_used is None
            assert finding.key_created is not None and finding.key_created >= TRACKING_START


@settings(max_examples=80, deadline=None)
@given(users=st.lists(iam_users(), min_size=1, max_size=6), run=run_settings)
def test_roll_up_is_the_worst_finding(users: list[IamUser], run: Settings) -> None:
    report = CredentialReport(
        account_id="123456789012",
        partition="aws",
        source="prop.csv",
        generated_at=None,
        users=tuple(users),
    )
    audit = evaluate_report(report, run)
    assert len(audit.findings) >= len(users)
    assert audit.status is worst(f.status for f in audit.findings)
    assert all(audit.status.rank >= f.status.rank for f in audit.findings)
    assert sum(audit.counts().values()) == len(audit.findings)
    expected = [f for u in users for f in judge_user(u, run)]
    assert list(audit.findings) == expected
