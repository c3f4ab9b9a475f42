"""Reading CloudTrail records and log files, without AWS: parsing, file selection, the rate."""

from __future__ import annotations

import gzip
import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest
from scenario import at
from trail_records import (
    ACCOUNT,
    BOTO3_AGENT,
    CLI_AGENT,
    TERRAFORM_AGENT,
    admin_in_console,
    cloudformation,
    console_user,
    iam_user,
    log_files,
    record,
    write_directory,
)

from initkeys.errors import InputError
from initkeys.model import EventName, TimeRange
from initkeys.policy import audit_policy
from initkeys.sources.cloudtrail import (
    DirectoryTrail,
    RateLimiter,
    TrailSpec,
    created_via,
    creation_event,
    days_of,
    may_hold,
    parse_trail_source,
    read_log_file,
)

T = at("2024-03-04T10:00:00")
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("agent", "console", "via"),
    [
        (CLI_AGENT, False, "cli"),
        ("aws-cli/1.32.0 Python/3.11.8 Linux/6.5.0 botocore/1.34.0", False, "cli"),
        (BOTO3_AGENT, False, "sdk"),
        ("aws-sdk-java/1.12.600 Linux/5.10 OpenJDK_64-Bit_Server_VM/17", False, "sdk"),
        ("aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1", False, "sdk"),
        (TERRAFORM_AGENT, False, "terraform"),  # names the Go SDK too: Terraform wins
        ("cloudformation.amazonaws.com", False, "cloudformation"),
        ("AWS Internal", True, "console"),
        ("console.amazonaws.com", False, "console"),
        ("AWS Internal", False, "console"),
        ("Mozilla/5.0 curl", False, "other"),
        (None, False, None),
    ],
)
def test_created_via(agent: str | None, console: bool, via: str | None) -> None:
    assert created_via(agent, console=console) == via


def test_a_console_users_own_key() -> None:
    item = record("CreateAccessKey", console_user("lee"), T, user=None, key_id="AKIA1")
    event = creation_event(item)
    assert event is not None
    assert event.name is EventName.CREATE_ACCESS_KEY
    assert event.target_user == "lee"  # no userName: the caller's own key
    assert event.is_self
    assert (event.via, event.source_ip, event.access_key_id) == ("console", "198.51.100.7", "AKIA1")
    assert event.principal_arn == f"arn:aws:iam::{ACCOUNT}:user/lee"
    assert event.account_id == ACCOUNT
    assert event.time == T


def test_an_assumed_role_is_never_the_user_itself() -> None:
    admin = admin_in_console("lee")  # a role session named like the user
    event = creation_event(record("CreateAccessKey", admin, T, user="lee", key_id="AKIA1"))
    assert event is not None
    assert event.principal_type == "AssumedRole" and event.principal_name == "lee"
    assert not event.is_self
    assert event.via == "console"


def test_user_names_ignore_case() -> None:
    event = creation_event(record("CreateAccessKey", iam_user("Lee"), T, user="lee", key_id="K"))
    assert event is not None and event.is_self


def test_cloudformation_is_named_by_its_invoker() -> None:
    event = creation_event(record("CreateUser", cloudformation(), T, user="svc"))
    assert event is not None
    assert (event.via, event.source_ip) == ("cloudformation", "cloudformation.amazonaws.com")
    assert event.access_key_id is None


