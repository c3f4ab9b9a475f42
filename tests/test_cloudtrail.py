"""CloudTrail evidence from log files: a trail's bucket in the emulator's S3, and a directory.

The emulator holds the IAM users and keys; the log files describe who made
them, in CloudTrail's real record layout, delivered a few minutes later as a
trail would (one folder per day, organization trail layout for one user).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_kit import assert_one_line_error, run_here, subprocess_env
from scenario import NOW, at
from test_org import ROLE, new_member
from trail_company import ADMIN, ADMIN_ARN, BUCKET, PREFIX, Trail, check_evidence, trail_bucket
from trail_records import ORG, iam_user, log_files, record, write_directory

import initkeys
from initkeys.audit import audit_report_file
from initkeys.aws import ApiCallCounter, AwsContext
from initkeys.model import Mode, Reason, Settings, Status
from initkeys.sources.accounts import AccountSelection, TargetAccount
from initkeys.sources.cloudtrail import DirectoryTrail, S3Trail, TrailSpec, trail_readers

S = timedelta(seconds=1)


@pytest.mark.parametrize("mode", [Mode.SETUP, Mode.CIS])
def test_live_audit_with_the_trail_bucket(aws: Any, trail: Trail, mode: Mode) -> None:
    trail_bucket(aws, trail.files)
    readers = trail_readers(
        TrailSpec("s3", bucket=BUCKET, prefix=PREFIX),
        aws=AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
    )
    result = initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
        settings=Settings(mode=mode),
        trail=readers,
    )
    check_evidence(result, mode)


def test_the_bucket_is_read_only_for_the_days_that_matter(aws: Any, trail: Trail) -> None:
    trail_bucket(aws, trail.files)
    counter = ApiCallCounter()
    client = aws.client("s3")
    counter.attach(client)
    result = initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
        trail=lambda _account: S3Trail(client, BUCKET, PREFIX),
    )
    check_evidence(result)
    # Files delivered near the keys in question only: the junk files are never fetched.
    wanted = [f for f in trail.files if f.body != b"junk"]
    assert counter.calls["s3:GetObject"] == len(wanted)
    # One listing of AWSLogs/, then one per day and layout (account and organization).
    days = {"2024/02/10", "2024/03/04", "2024/03/05", "2024/03/06", "2024/03/07"}
    assert counter.calls["s3:ListObjectsV2"] == 1 + 2 * len(days)


def test_live_audit_with_a_directory(aws: Any, trail: Trail, tmp_path: Path) -> None:
    root = write_directory(tmp_path / "logs", trail.files)
    result = initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
        trail=lambda _a: DirectoryTrail(str(root)),
    )
    check_evidence(result)


def test_report_file_matches_keys_by_user_and_time(aws: Any, trail: Trail, tmp_path: Path) -> None:
    """A report carries no key ids: keys are matched by user and creation second."""
    report = report_file(aws, tmp_path)
    root = write_directory(tmp_path / "logs", trail.files)
    result = audit_report_file(str(report), Settings(), DirectoryTrail(str(root)))
    assert all(f.access_key_id is None for f in result.findings)
    check_evidence(result)


def report_file(aws: Any, tmp_path: Path) -> Path:
    """The emulated account's credential report, as a file a client would hand over."""
    iam = aws.client("iam")
    iam.generate_credential_report()
    report = tmp_path / "report.csv"
    report.write_bytes(iam.get_credential_report()["Content"])
    return report


def _cli(args: list[str], aws: Any, **env: str) -> subprocess.CompletedProcess[str]:
    """``initkeys ARGS`` against the emulator, with the test's AWS settings and ``env``
    (in-process: these tests are about reading the trail, not the process)."""
    return run_here(args, env=subprocess_env(AWS_ENDPOINT_URL=aws.endpoint_url, **env))


def test_cli_audit_with_cloudtrail_s3(aws: Any, trail: Trail) -> None:
    trail_bucket(aws, trail.files)
    proc = _cli(["audit", "--format", "json", "--cloudtrail", f"s3://{BUCKET}/{PREFIX}/"], aws)
    assert proc.returncode == 1, proc.stderr
    findings = {f["user"]: f for f in json.loads(proc.stdout)["accounts"][0]["findings"]}
    assert findings["sam.self-made"]["status"] == "PASS"
    assert findings["sam.self-made"]["reason"] == "self-created"
    assert findings["dana.admin-made"]["created_by"] == ADMIN_ARN
    assert findings["dana.admin-made"]["created_via"] == "console"
    assert findings["dana.admin-made"]["created_from"] == "192.0.2.44"
    assert findings["no-trail"]["created_by"] is None
    assert "may not have been logging" in findings["no-trail"]["evidence_note"]


