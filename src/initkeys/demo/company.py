"""A small fictional company, "Northwind Robotics", seeded into an emulator.

Thirty IAM users created between 2013 and 2026 cover every row of the verdict
table (``docs/verdicts.md``) in both modes, plus the edge cases a live
audit must get right: a key left alone after its sibling was deleted, two keys
with the same create date, a key exactly at the window's edge, a key a little
*before* its user (clock skew), a programmatic user who got a password years
later, and users with paths.

Everything goes through boto3 against the emulator's endpoint; the only
back door is the emulator's clock (``set_time``), set before every creation
and use so that moto records the dates of the story. A key is "used" by
making a signed call with its credentials at the chosen date, which is how
moto (like AWS) records last use.

Each user carries its expected verdicts, hand-checked against the verdict
table with the default 10-minute window; :func:`seed_company` returns them with
the key ids it got.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

from initkeys.aws import AwsContext
from initkeys.model import Mode, Reason, Status

__all__ = [
    "COMPANY",
    "DEMO_NOW",
    "DemoKey",
    "DemoUser",
    "Expect",
    "ExpectedFinding",
    "seed_company",
]

# The instant the demo audit pretends to run at; the clock is left here.
DEMO_NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)

_S = Status
_R = Reason


def _t(text: str) -> datetime:
    """``2016-03-14 09:12:05`` → an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _t_or_none(text: str | None) -> datetime | None:
    return None if text is None else _t(text)


@dataclass(frozen=True)
class Expect:
    """Expected verdict of one finding: status per mode, and the reason code."""

    setup: Status
    cis: Status
    reason: Reason


@dataclass(frozen=True)
class DemoKey:
    """One access key in the story."""

    created: datetime
    used: datetime | None = None
    """When a signed call with the key is made (AWS then records last use)."""
    deactivated: datetime | None = None
    deleted: datetime | None = None
    """A deleted key leaves no finding; it only moves its sibling's slot."""
    region: str = "us-east-1"
    """Where the key is used, as last-use data shows it."""


@dataclass(frozen=True)
class DemoUser:
    name: str
    created: datetime
    expect: tuple[Expect, ...]
    """One per key that is left (in creation order), or one user-level finding."""
    path: str = "/"
    password: datetime | None = None
    """When the console password was set; None for programmatic users."""
    keys: tuple[DemoKey, ...] = ()
    """In creation order; IAM allows two per user."""
    story: str = ""

    def __post_init__(self) -> None:
        if any(b.created < a.created for a, b in pairwise(self.keys)):
            raise ValueError(f"{self.name}: keys must be listed in creation order")
        if len(self.keys) > 2:
            raise ValueError(f"{self.name}: IAM allows two access keys per user")


@dataclass(frozen=True)
class ExpectedFinding:
    """Ground truth for one finding of the seeded account."""

    user: str
    key_slot: int | None
    """1 or 2 in creation order of the keys left (moto's report and ListAccessKeys order)."""
    access_key_id: str | None
    setup: Status
    cis: Status
    reason: Reason
    story: str
    path: str = "/"

    def status(self, mode: Mode) -> Status:
        return self.cis if mode is Mode.CIS else self.setup


SETUP_KEY_USED = Expect(_S.PASS, _S.PASS, _R.SETUP_KEY_USED)
KEY_USED = Expect(_S.PASS, _S.PASS, _R.KEY_USED)
UNKNOWN_ACTIVE = Expect(_S.WARNING, _S.FAIL, _R.USAGE_UNKNOWN)
UNKNOWN_INACTIVE = Expect(_S.WARNING, _S.PASS, _R.USAGE_UNKNOWN)
SETUP_KEY_UNUSED = Expect(_S.FAIL, _S.FAIL, _R.SETUP_KEY_UNUSED)
SETUP_KEY_INACTIVE = Expect(_S.WARNING, _S.PASS, _R.SETUP_KEY_INACTIVE)
UNUSED_KEY = Expect(_S.WARNING, _S.FAIL, _R.UNUSED_KEY)
INACTIVE_UNUSED_KEY = Expect(_S.PASS, _S.PASS, _R.INACTIVE_UNUSED_KEY)
NO_ACCESS_KEYS = Expect(_S.PASS, _S.PASS, _R.NO_ACCESS_KEYS)
NO_CONSOLE_PASSWORD = Expect(_S.NOT_APPLICABLE, _S.NOT_APPLICABLE, _R.NO_CONSOLE_PASSWORD)


