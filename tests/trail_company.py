"""A seeded account and the CloudTrail records that say who made its users and keys.

Users made by an admin in the console, by themselves, by Terraform and by
CloudFormation, and by a second admin; a key with no event, and a used key.
:func:`check_evidence` is what every CloudTrail source must then show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from scenario import NOW, Key, Scenario, at
from trail_records import (
    ACCOUNT,
    BOTO3_AGENT,
    ORG,
    LogFile,
    admin_in_console,
    cloudformation,
    console_user,
    iam_user,
    log_files,
    noise,
    record,
    terraform,
    upload,
)

import initkeys
from initkeys.model import Mode, Reason, Status

S = timedelta(seconds=1)
BUCKET = "example-org-trail-logs"
PREFIX = "cloudtrail/security"
ADMIN = admin_in_console()
ADMIN_ARN = ADMIN.identity["arn"]
# The no-trail key's day has no log file at all: the note says the trail was silent.
NO_LOGS = "has no log file for 2024-03-07T11:49:25Z to 2024-03-07T12:11:35Z"


@dataclass(frozen=True)
class Trail:
    keys: dict[str, Key]
    files: list[LogFile]
    records: list[dict[str, Any]]


def trail_bucket(aws: Any, files: Iterable[LogFile], prefix: str = PREFIX) -> Any:
    """The trail's bucket, BUCKET, in the emulator with ``files`` delivered under
    ``prefix`` (``""``: at the top); returns the S3 client."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    upload(s3, BUCKET, prefix, files)
    return s3


def seed_trail(aws: Any) -> Trail:
    """Users made by an admin in the console, by themselves, by Terraform and
    CloudFormation, and by a second admin; the log files that say so."""
    s = Scenario(aws)
    keys: dict[str, Key] = {}
    records: list[dict[str, Any]] = []
    org_records: list[dict[str, Any]] = []

    def made_by(by: Any, user: str, when: Any, *, key_after: timedelta | None = None) -> None:
        s.user(user, when)
        records.append(record("CreateUser", by, when, user=user))
        records.append(record("CreateLoginProfile", by, when + 2 * S, user=user))
        if key_after is not None:
            keys[user] = s.key(user, when + key_after)
            records.append(
                record(
                    "CreateAccessKey",
                    by,
                    when + key_after,
                    user=user,
                    key_id=keys[user].access_key_id,
                )
            )

    # An admin in the console: user, password and key within a minute (the classic case).
    made_by(ADMIN, "dana.admin-made", at("2024-03-04T10:00:00"), key_after=40 * S)
    records.append(noise(at("2024-03-04T10:00:50"), ADMIN))

    # The user makes a key for themselves 4 minutes after the admin made them:
    # within the setup window by time, yet a separate step (no userName: their own).
    t = at("2024-03-04T11:00:00")
    made_by(ADMIN, "sam.self-made", t)
    keys["sam.self-made"] = s.key("sam.self-made", t + 4 * 60 * S)
    sam = iam_user("sam.self-made")
    records.append(
        record(
            "CreateAccessKey",
            sam,
            t + 4 * 60 * S,
            user=None,
            key_id=keys["sam.self-made"].access_key_id,
        )
    )

    # Made in 2022; the user made a key in the console in 2024 (an organization trail).
    t = at("2022-06-01T09:00:00")
    s.user("lee.later-self", t)
    keys["lee.later-self"] = s.key("lee.later-self", at("2024-02-10T16:20:00"))
    org_records.append(
        record(
            "CreateAccessKey",
            console_user("lee.later-self"),
            at("2024-02-10T16:20:00"),
            user="lee.later-self",
            key_id=keys["lee.later-self"].access_key_id,
        )
    )

    # One Terraform apply; one CloudFormation stack just before midnight (its log
    # file is delivered the next day).
    made_by(terraform(), "tf-console-user", at("2024-03-05T09:00:00"), key_after=2 * S)
    made_by(cloudformation(), "cfn-console-user", at("2024-03-05T23:58:30"), key_after=3 * S)

    # One admin makes the user; a helpdesk script makes the key two minutes later,
    # after the user's own attempt was denied (a failed event is no evidence).
    t = at("2024-03-06T08:00:00")
    made_by(ADMIN, "pat.other-admin", t)
    records.append(
        record(
            "CreateAccessKey",
            iam_user("pat.other-admin"),
            t + 60 * S,
            user=None,
            error="AccessDenied",
        )
    )
    keys["pat.other-admin"] = s.key("pat.other-admin", t + 120 * S)
    records.append(
        record(
            "CreateAccessKey",
            iam_user("it.helpdesk", agent=BOTO3_AGENT, ip="10.20.30.40"),
            t + 120 * S,
            user="pat.other-admin",
            key_id=keys["pat.other-admin"].access_key_id,
        )
    )
    # Another account's event about a user of the same name is not this account's.
    records.append(
        record(
            "CreateAccessKey",
            iam_user("pat.other-admin"),
            t + 120 * S,
            user=None,
            account="210987654321",
        )
    )

    # A setup key with no event in the trail (made before the trail existed, say).
    t = at("2024-03-07T12:00:00")
    s.user("no-trail", t)
    keys["no-trail"] = s.key("no-trail", t + 30 * S)

    # A used setup key passes: CloudTrail is not read for it.
    t = at("2024-03-08T12:00:00")
    s.user("used-key", t)
    keys["used-key"] = s.key("used-key", t + 30 * S)
    s.use(keys["used-key"], t + 3600 * S)
    s.settle(NOW)

    records.sort(key=lambda r: str(r["eventTime"]))
    files = log_files(records) + log_files(org_records, org=ORG)
    # Files the reader must never open: a day no key is near, and a file of a
    # day that matters but delivered hours after anything that matters.
    day = "AWSLogs/{}/CloudTrail/us-east-1/{}/{}_CloudTrail_us-east-1_{}_0123456789abcdef.json.gz"
    files.append(LogFile(day.format(ACCOUNT, "2023/01/01", ACCOUNT, "20230101T0000Z"), b"junk"))
    files.append(LogFile(day.format(ACCOUNT, "2024/03/04", ACCOUNT, "20240304T2300Z"), b"junk"))
    return Trail(keys, files, records + org_records)


