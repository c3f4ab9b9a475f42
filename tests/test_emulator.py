"""The emulator's clock, key-use recording, and the seeded demo company."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import EmulatorProcess

from initkeys.aws import AwsContext
from initkeys.demo.company import COMPANY, DEMO_NOW, ExpectedFinding, seed_company
from initkeys.demo.emulator import Clock, install_clock, parse_instant
from initkeys.errors import InputError
from initkeys.evaluate import judge_user
from initkeys.model import AccessKey, IamUser, Mode, Reason, Settings, Status

UTC = timezone.utc
PROXYLESS = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _new_key(iam: Any, user: str) -> tuple[str, str]:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


# --- the clock ----------------------------------------------------------------------


def test_clock_freezes_and_converts_to_naive_utc() -> None:
    clock = Clock()
    clock.set(datetime(2022, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=1))))
    assert clock.frozen
    assert clock.now() == datetime(2022, 3, 1, 10, 0)
    clock.set(datetime(2013, 1, 2, 3, 4, 5))
    assert clock.now() == datetime(2013, 1, 2, 3, 4, 5)
    clock.reset()
    assert not clock.frozen
    assert abs(clock.now() - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=5)


def test_parse_instant_accepts_z_and_offsets() -> None:
    assert parse_instant("2022-03-01T10:00:00Z") == datetime(2022, 3, 1, 10, 0)
    assert parse_instant("2022-03-01T12:00:00+02:00") == datetime(2022, 3, 1, 10, 0)
    assert parse_instant("2022-03-01T10:00:00") == datetime(2022, 3, 1, 10, 0)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+05:00",  # no UTC value: was an uncaught OverflowError (a 500)
        "9999-12-31T23:59:59-05:00",
        "1969-12-31T23:59:59Z",  # outside 1970..9000, as for every reader (timeutil)
        "2022-03-01",  # a date is not an instant
        "yesterday",
    ],
)
def test_parse_instant_refuses_what_is_not_an_instant(text: str) -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_instant(text)


def test_clock_sets_user_and_key_create_dates(aws: EmulatorProcess) -> None:
    iam = aws.client("iam")
    aws.set_time(datetime(2013, 5, 6, 7, 8, 9, tzinfo=UTC))
    iam.create_user(UserName="alice", Path="/engineering/")
    aws.set_time(datetime(2019, 1, 2, 3, 4, 5, tzinfo=UTC))
    key_id, _ = _new_key(iam, "alice")

    user = iam.get_user(UserName="alice")["User"]
    assert _utc(user["CreateDate"]) == datetime(2013, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert user["Arn"].endswith(":user/engineering/alice")
    (meta,) = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert meta["AccessKeyId"] == key_id
    assert _utc(meta["CreateDate"]) == datetime(2019, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_never_used_key_has_no_last_used_date(aws: EmulatorProcess) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName="bob")
    key_id, _ = _new_key(iam, "bob")
    # Calls signed with the dummy test credentials are not calls with bob's key.
    iam.list_users()
    answer = iam.get_access_key_last_used(AccessKeyId=key_id)
    assert answer["UserName"] == "bob"
    assert "LastUsedDate" not in answer["AccessKeyLastUsed"]
    assert answer["AccessKeyLastUsed"]["ServiceName"] == "N/A"


def test_signed_call_marks_key_used_at_clock_time(aws: EmulatorProcess) -> None:
    iam = aws.client("iam")
    aws.set_time(datetime(2016, 3, 14, 9, 0, tzinfo=UTC))
    iam.create_user(UserName="carol")
    key_id, secret = _new_key(iam, "carol")

    aws.set_time(datetime(2024, 7, 1, 12, 30, 15, tzinfo=UTC))
    sts = aws.session().client(
        "sts",
        endpoint_url=aws.endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )
    assert sts.get_caller_identity()["Arn"].endswith(":user/carol")

    used = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
    assert _utc(used["LastUsedDate"]) == datetime(2024, 7, 1, 12, 30, 15, tzinfo=UTC)
    assert used["ServiceName"] == "sts"
    assert used["Region"] == "eu-west-1"

    iam.generate_credential_report()
    report = iam.get_credential_report()["Content"].decode()
    (row,) = [line for line in report.splitlines() if line.startswith("carol,")]
    assert "2016-03-14T09:00:00+00:00" in row
    assert "2024-07-01T12:30:15+00:00" in row


def test_clock_endpoint(aws: EmulatorProcess) -> None:
    aws.set_time(datetime(2022, 3, 1, 10, 0, tzinfo=UTC))
    assert aws.now() == "2022-03-01T10:00:00Z"
    aws.reset_time()
    real = datetime.fromisoformat(aws.now().replace("Z", "+00:00"))
    assert abs(real - datetime.now(UTC)) < timedelta(seconds=30)

    url = aws.endpoint_url + "/_initkeys/clock"
    bad = urllib.request.Request(url, data=b'{"now": "yesterday"}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        PROXYLESS.open(bad, timeout=10)
    assert excinfo.value.code == 400
    assert "error" in json.loads(excinfo.value.read())
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        PROXYLESS.open(urllib.request.Request(url, data=b"{}", method="PUT"), timeout=10)
    assert excinfo.value.code == 405


def test_reset_forgets_everything(aws: EmulatorProcess) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName="dave")
    aws.reset()
    assert iam.list_users()["Users"] == []


# --- lazy import and the missing-moto error -----------------------------------------


def test_importing_initkeys_does_not_import_moto() -> None:
    code = (
        "import sys, initkeys, initkeys.demo, initkeys.demo.company, initkeys.demo.emulator\n"
        "loaded = [m for m in sys.modules if m == 'moto' or m.startswith('moto.')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_moto_is_a_clear_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry makes the import fail, as if moto were not installed.
    monkeypatch.setitem(sys.modules, "moto", None)
    monkeypatch.setitem(sys.modules, "moto.core.utils", None)
    with pytest.raises(InputError, match=r"pip install 'initkeys\[demo\]'"):
        install_clock(Clock())


# --- the demo company ---------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What the seeded emulator showed, read right after seeding."""

    truth: tuple[ExpectedFinding, ...]
    users: dict[str, IamUser]
    paths: dict[str, str]
    clock: str