@dataclass(frozen=True)
class _K:
    """A key as the table below writes it: ``created`` in seconds after its user, or a
    date; ``off`` is when it was deactivated. Dates are UTC."""

    created: int | str
    used: str | None = None
    off: str | None = None
    deleted: str | None = None
    region: str = "us-east-1"

    def key(self, user_created: datetime) -> DemoKey:
        if isinstance(self.created, int):
            created = user_created + timedelta(seconds=self.created)
        else:
            created = _t(self.created)
        return DemoKey(
            created,
            _t_or_none(self.used),
            _t_or_none(self.off),
            _t_or_none(self.deleted),
            self.region,
        )


def _console(
    name: str,
    created: str,
    path: str,
    expect: list[Expect],
    keys: list[_K],
    story: str = "",
    password: str | None = None,
) -> DemoUser:
    """A console user whose password was set with the user (by the console wizard, 3 s
    later), unless ``password`` says when it was set."""
    start = _t(created)
    return DemoUser(
        name=name,
        created=start,
        expect=tuple(expect),
        path=path,
        password=_t(password) if password else start + timedelta(seconds=3),
        keys=tuple(k.key(start) for k in keys),
        story=story,
    )


def _programmatic(name: str, created: str, path: str, keys: list[_K], story: str = "") -> DemoUser:
    user = _console(name, created, path, [NO_CONSOLE_PASSWORD], keys, story)
    return replace(user, password=None)


