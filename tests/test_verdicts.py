"""The verdict table of docs/verdicts.md, row by row, in both modes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from initkeys.evaluate import evaluate_report, evaluate_users, is_setup_key, judge_key, judge_user
from initkeys.model import (
    DEFAULT_SETUP_WINDOW,
    TRACKING_START,
    AccessKey,
    CredentialReport,
    Finding,
    IamUser,
    Mode,
    Reason,
    Settings,
    Status,
)

FAIL, ERROR, WARNING, PASS, NA = (
    Status.FAIL,
    Status.ERROR,
    Status.WARNING,
    Status.PASS,
    Status.NOT_APPLICABLE,
)
SETUP = Settings(mode=Mode.SETUP)
CIS = Settings(mode=Mode.CIS)

USER_CREATED = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
BEFORE_TRACKING = datetime(2014, 6, 1, 9, 0, 0, tzinfo=timezone.utc)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def make_user(
    *keys: AccessKey,
    created: datetime | None = USER_CREATED,
    console: bool = True,
    name: str = "alice",
    password_created: datetime | None = None,
    is_root: bool = False,
    problem: str | None = None,
) -> IamUser:
    return IamUser(
        name=name,
        arn=f"arn:aws:iam::123456789012:user/{name}",
        created=created,
        console_password=console,
        password_created=password_created,
        keys=tuple(keys),
        is_root=is_root,
        problem=problem,
    )


def make_key(
    gap: timedelta,
    *,
    active: bool = True,
    used: timedelta | None = None,
    slot: int = 1,
    base: datetime = USER_CREATED,
) -> AccessKey:
    """A key created ``gap`` after ``base``; ``used`` is its last use after creation."""
    created = base + gap
    return AccessKey(
        slot=slot,
        created=created,
        active=active,
        last_used=None if used is None else created + used,
    )


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def verdict(user: IamUser, settings: Settings) -> tuple[Status, Reason]:
    finding = only(judge_user(user, settings))
    return finding.status, finding.reason


# --- the key table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    user: IamUser
    setup: Status
    cis: Status
    reason: Reason


def _case(
    id: str, key: AccessKey, setup: Status, cis: Status, reason: Reason, **user: object
) -> Case:
    return Case(id, make_user(key, **user), setup, cis, reason)  # type: ignore[arg-type]


DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)

KEY_TABLE = [
    # row 2: used, created inside the window
    _case("2-used-setup-key", make_key(s(5), used=DAY), PASS, PASS, Reason.SETUP_KEY_USED),
    _case(
        "2-used-setup-key-inactive",
        make_key(s(5), used=DAY, active=False),
        PASS,
        PASS,
        Reason.SETUP_KEY_USED,
    ),
    _case("2-used-at-window-end", make_key(s(600), used=s(1)), PASS, PASS, Reason.SETUP_KEY_USED),
    _case("2-used-skew", make_key(s(-60), used=s(1)), PASS, PASS, Reason.SETUP_KEY_USED),
    _case(
        "2-used-setup-key-before-tracking",
        make_key(s(5), used=DAY, base=BEFORE_TRACKING),
        PASS,
        PASS,
        Reason.SETUP_KEY_USED,
        created=BEFORE_TRACKING,
    ),
    # row 3: used
    _case("3-used-later-key", make_key(3 * DAY, used=DAY), PASS, PASS, Reason.KEY_USED),
    _case(
        "3-used-later-key-inactive",
        make_key(3 * DAY, used=DAY, active=False),
        PASS,
        PASS,
        Reason.KEY_USED,
    ),
    _case("3-used-just-outside", make_key(s(601), used=s(1)), PASS, PASS, Reason.KEY_USED),
    _case("3-used-too-early", make_key(s(-61), used=s(1)), PASS, PASS, Reason.KEY_USED),
    _case(
        "3-used-key-before-tracking",
        make_key(400 * DAY, used=DAY, base=BEFORE_TRACKING - 500 * DAY),
        PASS,
        PASS,
        Reason.KEY_USED,
        created=BEFORE_TRACKING - 500 * DAY,
    ),
    # row 4: never used, created before tracking start
    _case(
        "4-unknown-active",
        make_key(90 * DAY, base=BEFORE_TRACKING),
        WARNING,
        FAIL,
        Reason.USAGE_UNKNOWN,
        created=BEFORE_TRACKING,
    ),
    _case(
        "4-unknown-inactive",
        make_key(90 * DAY, base=BEFORE_TRACKING, active=False),
        WARNING,
        PASS,
        Reason.USAGE_UNKNOWN,
        created=BEFORE_TRACKING,
    ),
    # row 4 comes before rows 5 and 6: a pre-tracking setup key's history is unknown
    _case(
        "4-unknown-setup-key-active",
        make_key(s(5), base=BEFORE_TRACKING),
        WARNING,
        FAIL,
        Reason.USAGE_UNKNOWN,
        created=BEFORE_TRACKING,
    ),
    _case(
        "4-unknown-setup-key-inactive",
        make_key(s(5), base=BEFORE_TRACKING, active=False),
        WARNING,
        PASS,
        Reason.USAGE_UNKNOWN,
        created=BEFORE_TRACKING,
    ),
    # row 5: never used, setup key, active
    _case("5-setup-key-unused", make_key(s(5)), FAIL, FAIL, Reason.SETUP_KEY_UNUSED),
    _case("5-same-second", make_key(s(0)), FAIL, FAIL, Reason.SETUP_KEY_UNUSED),
    _case("5-skew", make_key(s(-30)), FAIL, FAIL, Reason.SETUP_KEY_UNUSED),
    # row 6: never used, setup key, inactive
    _case(
        "6-setup-key-inactive",
        make_key(s(5), active=False),
        WARNING,
        PASS,
        Reason.SETUP_KEY_INACTIVE,
    ),
    # row 7: never used, outside window, active
    _case("7-unused-later-key", make_key(30 * DAY), WARNING, FAIL, Reason.UNUSED_KEY),
    _case("7-unused-key-too-early", make_key(-DAY), WARNING, FAIL, Reason.UNUSED_KEY),
    # row 8: never used, outside window, inactive
    _case(
        "8-inactive-unused",
        make_key(30 * DAY, active=False),
        PASS,
        PASS,
        Reason.INACTIVE_UNUSED_KEY,
    ),
]


@pytest.mark.parametrize("case", KEY_TABLE, ids=[c.id for c in KEY_TABLE])
@pytest.mark.parametrize("mode", [Mode.SETUP, Mode.CIS])
def test_key_table(case: Case, mode: Mode) -> None:
    settings = Settings(mode=mode)
    finding = only(judge_user(case.user, settings))
    expected = case.setup if mode is Mode.SETUP else case.cis
    assert (finding.status, finding.reason) == (expected, case.reason)
    # The reason code is the same in both modes; only the status differs.
    key = case.user.keys[0]
    assert finding.key_slot == key.slot
    assert finding.active is key.active
    assert finding.key_created == key.created
    assert finding.last_used == key.last_used
    assert finding.user_created == case.user.created
    assert finding.user == case.user.name
    assert finding.arn == case.user.arn
    assert finding.access_key_id is None
    assert finding.setup_gap == key.created - case.user.created  # type: ignore[operator]
    assert finding.message and "\n" not in finding.message
    assert case.user.name in finding.message


@pytest.mark.parametrize("case", KEY_TABLE, ids=[c.id for c in KEY_TABLE])
def test_judge_key_matches_judge_user(case: Case) -> None:
    for settings in (SETUP, CIS):
        assert judge_key(case.user, case.user.keys[0], settings) == only(
            judge_user(case.user, settings)
        )


def test_every_key_reason_is_covered() -> None:
    key_reasons = {
        Reason.SETUP_KEY_USED,
        Reason.KEY_USED,
        Reason.USAGE_UNKNOWN,
        Reason.SETUP_KEY_UNUSED,
        Reason.SETUP_KEY_INACTIVE,
        Reason.UNUSED_KEY,
        Reason.INACTIVE_UNUSED_KEY,
    }
    assert {c.reason for c in KEY_TABLE} == key_reasons


def test_access_key_id_is_carried() -> None:
    key = AccessKey(1, USER_CREATED + s(3), True, None, access_key_id="AKIAEXAMPLE000000001")
    finding = only(judge_user(make_user(key), SETUP))
    assert finding.access_key_id == "AKIAEXAMPLE000000001"


# --- row 1: unreadable rows ---------------------------------------------------------------------


@pytest.mark.parametrize("settings", [SETUP, CIS], ids=["setup", "cis"])
@pytest.mark.parametrize(
    "user",
    [
        make_user(make_key(s(5)), problem="user_creation_time 'x' is not a timestamp"),
        make_user(created=None, problem="line 7 has 3 fields, the header has 22"),
        make_user(make_key(s(5), used=DAY), created=None),
        make_user(console=False, problem="password_enabled 'yes' is not true or false"),
        make_user(make_key(s(5)), console=False, created=None, problem="bad"),
    ],
    ids=["problem", "short-row", "no-creation-time", "no-password", "everything-wrong"],
)
def test_unreadable_row_is_error(user: IamUser, settings: Settings) -> None:
    finding = only(judge_user(user, settings))
    assert (finding.status, finding.reason) == (ERROR, Reason.INVALID_ROW)
    assert finding.key_slot is None
    assert finding.access_key_id is None
    assert "\n" not in finding.message
    if user.problem:
        assert user.problem in finding.message


# --- findings about a user ----------------------------------------------------------------------


@pytest.mark.parametrize("settings", [SETUP, CIS], ids=["setup", "cis"])
def test_console_user_without_keys_passes(settings: Settings) -> None:
    finding = only(judge_user(make_user(password_created=USER_CREATED + s(2)), settings))
    assert (finding.status, finding.reason) == (PASS, Reason.NO_ACCESS_KEYS)
    assert finding.key_slot is None and finding.access_key_id is None
    assert finding.user_created == USER_CREATED
    assert finding.password_created == USER_CREATED + s(2)


@pytest.mark.parametrize("settings", [SETUP, CIS], ids=["setup", "cis"])
@pytest.mark.parametrize(
    "keys",
    [
        (),
        (make_key(s(5)),),
        (make_key(s(5), active=False), make_key(30 * DAY, slot=2)),
        (make_key(s(5), base=BEFORE_TRACKING),),
    ],
    ids=["no-keys", "unused-setup-key", "two-unused-keys", "pre-tracking-key"],
)
def test_user_without_console_password_is_not_applicable(
    settings: Settings, keys: tuple[AccessKey, ...]
) -> None:
    created = BEFORE_TRACKING if keys and keys[0].created < TRACKING_START else USER_CREATED
    finding = only(judge_user(make_user(*keys, created=created, console=False), settings))
    assert (finding.status, finding.reason) == (NA, Reason.NO_CONSOLE_PASSWORD)
    assert finding.key_slot is None and finding.access_key_id is None


@pytest.mark.parametrize("settings", [SETUP, CIS], ids=["setup", "cis"])
@pytest.mark.parametrize(
    "root",
    [
        make_user(name="<root_account>", created=None, console=False, is_root=True),
        # Root keys are CIS 1.4's business, whatever the row says.
        make_user(make_key(s(5)), name="<root_account>", is_root=True),
        make_user(make_key(s(5)), name="<root_account>", is_root=True, created=None, problem="x"),
    ],
    ids=["as-read", "with-unused-key", "unreadable"],
)
def test_root_account_is_not_applicable(settings: Settings, root: IamUser) -> None:
    finding = only(judge_user(root, settings))
    assert (finding.status, finding.reason) == (NA, Reason.ROOT_ACCOUNT)
    assert finding.key_slot is None
    assert "1.4" in finding.message


# --- setup window boundaries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gap", "setup_key"),
    [
        (0, True),
        (1, True),
        (599, True),
        (600, True),
        (601, False),
        (-1, True),
        (-59, True),
        (-60, True),
        (-61, False),
        (-3600, False),
        (86_400, False),
    ],
)
def test_default_window_boundaries(gap: int, setup_key: bool) -> None:
    assert s(600) == DEFAULT_SETUP_WINDOW
    assert is_setup_key(USER_CREATED, USER_CREATED + s(gap), DEFAULT_SETUP_WINDOW) is setup_key
    user = make_user(make_key(s(gap)))
    if setup_key:
        assert verdict(user, SETUP) == (FAIL, Reason.SETUP_KEY_UNUSED)
        assert verdict(user, CIS) == (FAIL, Reason.SETUP_KEY_UNUSED)
        used = make_user(make_key(s(gap), used=s(10)))
        assert verdict(used, SETUP) == (PASS, Reason.SETUP_KEY_USED)
        inactive = make_user(make_key(s(gap), active=False))
        assert verdict(inactive, SETUP) == (WARNING, Reason.SETUP_KEY_INACTIVE)
    else:
        assert verdict(user, SETUP) == (WARNING, Reason.UNUSED_KEY)
        assert verdict(user, CIS) == (FAIL, Reason.UNUSED_KEY)
        used = make_user(make_key(s(gap), used=s(10)))
        assert verdict(used, SETUP) == (PASS, Reason.KEY_USED)
        inactive = make_user(make_key(s(gap), active=False))
        assert verdict(inactive, SETUP) == (PASS, Reason.INACTIVE_UNUSED_KEY)


@pytest.mark.parametrize(
    ("window", "gap", "setup_key"),
    [
        (s(90), 90, True),
        (s(90), 91, False),
        (s(90), 89, True),
        (s(90), 600, False),
        (s(90), -60, True),
        (s(90), -61, False),
        (timedelta(hours=1), 600, True),
        (timedelta(hours=1), 601, True),
        (timedelta(hours=1), 3600, True),
        (timedelta(hours=1), 3601, False),
        (timedelta(hours=1), -60, True),
        (timedelta(hours=1), -61, False),
        (timedelta(0), 0, True),
        (timedelta(0), 1, False),
        (timedelta(0), -60, True),
    ],
)
def test_custom_windows(window: timedelta, gap: int, setup_key: bool) -> None:
    assert is_setup_key(USER_CREATED, USER_CREATED + s(gap), window) is setup_key
    user = make_user(make_key(s(gap)))
    expected = (FAIL, Reason.SETUP_KEY_UNUSED) if setup_key else (WARNING, Reason.UNUSED_KEY)
    assert verdict(user, Settings(mode=Mode.SETUP, setup_window=window)) == expected


def test_window_does_not_matter_in_cis_mode_for_active_keys() -> None:
    for gap in (0, 600, 601, 86_400 * 400):
        for window in (s(0), s(90), DEFAULT_SETUP_WINDOW, timedelta(days=30)):
            finding = only(judge_user(make_user(make_key(s(gap))), Settings(Mode.CIS, window)))
            assert finding.status is FAIL


def test_sub_second_gaps() -> None:
    """Live create dates carry fractions; the window is still inclusive, to the microsecond."""
    window = DEFAULT_SETUP_WINDOW
    assert is_setup_key(USER_CREATED, USER_CREATED + s(600), window)
    assert not is_setup_key(USER_CREATED, USER_CREATED + s(600) + timedelta(microseconds=1), window)
    assert not is_setup_key(USER_CREATED, USER_CREATED - s(60) - timedelta(microseconds=1), window)


# --- keys, slots, several keys ------------------------------------------------------------------


def test_key_in_slot_2_only() -> None:
    user = make_user(make_key(s(4), slot=2))
    for settings in (SETUP, CIS):
        finding = only(judge_user(user, settings))
        assert finding.key_slot == 2
        assert (finding.status, finding.reason) == (FAIL, Reason.SETUP_KEY_UNUSED)
        assert "Key 2" in finding.message


def test_two_keys_created_in_the_same_second() -> None:
    user = make_user(make_key(s(3), slot=1), make_key(s(3), slot=2))
    for settings in (SETUP, CIS):
        findings = judge_user(user, settings)
        assert [f.key_slot for f in findings] == [1, 2]
        assert [(f.status, f.reason) for f in findings] == [(FAIL, Reason.SETUP_KEY_UNUSED)] * 2
        assert findings[0].key_created == findings[1].key_created


def test_two_keys_judged_separately() -> None:
    user = make_user(make_key(s(3), slot=1, used=DAY), make_key(60 * DAY, slot=2))
    assert [(f.key_slot, f.status, f.reason) for f in judge_user(user, SETUP)] == [
        (1, PASS, Reason.SETUP_KEY_USED),
        (2, WARNING, Reason.UNUSED_KEY),
    ]
    assert [(f.key_slot, f.status, f.reason) for f in judge_user(user, CIS)] == [
        (1, PASS, Reason.SETUP_KEY_USED),
        (2, FAIL, Reason.UNUSED_KEY),
    ]


# --- tracking start -----------------------------------------------------------------------------


def test_tracking_start_is_the_spec_date() -> None:
    assert datetime(2015, 4, 22, 0, 0, 0, tzinfo=timezone.utc) == TRACKING_START


@pytest.mark.parametrize("settings", [SETUP, CIS], ids=["setup", "cis"])
def test_key_created_exactly_at_tracking_start_has_known_usage(settings: Settings) -> None:
    user_created = TRACKING_START - s(30)
    user = make_user(make_key(s(30), base=user_created), created=user_created)
    assert user.keys[0].created == TRACKING_START
    assert verdict(user, settings) == (FAIL, Reason.SETUP_KEY_UNUSED)


@pytest.mark.parametrize(
    ("settings", "active", "expected"),
    [
        (SETUP, True, WARNING),
        (SETUP, False, WARNING),
        (CIS, True, FAIL),
        (CIS, False, PASS),
    ],
)
def test_key_created_one_second_before_tracking_start_is_usage_unknown(
    settings: Settings, active: bool, expected: Status
) -> None:
    user_created = TRACKING_START - s(30)
    user = make_user(make_key(s(29), base=user_created, active=active), created=user_created)
    assert user.keys[0].created == TRACKING_START - s(1)
    finding = only(judge_user(user, settings))
    assert (finding.status, finding.reason) == (expected, Reason.USAGE_UNKNOWN)
    assert "2015-04-22" in finding.message


def test_tracking_start_uses_the_key_not_the_user() -> None:
    """A user from 2014 whose key came after tracking start: the key's usage is known."""
    user = make_user(make_key(400 * DAY, base=BEFORE_TRACKING), created=BEFORE_TRACKING)
    assert user.keys[0].created > TRACKING_START
    assert verdict(user, SETUP) == (WARNING, Reason.UNUSED_KEY)
    assert verdict(user, CIS) == (FAIL, Reason.UNUSED_KEY)