@pytest.fixture(scope="module")
def seeded(emulator: EmulatorProcess) -> Iterator[Snapshot]:
    """Seed once and read everything back, so later resets by other tests don't matter."""
    emulator.reset()
    truth = seed_company(
        AwsContext(emulator.session(), endpoint_url=emulator.endpoint_url), emulator.set_time
    )
    clock = emulator.now()
    iam = emulator.client("iam")
    listed = iam.list_users(MaxItems=1000)["Users"]
    # Reads in parallel: one user's reads take several round trips.
    with ThreadPoolExecutor(max_workers=8) as pool:
        users = dict(pool.map(lambda u: (u["UserName"], _read_user(iam, u)), listed))
    yield Snapshot(truth, users, {u["UserName"]: u["Path"] for u in listed}, clock)
    emulator.reset()


def _read_user(iam: Any, listed: dict[str, Any]) -> IamUser:
    """One user through the live APIs the audit uses."""
    name = listed["UserName"]
    try:
        profile = iam.get_login_profile(UserName=name)["LoginProfile"]
        password_created: datetime | None = _utc(profile["CreateDate"])
    except iam.exceptions.NoSuchEntityException:
        password_created = None
    keys = []
    metadata = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    for slot, meta in enumerate(metadata, start=1):
        used = iam.get_access_key_last_used(AccessKeyId=meta["AccessKeyId"])
        last_used = used["AccessKeyLastUsed"].get("LastUsedDate")
        keys.append(
            AccessKey(
                slot=slot,
                created=_utc(meta["CreateDate"]),
                active=meta["Status"] == "Active",
                last_used=_utc(last_used) if last_used is not None else None,
                access_key_id=meta["AccessKeyId"],
            )
        )
    return IamUser(
        name=name,
        arn=listed["Arn"],
        created=_utc(listed["CreateDate"]),
        console_password=password_created is not None,
        password_created=password_created,
        keys=tuple(keys),
    )


def test_seeded_users_have_the_story_dates_and_paths(seeded: Snapshot) -> None:
    assert len(seeded.users) == len(COMPANY) >= 25
    for story in COMPANY:
        user = seeded.users[story.name]
        assert user.created == story.created, story.name
        assert seeded.paths[story.name] == story.path
        assert user.console_password is (story.password is not None)
        left = [k for k in story.keys if k.deleted is None]
        assert [k.created for k in user.keys] == [k.created for k in left], story.name
        assert [k.last_used for k in user.keys] == [k.used for k in left], story.name
        assert [k.active for k in user.keys] == [k.deactivated is None for k in left]
    assert any(path.count("/") > 2 for path in seeded.paths.values())