def by_user(result: initkeys.AccountAudit) -> dict[str, initkeys.Finding]:
    return {f.user: f for f in result.findings if f.key_slot is not None}


def check_evidence(
    result: initkeys.AccountAudit, mode: Mode = Mode.SETUP, *, no_trail_note: str = NO_LOGS
) -> None:
    found = by_user(result)
    setup = mode is Mode.SETUP

    dana = found["dana.admin-made"]
    assert (dana.status, dana.reason) == (Status.FAIL, Reason.SETUP_KEY_UNUSED)
    assert dana.created_by == ADMIN_ARN
    assert (dana.created_via, dana.created_from) == ("console", "192.0.2.44")
    assert "also made the user (CreateUser, 40s before the key)" in dana.message
    assert dana.evidence_note is None

    sam = found["sam.self-made"]
    if setup:
        assert (sam.status, sam.reason) == (Status.PASS, Reason.SELF_CREATED)
        assert "made by sam.self-made as a separate step" in sam.message
    else:  # cis mode ignores who made a key
        assert (sam.status, sam.reason) == (Status.FAIL, Reason.SETUP_KEY_UNUSED)
    assert sam.created_by == f"arn:aws:iam::{ACCOUNT}:user/sam.self-made"
    assert (sam.created_via, sam.created_from) == ("cli", "203.0.113.25")

    lee = found["lee.later-self"]  # from the organization trail's folder
    want = (Status.PASS, Reason.SELF_CREATED) if setup else (Status.FAIL, Reason.UNUSED_KEY)
    assert (lee.status, lee.reason) == want
    assert (lee.created_via, lee.created_from) == ("console", "198.51.100.7")

    tf = found["tf-console-user"]
    assert (tf.status, tf.reason) == (Status.FAIL, Reason.SETUP_KEY_UNUSED)
    assert tf.created_via == "terraform"
    assert tf.created_by.endswith(":assumed-role/terraform-apply/terraform-run-1711")  # type: ignore[union-attr]

    cfn = found["cfn-console-user"]
    assert (cfn.status, cfn.created_via) == (Status.FAIL, "cloudformation")
    assert cfn.created_from == "cloudformation.amazonaws.com"

    pat = found["pat.other-admin"]
    assert (pat.status, pat.reason) == (Status.FAIL, Reason.SETUP_KEY_UNUSED)
    assert pat.created_by == f"arn:aws:iam::{ACCOUNT}:user/it.helpdesk"
    assert (pat.created_via, pat.created_from) == ("sdk", "10.20.30.40")
    assert "also made" not in pat.message

    none = found["no-trail"]
    assert (none.status, none.reason) == (Status.FAIL, Reason.SETUP_KEY_UNUSED)
    assert none.created_by is None and none.created_via is None
    assert none.evidence_note is not None
    assert no_trail_note in none.evidence_note
    assert "junk" not in none.evidence_note and "gzip" not in none.evidence_note

    used = found["used-key"]
    assert (used.status, used.reason) == (Status.PASS, Reason.SETUP_KEY_USED)
    assert used.created_by is None and used.evidence_note is None  # not looked up