# One user a row: name, created, path, expected verdicts (one per key left, in creation
# order, or one user-level finding), keys, story.
# fmt: off
COMPANY: tuple[DemoUser, ...] = (
    # --- the verdict table, row by row ----------------------------------------------------
    _console("maria.gonzalez", "2016-03-14 09:12:05", "/engineering/", [SETUP_KEY_USED],
             [_K(41, used="2026-11-26 17:40:12")],
             "key made by the onboarding wizard, in daily use since"),
    _console("james.okafor", "2017-08-21 14:02:10", "/engineering/", [KEY_USED],
             [_K("2017-11-02 10:15:44", used="2026-11-20 08:03:51", region="eu-west-1")],
             "created his own key ten weeks after joining"),
    _console("priya.raman", "2019-01-07 10:30:00", "/engineering/", [SETUP_KEY_UNUSED],
             [_K(12)],
             "key made with the user and never used: the control's target"),
    _console("lukas.schneider", "2020-06-02 08:45:30", "/engineering/platform/",
             [SETUP_KEY_INACTIVE], [_K(8, off="2021-03-15 16:20:00")],
             "unused setup key, deactivated by an earlier clean-up but never deleted"),
    _console("chen.wei", "2018-02-12 09:05:00", "/engineering/", [UNUSED_KEY],
             [_K("2022-05-09 13:47:21")],
             "made a key four years after joining and never used it"),
    _console("sofia.rossi", "2019-09-23 11:18:40", "/engineering/", [INACTIVE_UNUSED_KEY],
             [_K("2020-01-15 15:02:09", off="2020-07-01 09:00:00")],
             "self-made key, never used, since deactivated"),
    _console("david.kim", "2013-07-08 16:20:00", "/", [UNKNOWN_ACTIVE],
             [_K(25)],
             "setup key from 2013: AWS has no record of its use either way"),
    _console("helen.murphy", "2014-02-03 11:00:00", "/finance/", [UNKNOWN_INACTIVE],
             [_K(30, off="2017-05-02 10:00:00")],
             "2014 setup key, inactive; use before 2015-04-22 was never recorded"),
    _console("robert.nguyen", "2014-10-20 12:00:00", "/", [SETUP_KEY_USED],
             [_K(15, used="2015-06-01 07:30:00")],
             "pre-2015 setup key whose later use was recorded"),
    _console("aisha.bello", "2021-04-12 09:00:00", "/finance/", [NO_ACCESS_KEYS], [],
             "console only"),
    _console("tom.hughes", "2022-10-03 08:30:00", "/sales/", [NO_ACCESS_KEYS], []),
    _console("emma.larsen", "2023-05-15 13:10:00", "/marketing/", [NO_ACCESS_KEYS], []),
    _programmatic("ci-deploy", "2017-02-01 10:00:00", "/automation/",
                  [_K(5, used="2026-11-27 11:58:02")],
                  "pipeline user, no password"),
    _programmatic("backup-agent", "2015-09-09 03:00:00", "/automation/",
                  [_K(4)],
                  "programmatic user whose key was never used: not this control's business"),
    _programmatic("terraform-runner", "2019-11-11 11:11:11", "/automation/",
                  [_K(2, used="2023-08-30 22:10:00"),
                   _K("2023-09-01 09:00:00", used="2026-11-27 06:00:00")],
                  "two keys mid-rotation, no password"),
    _programmatic("pending-contractor", "2026-11-20 15:45:00", "/contractors/", [],
                  "created, nothing granted yet"),
    _programmatic("jenkins-legacy", "2014-05-05 14:00:00", "/automation/",
                  [_K(6, used="2016-02-10 02:00:00")]),
    # --- edge cases -------------------------------------------------------------------------
    _console("svc-reporting", "2018-06-04 13:00:00", "/automation/", [SETUP_KEY_UNUSED],
             [_K(20)],
             "programmatic user given a console password five years later: its key "
             "predates the password and is judged by the user's creation",
             password="2023-02-14 10:30:00"),
    _console("oliver.bennett", "2016-11-07 09:00:00", "/engineering/", [UNUSED_KEY],
             [_K(30, deleted="2019-03-11 10:00:00"), _K("2019-03-04 16:12:45")],
             "setup key deleted after a rotation; the replacement (slot 2) was never used"),
    _console("nadia.haddad", "2024-01-08 09:00:00", "/engineering/",
             [SETUP_KEY_USED, SETUP_KEY_UNUSED],
             [_K(4, used="2024-01-09 10:20:30"), _K(4)],
             "onboarding script made two keys in the same second; only one is used"),
    _console("grace.liu", "2021-09-01 10:00:00", "/", [SETUP_KEY_UNUSED],
             [_K(600)],
             "key exactly 10 minutes after the user: inside the window (inclusive)"),
    _console("samuel.adeyemi", "2021-09-01 11:00:00", "/", [UNUSED_KEY],
             [_K(601)],
             "key 10 minutes 1 second after the user: outside the window"),
    _console("irene.petrova", "2022-02-14 15:30:00", "/security/", [SETUP_KEY_UNUSED],
             [_K(-30)],
             "key stamped 30 s before its user (IAM clock skew): still a setup key"),
    _console("kevin.walsh", "2015-01-12 10:00:00", "/sales/", [UNKNOWN_ACTIVE, KEY_USED],
             [_K(20), _K("2018-07-30 14:00:00", used="2026-10-01 12:00:00")],
             "old setup key of unknown use next to a newer key in use"),
    _console("laura.fischer", "2020-01-20 09:30:00", "/hr/",
             [SETUP_KEY_USED, INACTIVE_UNUSED_KEY],
             [_K(10, used="2026-11-02 09:12:00"),
              _K("2023-03-03 12:00:00", off="2023-03-03 12:05:00")],
             "used setup key, and a second key deactivated minutes after creation"),
    _console("mohammed.al-sayed", "2025-06-16 08:00:00", "/engineering/data/",
             [SETUP_KEY_INACTIVE], [_K(9, off="2025-06-20 17:00:00")]),
    _console("ana.silva", "2024-08-19 10:00:00", "/support/", [KEY_USED],
             [_K("2024-09-02 14:30:00", used="2024-09-02 14:35:00", region="sa-east-1")]),
    _console("break-glass-admin", "2015-04-21 23:59:00", "/", [SETUP_KEY_UNUSED],
             [_K("2015-04-22 00:00:10")],
             "user a minute before AWS began recording key use, key just after"),
    _console("rachel.cohen", "2018-10-01 09:00:00", "/marketing/", [SETUP_KEY_USED],
             [_K(6, used="2018-10-01 11:00:00")]),
    _console("yuki.tanaka", "2026-11-27 11:50:00", "/engineering/", [SETUP_KEY_UNUSED],
             [_K(20)],
             "new hire this morning, given a key with the account"),
)
# fmt: on


def seed_company(
    aws: AwsContext,
    set_time: Callable[[datetime], None],
    company: tuple[DemoUser, ...] | None = None,
) -> tuple[ExpectedFinding, ...]:
    """Create ``company`` (default :data:`COMPANY`) in the emulator ``aws`` reaches, whose
    clock ``set_time`` sets; return the ground truth. The clock is left at
    :data:`DEMO_NOW`. Secret keys stay in memory and are never printed."""
    iam = aws.client("iam")
    expected: list[ExpectedFinding] = []
    for user in COMPANY if company is None else company:
        key_ids = _seed_user(aws, iam, set_time, user)
        expected.extend(_ground_truth(user, key_ids))
    set_time(DEMO_NOW)
    return tuple(expected)