def test_seed_leaves_the_clock_at_demo_now(seeded: Snapshot) -> None:
    assert parse_instant(seeded.clock) == DEMO_NOW.replace(tzinfo=None)


def test_ground_truth_covers_every_live_verdict_in_both_modes(seeded: Snapshot) -> None:
    reasons = {f.reason for f in seeded.truth}
    assert reasons == set(Reason) - {
        Reason.INVALID_ROW,
        Reason.ROOT_ACCOUNT,
        Reason.USER_DELETED,
        Reason.LIVE_READ_FAILED,
        Reason.SELF_CREATED,  # needs CloudTrail evidence; the demo has no trail
    }
    unknown = {(f.setup, f.cis) for f in seeded.truth if f.reason is Reason.USAGE_UNKNOWN}
    assert unknown == {(Status.WARNING, Status.FAIL), (Status.WARNING, Status.PASS)}
    assert {f.user for f in seeded.truth} == {u.name for u in COMPANY}
    by_user: dict[str, list[ExpectedFinding]] = {}
    for f in seeded.truth:
        by_user.setdefault(f.user, []).append(f)
    # A key alone in slot 2 after its sibling's deletion, and a same-second pair.
    assert [f.key_slot for f in by_user["oliver.bennett"]] == [1]
    nadia = seeded.users["nadia.haddad"]
    assert nadia.keys[0].created == nadia.keys[1].created
    assert [f.access_key_id for f in by_user["nadia.haddad"]] == [
        k.access_key_id for k in nadia.keys
    ]


@pytest.mark.parametrize("mode", [Mode.SETUP, Mode.CIS])
def test_ground_truth_agrees_with_the_verdict_table(seeded: Snapshot, mode: Mode) -> None:
    settings = Settings(mode=mode)
    expected = {(f.user, f.access_key_id): f for f in seeded.truth}
    actual = {
        (f.user, f.access_key_id): f
        for user in seeded.users.values()
        for f in judge_user(user, settings)
    }
    assert actual.keys() == expected.keys()
    for key, finding in actual.items():
        truth = expected[key]
        assert (finding.status, finding.reason, finding.key_slot) == (
            truth.status(mode),
            truth.reason,
            truth.key_slot,
        ), key


def test_run_demo_serves_the_company_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import initkeys.demo.company as company
    from initkeys.demo import run_demo

    # Two users keep this fast; the whole company is checked through `seeded`.
    cast = tuple(u for u in COMPANY if u.name in {"priya.raman", "maria.gonzalez"})
    monkeypatch.setattr(company, "COMPANY", cast)
    with run_demo() as aws:
        session, endpoint_url = aws.session, aws.endpoint_url
        iam = session.client("iam", endpoint_url=endpoint_url)
        assert session.get_credentials().access_key == "demo"
        assert session.region_name == "us-east-1"
        names = {u["UserName"] for u in iam.list_users()["Users"]}
        assert names == {"priya.raman", "maria.gonzalez"}
        (key,) = iam.list_access_keys(UserName="priya.raman")["AccessKeyMetadata"]
        # Auditing with the demo credentials must not mark a seeded key as used.
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        assert "LastUsedDate" not in used["AccessKeyLastUsed"]
        (key,) = iam.list_access_keys(UserName="maria.gonzalez")["AccessKeyMetadata"]
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        assert _utc(used["AccessKeyLastUsed"]["LastUsedDate"]) == datetime(
            2026, 11, 26, 17, 40, 12, tzinfo=UTC
        )


def test_clock_endpoint_refuses_an_instant_without_utc_value(aws: EmulatorProcess) -> None:
    url = aws.endpoint_url + "/_initkeys/clock"
    body = b'{"now": "0001-01-01T00:00:00+05:00"}'
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        PROXYLESS.open(urllib.request.Request(url, data=body, method="POST"), timeout=10)
    assert excinfo.value.code == 400  # was a 500: an OverflowError the middleware missed
    assert "not a timestamp" in json.loads(excinfo.value.read())["error"]
    assert json.loads(PROXYLESS.open(url, timeout=10).read())["frozen"] is False