# --- a programmatic user who got a console password years later ---------------------------------


def test_programmatic_user_given_a_password_years_later() -> None:
    """The table keys on user and key creation only: the key was made with the user.

    It is a console user now, and its never-used setup key is what the control
    is about (the benchmark's own audit fails it too). The finding carries the
    password's date, so a reader can see the password came years later.
    """
    created = datetime(2017, 3, 1, 8, 0, tzinfo=timezone.utc)
    password = datetime(2021, 6, 15, 9, 30, tzinfo=timezone.utc)
    user = make_user(make_key(s(3), base=created), created=created, password_created=password)
    for settings in (SETUP, CIS):
        finding = only(judge_user(user, settings))
        assert (finding.status, finding.reason) == (FAIL, Reason.SETUP_KEY_UNUSED)
        assert finding.password_created == password
        assert finding.user_created == created

    used = make_user(
        make_key(s(3), base=created, used=30 * DAY), created=created, password_created=password
    )
    assert verdict(used, SETUP) == (PASS, Reason.SETUP_KEY_USED)

    # Before the password came it was not a console user at all.
    before = make_user(make_key(s(3), base=created), created=created, console=False)
    assert verdict(before, SETUP) == (NA, Reason.NO_CONSOLE_PASSWORD)


# --- reports, roll-ups --------------------------------------------------------------------------


