"""``initkeys remediate --cloudtrail SOURCE`` against the moto server: a key its own user
made (per the trail's log files) is PASS ``self-created`` and left alone; without the
trail the same key is judged by its times and deactivated. State is read back with boto3."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from cli_kit import assert_one_line_error, subprocess_env
from cli_kit import run as run_subprocess
from remediation_kit import changed, invoke, journal_lines, snapshot
from scenario import NOW, at
from test_org import ROLE, new_member, remediate_cli
from trail_company import ADMIN, BUCKET, PREFIX, Trail, trail_bucket
from trail_records import ORG, iam_user, log_files, record, write_directory

import initkeys

S = timedelta(seconds=1)
# Keys the trail's evidence leaves FAIL setup-key-unused (made by an admin, Terraform,
# CloudFormation, a helpdesk script, or with no event at all): deactivated either way.
MADE_BY_OTHERS = ("dana.admin-made", "tf-console-user", "cfn-console-user", "pat.other-admin")
FAILING = (*MADE_BY_OTHERS, "no-trail")


def _remediate(aws: Any, cwd: Path, *args: str) -> Any:
    return invoke(["remediate", "--endpoint-url", aws.endpoint_url, *args], cwd=cwd)


def _ids(trail: Trail, *users: str) -> set[str]:
    return {trail.keys[user].access_key_id for user in users}


def test_self_created_keys_are_left_alone_with_the_trail(
    aws: Any, trail: Trail, tmp_path: Path
) -> None:
    logs = write_directory(tmp_path / "logs", trail.files)
    sam = trail.keys["sam.self-made"].access_key_id
    before = snapshot(aws)

    dry = _remediate(aws, tmp_path, "--cloudtrail", str(logs), "--plan-out", "plan.json")
    assert dry.code == 0, dry.stderr
    assert f"CloudTrail {logs}" in dry.stdout  # the plan says what judged it
    (line,) = [x for x in dry.stdout.splitlines() if sam in x]
    assert "PASS self-created" in line and "nothing" in line and "its own user made it" in line
    plan = json.loads((tmp_path / "plan.json").read_text())
    actions = {a["access_key_id"]: a for a in plan["accounts"][0]["actions"]}
    assert actions[sam]["action"] is None and actions[sam]["reason"] == "self-created"
    assert {k for k, a in actions.items() if a["action"] == "deactivate"} == _ids(trail, *FAILING)
    assert snapshot(aws) == before

    journal = tmp_path / "with-trail.jsonl"
    ran = _remediate(
        aws, tmp_path, "--cloudtrail", str(logs), "--apply", "--yes", "--journal", str(journal)
    )
    assert ran.code == 0, ran.stdout + ran.stderr
    after = snapshot(aws)
    assert changed(before, after) == dict.fromkeys(_ids(trail, *FAILING), "Active->Inactive")
    assert after[sam][1] == "Active"
    assert sam not in {line["access_key_id"] for line in journal_lines(journal)}

    # Without the trail, sam's key (4 minutes after the user) is a setup key: deactivated.
    plain = _remediate(aws, tmp_path, "--apply", "--yes", "--journal", str(tmp_path / "j.jsonl"))
    assert plain.code == 0, plain.stdout + plain.stderr
    assert changed(after, snapshot(aws)) == {sam: "Active->Inactive"}


def test_cloudtrail_with_from_audit_or_a_bad_source_is_refused(
    aws: Any, trail: Trail, tmp_path: Path
) -> None:
    logs = write_directory(tmp_path / "logs", trail.files)
    report = tmp_path / "audit.json"
    report.write_text("{}")
    before = snapshot(aws)
    both = _remediate(aws, tmp_path, "--from-audit", str(report), "--cloudtrail", str(logs))
    assert both.code == 2 and "--from-audit" in both.stderr
    assert "initkeys audit --cloudtrail SOURCE" in both.stderr
    bad = _remediate(aws, tmp_path, "--cloudtrail", "nowhere/at/all")
    assert bad.code == 2 and "expected 'lookup', s3://BUCKET/PREFIX" in bad.stderr
    missing = _remediate(aws, tmp_path, "--cloudtrail", "s3://no-such-trail-bucket/x")
    assert missing.code == 2 and "no such bucket" in missing.stderr
    assert snapshot(aws) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json", "logs"]  # no journal


def test_across_accounts_the_bucket_spares_self_created_keys(aws: Any, tmp_path: Path) -> None:
    """--accounts: each member audited through its role, the organization trail's bucket
    read once with the signed-in credentials, as the audit does."""
    prod, iam = new_member(aws)
    t = at("2024-05-02T09:00:00")
    records = []
    keys = {}
    for user, maker in (("mia", iam_user("mia", account=prod)), ("ola", ADMIN)):
        aws.set_time(t)
        iam.create_user(UserName=user)
        iam.create_login_profile(UserName=user, Password="Correct-Horse-9!")
        records.append(record("CreateUser", ADMIN, t, user=user, account=prod))
        aws.set_time(t + 180 * S)
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
        records.append(
            record(
                "CreateAccessKey",
                maker,
                t + 180 * S,
                user=None if user == "mia" else user,
                key_id=keys[user],
                account=prod,
            )
        )
        t += 3600 * S
    aws.set_time(NOW)
    trail_bucket(aws, log_files(records, account=prod, org=ORG), prefix="")

    args = ["--accounts", prod, "--role-name", ROLE, "--cloudtrail", f"s3://{BUCKET}"]
    ran = remediate_cli(aws, tmp_path, *args, "--apply", "--yes", "--journal-dir", "j")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for user in keys
        for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    }
    assert statuses == {keys["mia"]: "Active", keys["ola"]: "Inactive"}


def test_reading_the_bucket_needs_the_printed_remediate_policy(
    aws: Any, trail: Trail, tmp_path: Path
) -> None:
    """With IAM enforced: 'policy remediate' alone is denied the bucket (exit 3, naming the
    policy to print, nothing changed); 'policy remediate --cloudtrail s3://…' is enough."""
    trail_bucket(aws, trail.files)
    source = f"s3://{BUCKET}/{PREFIX}"
    client = aws.client("iam")
    envs = {}
    for name, policy in (
        ("plain-remediator", ["policy", "remediate"]),
        ("trail-remediator", ["policy", "remediate", "--cloudtrail", source]),
    ):
        document = run_subprocess(policy).stdout
        client.create_user(UserName=name)
        client.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document)
        meta = client.create_access_key(UserName=name)["AccessKey"]
        envs[name] = subprocess_env(
            AWS_ACCESS_KEY_ID=meta["AccessKeyId"], AWS_SECRET_ACCESS_KEY=meta["SecretAccessKey"]
        )
    before = _seeded(aws)
    args = ["remediate", "--endpoint-url", aws.endpoint_url, "--cloudtrail", source]
    with aws.enforcing_iam():
        denied = run_subprocess(
            [*args, "--apply", "--yes"], cwd=tmp_path, env=envs["plain-remediator"]
        )
    line = assert_one_line_error(denied, 3)
    assert f"access denied for s3:ListBucket on {source}" in line
    assert f"initkeys policy remediate --cloudtrail {source}" in line
    assert _seeded(aws) == before  # read as admin, outside enforcement
    with aws.enforcing_iam():
        allowed = run_subprocess(
            [*args, "--apply", "--yes", "--journal", "j.jsonl"],
            cwd=tmp_path,
            env=envs["trail-remediator"],
        )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    after = _seeded(aws)
    assert changed(before, after) == dict.fromkeys(_ids(trail, *FAILING), "Active->Inactive")
    assert after[trail.keys["sam.self-made"].access_key_id][1] == "Active"


def _seeded(aws: Any) -> dict[str, tuple[str, str, str, str | None]]:
    """Every key but the remediators' own (signing with a key uses it)."""
    return {k: v for k, v in snapshot(aws).items() if not v[0].endswith("-remediator")}


def test_policy_remediate_with_cloudtrail() -> None:
    plain = initkeys.policy.remediate_policy()
    lookup = json.loads(run_subprocess(["policy", "remediate", "--cloudtrail", "lookup"]).stdout)
    assert lookup["Statement"][0] == plain["Statement"][0]
    assert lookup["Statement"][1]["Action"] == ["cloudtrail:LookupEvents"]
    gov = run_subprocess(
        ["policy", "remediate", "--cloudtrail", "s3://b-logs/p", "--partition", "aws-us-gov"]
    )
    resources = [s["Resource"] for s in json.loads(gov.stdout)["Statement"][1:]]
    assert resources == ["arn:aws-us-gov:s3:::b-logs", "arn:aws-us-gov:s3:::b-logs/p/AWSLogs/*"]
    assert initkeys.policy_document("remediate") == plain  # unchanged without --cloudtrail