@pytest.mark.parametrize(
    "item",
    [
        record("CreateAccessKey", iam_user("lee"), T, user=None, error="AccessDenied"),
        record("CreateAccessKey", iam_user("lee"), T, user="lee", source="sts.amazonaws.com"),
        record("DeleteAccessKey", iam_user("lee"), T, user="lee"),
        {**record("CreateUser", iam_user("lee"), T, user="bob"), "eventTime": "yesterday"},
        {
            **record("CreateAccessKey", iam_user("root"), T, user=None),
            "userIdentity": {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"},
        },
    ],
    ids=["failed", "other-service", "other-event", "bad-time", "root-own-key"],
)
def test_records_that_are_no_evidence(item: dict[str, object]) -> None:
    assert creation_event(item) is None


def test_read_log_file_gzip_plain_and_junk() -> None:
    items = [record("CreateUser", iam_user("admin"), T, user="bob")]
    body = json.dumps({"Records": items}).encode()
    assert read_log_file(gzip.compress(body), "a.json.gz") == items
    assert read_log_file(body, "a.json") == items
    for junk, why in (
        (b"\x1f\x8bnot really", "not a readable gzip file"),
        (b"{", "not JSON"),
        (b'{"records": []}', "no CloudTrail 'Records' list"),
    ):
        with pytest.raises(ValueError, match=why):
            read_log_file(junk, "x")


def test_only_files_delivered_while_a_range_can_be_in_them_are_read() -> None:
    span = [TimeRange(at("2024-03-04T10:00:00"), at("2024-03-04T10:20:00"))]
    name = "123456789012_CloudTrail_us-east-1_{}_abcdefabcdefabcd.json.gz"
    assert not may_hold(name.format("20240304T0955Z"), span)  # delivered before it began
    assert may_hold(name.format("20240304T1000Z"), span)  # the minute it began
    assert may_hold(name.format("20240304T1120Z"), span)  # an hour late
    assert not may_hold(name.format("20240304T1121Z"), span)
    assert may_hold("copied-by-hand.json.gz", span)  # no time in the name: read it
    assert may_hold(name.format("20241399T2599Z"), span)  # nor a time that is none
    # A range just before midnight is delivered the next day.
    late = [TimeRange(at("2024-03-05T23:50:00"), at("2024-03-05T23:59:00"))]
    assert [d.isoformat() for d in days_of(late)] == ["2024-03-05", "2024-03-06"]


def test_a_directory_reports_unreadable_files_and_other_accounts(tmp_path: Path) -> None:
    items = [
        record("CreateUser", iam_user("admin"), T, user="bob"),
        record("CreateAccessKey", iam_user("admin"), T + 5 * SECOND, user="bob", key_id="K"),
    ]
    files = log_files(items) + log_files(items, account="210987654321")
    root = write_directory(tmp_path, files)
    bad = root / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2024" / "03" / "04"
    (bad / f"{ACCOUNT}_CloudTrail_us-east-1_20240304T1006Z_ffffffffffffffff.json.gz").write_bytes(
        b"\x1f\x8b broken"
    )
    evidence = DirectoryTrail(str(root)).read(
        ACCOUNT, "aws", [TimeRange(T - timedelta(minutes=10), T + timedelta(minutes=10))]
    )
    assert [(e.name, e.account_id) for e in evidence.events] == [
        (EventName.CREATE_USER, ACCOUNT),
        (EventName.CREATE_ACCESS_KEY, ACCOUNT),
    ]
    assert len(evidence.problems) == 1 and "not a readable gzip file" in evidence.problems[0]
    assert evidence.unlogged == ()


def test_parse_trail_source(tmp_path: Path) -> None:
    assert parse_trail_source("lookup") == TrailSpec("lookup")
    assert parse_trail_source("s3://trail-bucket") == TrailSpec("s3", bucket="trail-bucket")
    assert parse_trail_source("s3://trail-bucket/team/ct/") == TrailSpec(
        "s3", bucket="trail-bucket", prefix="team/ct"
    )
    # The prefix as the S3 console shows it, AWSLogs included, is the same trail.
    same = TrailSpec("s3", bucket="b-1", prefix="team")
    assert parse_trail_source("s3://b-1/team/AWSLogs/") == same
    assert parse_trail_source(str(tmp_path)) == TrailSpec("directory", path=str(tmp_path))
    (tmp_path / "file.json.gz").write_bytes(b"")
    for bad, why in (
        ("s3://", "not an S3 bucket name"),
        ("s3://my bucket/x", "not an S3 bucket name"),
        (str(tmp_path / "file.json.gz"), "not a directory"),
        ("lookups", "expected 'lookup'"),
    ):
        with pytest.raises(InputError, match=why):
            parse_trail_source(bad)


def test_rate_limiter_spaces_requests_evenly() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    starts = []
    for pause in (0.0, 0.0, 0.1, 2.0, 0.0):
        now[0] += pause
        limiter.wait()
        starts.append(now[0])
    assert slept == pytest.approx([0.5, 0.4, 0.5])
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.5 - 1e-9 for gap in gaps)  # never two within half a second


def test_policy_adds_only_what_the_source_needs() -> None:
    plain = audit_policy()
    assert [s["Sid"] for s in plain["Statement"]] == ["InitkeysAudit"]
    assert not any(
        a.startswith(("cloudtrail:", "s3:")) for s in plain["Statement"] for a in s["Action"]
    )
    lookup = audit_policy(TrailSpec("lookup"))
    assert lookup["Statement"][0] == plain["Statement"][0]
    assert lookup["Statement"][1]["Action"] == ["cloudtrail:LookupEvents"]
    s3 = audit_policy(TrailSpec("s3", bucket="logs", prefix="org/ct"), partition="aws-us-gov")
    assert [(s["Action"], s["Resource"]) for s in s3["Statement"][1:]] == [
        (["s3:ListBucket"], "arn:aws-us-gov:s3:::logs"),
        (["s3:GetObject"], "arn:aws-us-gov:s3:::logs/org/ct/AWSLogs/*"),
    ]
    assert audit_policy(TrailSpec("directory", path="/logs")) == plain