def _report(*users: IamUser) -> CredentialReport:
    return CredentialReport(
        account_id="123456789012",
        partition="aws",
        source="test.csv",
        generated_at=datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc),
        users=users,
    )


def test_evaluate_report_keeps_order_and_rolls_up() -> None:
    users = (
        make_user(name="<root_account>", created=None, console=False, is_root=True),
        make_user(make_key(s(5)), name="a"),
        make_user(name="b"),
        make_user(make_key(s(5), used=DAY), make_key(40 * DAY, slot=2), name="c"),
        make_user(make_key(s(5)), name="d", console=False),
        make_user(name="e", created=None, problem="line 9 has 2 fields, the header has 22"),
    )
    report = _report(*users)
    audit = evaluate_report(report, SETUP)
    assert [(f.user, f.key_slot, f.status) for f in audit.findings] == [
        ("<root_account>", None, NA),
        ("a", 1, FAIL),
        ("b", None, PASS),
        ("c", 1, PASS),
        ("c", 2, WARNING),
        ("d", None, NA),
        ("e", None, ERROR),
    ]
    assert audit.status is FAIL
    assert audit.account_id == "123456789012"
    assert audit.partition == "aws"
    assert audit.source == "test.csv"
    assert audit.report_generated_at == report.generated_at
    assert audit.error is None
    assert audit.counts() == {FAIL: 1, ERROR: 1, WARNING: 1, PASS: 2, NA: 2}
    assert list(evaluate_users(users, SETUP)) == list(audit.findings)


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        ((make_user(name="<root_account>", created=None, console=False, is_root=True),), NA),
        ((make_user(name="b"),), PASS),
        ((make_user(name="b"), make_user(make_key(40 * DAY), name="c")), WARNING),
        ((make_user(make_key(40 * DAY), name="c"), make_user(name="e", problem="x")), ERROR),
        ((make_user(name="e", problem="x"), make_user(make_key(s(1)), name="a")), FAIL),
    ],
    ids=["NOT_APPLICABLE", "PASS", "WARNING", "ERROR", "FAIL"],
)
def test_roll_up_is_the_worst_finding(users: tuple[IamUser, ...], expected: Status) -> None:
    assert evaluate_report(_report(*users), SETUP).status is expected