def test_cli_report_file_with_a_directory(aws: Any, trail: Trail, tmp_path: Path) -> None:
    report = report_file(aws, tmp_path)
    root = write_directory(tmp_path / "logs", trail.files)
    proc = _cli(
        ["audit", "--credential-report", str(report), "--cloudtrail", str(root), "--format", "csv"],
        aws,
    )
    assert proc.returncode == 1, proc.stderr
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert rows["sam.self-made"]["reason"] == "self-created"
    assert rows["pat.other-admin"]["created_via"] == "sdk"
    assert rows["pat.other-admin"]["created_by"].endswith(":user/it.helpdesk")

    text = _cli(["audit", "--credential-report", str(report), "--cloudtrail", str(root)], aws)
    assert "Created by" in text.stdout
    assert "it.helpdesk (sdk)" in text.stdout
    assert "not found" in text.stdout  # the no-trail key


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--cloudtrail", "nowhere/at/all"], 2, "expected 'lookup', s3://BUCKET/PREFIX"),
        (["--cloudtrail", "s3://"], 2, "is not an S3 bucket name"),
        (["--cloudtrail", "s3://no-such-trail-bucket/x"], 2, "no such bucket"),
        (["--credential-report", "x.csv", "--cloudtrail", "lookup"], 2, "event history"),
        (["--demo", "--cloudtrail", "lookup"], 2, "--demo"),
    ],
)
def test_cli_bad_cloudtrail_source(aws: Any, args: list[str], code: int, words: str) -> None:
    line = assert_one_line_error(_cli(["audit", *args], aws), code)
    assert words in line


def test_reading_the_bucket_needs_the_printed_policy(aws: Any, trail: Trail) -> None:
    """With IAM enforced: the audit policy alone is denied the bucket (exit 3, naming the
    policy to print); with 'initkeys policy audit --cloudtrail s3://…' it is enough."""
    trail_bucket(aws, trail.files)
    iam = aws.client("iam")
    source = f"s3://{BUCKET}/{PREFIX}"
    for name, document in (
        ("plain-auditor", initkeys.policy_document("audit")),
        ("trail-auditor", _policy(["policy", "audit", "--cloudtrail", source], aws)),
    ):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    keys = {
        name: iam.create_access_key(UserName=name)["AccessKey"]
        for name in ("plain-auditor", "trail-auditor")
    }
    with aws.enforcing_iam():
        results = {}
        for name, key in keys.items():
            results[name] = _cli(
                ["audit", "--format", "json", "--cloudtrail", source],
                aws,
                AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"],
            )
    denied = assert_one_line_error(results["plain-auditor"], 3)
    assert "access denied for s3:ListBucket on " + source in denied
    assert f"initkeys policy audit --cloudtrail {source}" in denied
    allowed = results["trail-auditor"]
    assert allowed.returncode == 1, allowed.stderr
    findings = {f["user"]: f for f in json.loads(allowed.stdout)["accounts"][0]["findings"]}
    assert findings["sam.self-made"]["reason"] == "self-created"


def _policy(args: list[str], aws: Any) -> dict[str, Any]:
    proc = _cli(args, aws)
    assert proc.returncode == 0, proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


def test_organization_audit_reads_each_members_logs_from_one_bucket(aws: Any) -> None:
    """The organization trail's bucket is read once, with the signed-in account's
    credentials, for every member audited through its role."""
    prod, iam = new_member(aws)
    t = at("2024-05-02T09:00:00")
    aws.set_time(t)
    iam.create_user(UserName="mia")
    iam.create_login_profile(UserName="mia", Password="Correct-Horse-9!")
    aws.set_time(t + 180 * S)
    key = iam.create_access_key(UserName="mia")["AccessKey"]["AccessKeyId"]
    aws.set_time(NOW)
    mia = iam_user("mia", account=prod)
    records = [
        record("CreateUser", ADMIN, t, user="mia", account=prod),
        record("CreateAccessKey", mia, t + 180 * S, user=None, key_id=key, account=prod),
    ]
    trail_bucket(aws, log_files(records, account=prod, org=ORG), prefix="")

    readers = trail_readers(
        TrailSpec("s3", bucket=BUCKET), aws=AwsContext(aws.session(), endpoint_url=aws.endpoint_url)
    )
    results = list(
        initkeys.audit_accounts(
            AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
            [TargetAccount(prod, "prod")],
            AccountSelection(role_name=ROLE),
            trail=readers,
        )
    )
    (finding,) = [f for f in results[0].findings if f.user == "mia"]
    assert (finding.status, finding.reason) == (Status.PASS, Reason.SELF_CREATED)
    assert finding.created_by == f"arn:aws:iam::{prod}:user/mia"


def test_an_archived_log_file_is_named_not_fatal(aws: Any, trail: Trail) -> None:
    """A lifecycle rule may have moved old log files to Glacier: the keys whose events
    could be in one say so, and the rest of the evidence stands."""
    s3 = trail_bucket(aws, trail.files)
    # The file delivered at 08:07 holds the event of pat's key (made at 08:02).
    (archived,) = [f for f in trail.files if "_20240306T0807Z_" in f.key]
    s3.copy_object(
        Bucket=BUCKET,
        Key=f"{PREFIX}/{archived.key}",
        CopySource={"Bucket": BUCKET, "Key": f"{PREFIX}/{archived.key}"},
        StorageClass="GLACIER",
    )
    result = initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
        trail=trail_readers(
            TrailSpec("s3", bucket=BUCKET, prefix=PREFIX),
            aws=AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
        ),
    )
    found = {f.user: f for f in result.findings}
    pat = found["pat.other-admin"]  # its key's event was in the archived file
    assert pat.created_by is None
    assert pat.evidence_note is not None and "archived; restore it to read it" in pat.evidence_note
    assert found["sam.self-made"].reason is Reason.SELF_CREATED