def _seed_user(
    aws: AwsContext, iam: Any, set_time: Callable[[datetime], None], user: DemoUser
) -> list[str]:
    """Create one user and its story; return the ids of the keys left, in creation order."""
    set_time(user.created)
    iam.create_user(UserName=user.name, Path=user.path)
    first_key = user.keys[0].created if user.keys else None
    # For realism only: moto does not record when a password was set.
    password_later = (
        first_key is not None and user.password is not None and user.password > first_key
    )
    if user.password is not None and not password_later:
        _set_password(iam, set_time, user)
    created = _create_keys(iam, set_time, user)
    if password_later:
        _set_password(iam, set_time, user)

    events: list[tuple[datetime, int, str, DemoKey]] = []
    for (key_id, _secret), key in zip(created, user.keys, strict=True):
        if key.used is not None:
            events.append((key.used, 0, key_id, key))
        if key.deactivated is not None:
            events.append((key.deactivated, 1, key_id, key))
        if key.deleted is not None:
            events.append((key.deleted, 2, key_id, key))
    secrets_by_id = dict(created)
    # In story order, as an operator would have done them.
    for when, kind, key_id, key in sorted(events, key=lambda e: (e[0], e[1])):
        set_time(when)
        if kind == 0:
            _use_key(aws, key_id, secrets_by_id[key_id], key.region)
        elif kind == 1:
            iam.update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Inactive")
        else:
            iam.delete_access_key(UserName=user.name, AccessKeyId=key_id)
    return [kid for (kid, _), key in zip(created, user.keys, strict=True) if key.deleted is None]


def _set_password(iam: Any, set_time: Callable[[datetime], None], user: DemoUser) -> None:
    assert user.password is not None
    set_time(user.password)
    # A throwaway password: the demo never signs in with it.
    iam.create_login_profile(
        UserName=user.name, Password=secrets.token_urlsafe(24), PasswordResetRequired=True
    )


def _create_keys(
    iam: Any, set_time: Callable[[datetime], None], user: DemoUser
) -> list[tuple[str, str]]:
    """Create the user's keys at their dates; ``(key id, secret)`` in creation order.

    Two keys with the same create date are ordered by key id in a live read
    but by creation in moto's credential report. Recreate such a pair until
    both orders agree, so that the ground truth's slots hold either way.
    """
    for _attempt in range(64):
        created: list[tuple[str, str]] = []
        for key in user.keys:
            set_time(key.created)
            answer = iam.create_access_key(UserName=user.name)["AccessKey"]
            created.append((str(answer["AccessKeyId"]), str(answer["SecretAccessKey"])))
        if _ids_agree_with_order(user.keys, created):
            return created
        for key_id, _ in created:
            iam.delete_access_key(UserName=user.name, AccessKeyId=key_id)
    raise RuntimeError(f"could not order the same-second keys of {user.name}")


def _ids_agree_with_order(keys: tuple[DemoKey, ...], created: list[tuple[str, str]]) -> bool:
    for i in range(1, len(keys)):
        if keys[i].created == keys[i - 1].created and created[i][0] < created[i - 1][0]:
            return False
    return True


def _use_key(aws: AwsContext, key_id: str, secret: str, region: str) -> None:
    """A signed call with the key's own credentials, which records its last use."""
    # A client of the context's session (a new Session per key costs 0.15 s), signed
    # with the seeded key instead of the context's credentials.
    sts = aws.session.client(
        "sts",
        endpoint_url=aws.endpoint_url,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )
    sts.get_caller_identity()


def _ground_truth(user: DemoUser, key_ids: list[str]) -> list[ExpectedFinding]:
    console = user.password is not None
    if not console or not key_ids:
        (only,) = user.expect
        return [
            ExpectedFinding(
                user.name, None, None, only.setup, only.cis, only.reason, user.story, user.path
            )
        ]
    if len(user.expect) != len(key_ids):
        raise ValueError(f"{user.name}: {len(user.expect)} expectations for {len(key_ids)} keys")
    return [
        ExpectedFinding(user.name, slot, key_id, e.setup, e.cis, e.reason, user.story, user.path)
        for slot, (key_id, e) in enumerate(zip(key_ids, user.expect, strict=True), start=1)
    ]