def test_status_order() -> None:
    assert FAIL.rank > ERROR.rank > WARNING.rank > PASS.rank > NA.rank


def test_messages_describe_the_gap() -> None:
    finding = only(judge_user(make_user(make_key(s(42))), SETUP))
    assert "42s after the user" in finding.message
    finding = only(judge_user(make_user(make_key(s(-5))), SETUP))
    assert "5s before the user" in finding.message
    finding = only(judge_user(make_user(make_key(3 * DAY)), SETUP))
    assert "3 days after the user" in finding.message


NAIVE = USER_CREATED.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("user", "field"),
    [
        (make_user(make_key(s(5)), created=NAIVE), "'alice': created"),
        (make_user(make_key(s(5), base=NAIVE)), "'alice', key 1: created"),
        # Used: no comparison with an aware constant would have caught it before.
        (make_user(make_key(s(5), base=NAIVE, used=s(1))), "'alice', key 1: created"),
        (make_user(make_key(s(5)), password_created=NAIVE), "'alice': password_created"),
        (
            make_user(AccessKey(slot=2, created=USER_CREATED, active=True, last_used=NAIVE)),
            "'alice', key 2: last_used",
        ),
        # Not a console user, a root user, an unreadable row: rejected all the same.
        (make_user(make_key(s(5), base=NAIVE), console=False), "'alice', key 1: created"),
        (make_user(created=NAIVE, is_root=True), "'alice': created"),
        (make_user(created=NAIVE, problem="bad row"), "'alice': created"),
    ],
)
def test_naive_datetimes_are_a_clear_type_error(user: IamUser, field: str) -> None:
    """A naive datetime is refused at the door, by name, not by a comparison deep inside."""
    for judge in (
        lambda: judge_user(user, SETUP),
        lambda: list(evaluate_users([user], CIS)),
        lambda: evaluate_report(_report(user), SETUP),
    ):
        with pytest.raises(TypeError, match=f"{field} is a naive datetime .*time zone"):
            judge()


def test_naive_datetimes_rejected_by_the_other_entry_points() -> None:
    from initkeys.evaluate import judge_deleted_user, judge_unreadable_user

    naive_user = make_user(make_key(s(5)), created=NAIVE)
    with pytest.raises(TypeError, match="'alice': created is a naive datetime"):
        judge_key(naive_user, naive_user.keys[0], SETUP)
    with pytest.raises(TypeError, match="'alice', key 1: created is a naive datetime"):
        judge_key(make_user(), make_key(s(5), base=NAIVE), SETUP)
    with pytest.raises(TypeError, match="key_created is a naive datetime"):
        is_setup_key(USER_CREATED, NAIVE, DEFAULT_SETUP_WINDOW)
    with pytest.raises(TypeError, match="user_created is a naive datetime"):
        is_setup_key(NAIVE, USER_CREATED, DEFAULT_SETUP_WINDOW)
    with pytest.raises(TypeError, match="naive datetime"):
        judge_deleted_user(naive_user)
    with pytest.raises(TypeError, match="naive datetime"):
        judge_unreadable_user(naive_user, "AccessDenied")


def test_aware_datetimes_in_any_zone_are_judged_as_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    key = make_key(s(5), base=USER_CREATED.astimezone(plus_two))
    assert only(judge_user(make_user(key), SETUP)).reason is Reason.SETUP_KEY_UNUSED


def test_naive_cloudtrail_evidence_is_a_clear_type_error() -> None:
    from initkeys.evaluate import with_evidence
    from initkeys.model import CreationEvent, EventName, TimeRange, TrailEvidence

    finding = only(judge_user(make_user(make_key(s(5))), SETUP))
    event = CreationEvent(EventName.CREATE_ACCESS_KEY, NAIVE, "123456789012", "alice", None, None)
    aware = TimeRange(USER_CREATED, USER_CREATED + s(60))
    for evidence, what in [
        (TrailEvidence("LookupEvents", events=(event,)), "the time of CreateAccessKey"),
        (TrailEvidence("LookupEvents", horizon=NAIVE), "horizon"),
        (TrailEvidence("LookupEvents", searched=(TimeRange(NAIVE, NAIVE),)), "the start of range"),
        (
            TrailEvidence(
                "LookupEvents", searched=(aware,), unlogged=(TimeRange(USER_CREATED, NAIVE),)
            ),
            "the end of range",
        ),
    ]:
        with pytest.raises(TypeError, match=f"LookupEvents: {what}.* is a naive datetime"):
            list(with_evidence([finding], evidence, SETUP))
