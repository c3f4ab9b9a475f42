"""``initkeys audit --send-to securityhub``: findings imported into the emulator's Security
Hub in batches, stale ones archived, failures reported, least privilege enforced. The CLI
runs in-process: these tests are about what is sent, not the process."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import cli_kit
from faults import FaultProxy, error_xml
from scenario import NOW, Scenario, at
from test_cli import HEADER, here, live_env, no_aws_env, row, seed_one_failing_user, write
from test_org import MANAGEMENT, ROLE, cli, member_session, org  # noqa: F401 (org: a fixture)

import initkeys
from initkeys.policy import SECURITYHUB_ACTIONS

IMPORT = "/findings/import"


def report(users: int, *, keys: bool = True, account: str = MANAGEMENT) -> str:
    """A credential report: ``users`` console users, each with a setup key never used."""
    key = ("true", "2022-01-01T00:00:20+00:00", "N/A") if keys else None
    rows = [
        row(f"user-{i:03}", "2022-01-01T00:00:00+00:00", "true", key, account=account)
        for i in range(users)
    ]
    return "\n".join([HEADER, *rows]) + "\n"


def hub(client: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_findings").paginate():
        found.update((f["Id"], f) for f in page["Findings"])
    return found


def active(findings: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i: f for i, f in findings.items() if f.get("RecordState") == "ACTIVE"}


def send(env: dict[str, str], endpoint: str, *args: str) -> Any:
    return here(["audit", *args, "--send-to", "securityhub", "--endpoint-url", endpoint], env)


def summary(stderr: str) -> str:
    (line,) = [x for x in stderr.splitlines() if "securityhub: imported" in x]
    return line


def test_offline_report_goes_in_batches_and_a_rerun_updates_and_archives(
    tmp_path: Path, aws: Any
) -> None:
    env = live_env(tmp_path)
    first = write(tmp_path, "first.csv", report(250))
    with FaultProxy(aws.endpoint_url, lambda action, count: None) as proxy:
        proc = send(env, proxy.url, "--credential-report", first, "--format", "json")
        assert proxy.calls(IMPORT) == 3  # 100 + 100 + 50
    assert proc.returncode == 1, proc.stderr  # the audit's own verdict: FAIL keys
    assert json.loads(proc.stdout)["summary"]["FAIL"] == 250
    assert "imported 250 finding(s)" in summary(proc.stderr)
    securityhub = aws.client("securityhub")
    stored = hub(securityhub)
    assert len(active(stored)) == 250
    assert {f["Compliance"]["Status"] for f in stored.values()} == {"FAILED"}
    assert {f["AwsAccountId"] for f in stored.values()} == {MANAGEMENT}

    # The first ten users' keys are gone: their key findings are archived, the rest updated.
    second = write(tmp_path, "second.csv", report(10, keys=False) + report(250).split("\n", 11)[11])
    proc = send(env, aws.endpoint_url, "--credential-report", second, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert "archived 10 no longer found" in summary(proc.stderr)
    after = hub(securityhub)
    assert len(after) == 260  # ids are stable: no duplicates
    archived = {i for i, f in after.items() if f["RecordState"] == "ARCHIVED"}
    assert len(archived) == 10 and archived <= set(stored)
    assert all(after[i]["Title"] == stored[i]["Title"] for i in archived)
    now_passing = [f for f in active(after).values() if f["Compliance"]["Status"] == "PASSED"]
    assert len(now_passing) == 10


def test_live_audit_sends_key_ids_to_the_sessions_region(tmp_path: Path, aws: Any) -> None:
    seed_one_failing_user(aws)
    env = live_env(tmp_path)
    env["AWS_DEFAULT_REGION"] = "eu-west-1"
    proc = send(env, aws.endpoint_url, "--format", "asff")
    assert proc.returncode == 1, proc.stderr
    written = {f["Id"]: f for f in json.loads(proc.stdout)}
    stored = hub(aws.session().client("securityhub", "eu-west-1", endpoint_url=aws.endpoint_url))
    assert stored.keys() == written.keys()
    (erin,) = [f for f in stored.values() if f["ProductFields"]["initkeys/User"] == "erin"]
    assert erin["Resources"][0]["Id"].startswith("AKIA")
    assert erin["ProductArn"] == (
        f"arn:aws:securityhub:eu-west-1:{MANAGEMENT}:product/{MANAGEMENT}/default"
    )
    assert not hub(aws.client("securityhub"))  # nothing in us-east-1


def test_rejected_findings_are_listed_and_exit_3(tmp_path: Path, aws: Any) -> None:
    path = write(tmp_path, "r.csv", report(3))
    env = live_env(tmp_path)
    rejection = {
        "FailedCount": 1,
        "SuccessCount": 2,
        "FailedFindings": [
            {"Id": "initkeys-1.11-x", "ErrorCode": "InvalidInput", "ErrorMessage": "bad\nfield"}
        ],
    }

    def reject(action: str, count: int) -> tuple[int, str] | None:
        return (200, json.dumps(rejection)) if action == IMPORT else None

    with FaultProxy(aws.endpoint_url, reject) as proxy:
        proc = send(env, proxy.url, "--credential-report", path, "--format", "csv")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.count("\n") == 4  # the report is written whatever happens next
    lines = proc.stderr.splitlines()
    assert (
        "initkeys: securityhub: rejected initkeys-1.11-x (account 123456789012): "
        "InvalidInput: bad field"
    ) in lines
    assert "1 rejected" in summary(proc.stderr)
    assert lines[-1].startswith("initkeys: error: not every finding reached Security Hub")


def test_another_accounts_report_is_refused(tmp_path: Path, aws: Any) -> None:
    path = write(tmp_path, "client.csv", report(2, account="111122223333"))
    proc = send(live_env(tmp_path), aws.endpoint_url, "--credential-report", path)
    assert proc.returncode == 3, proc.stderr
    assert "account 111122223333: Security Hub takes its findings only from that account" in (
        proc.stderr
    )
    assert not hub(aws.client("securityhub"))


def test_without_credentials_the_report_is_still_written(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", report(1))
    out = tmp_path / "out.json"
    env = no_aws_env(tmp_path)
    args = ["audit", "--credential-report", path, "--format", "asff", "-o", str(out)]
    proc = here([*args, "--send-to", "securityhub"], env)
    assert proc.returncode == 3, proc.stderr
    assert "no AWS credentials" in proc.stderr
    assert len(json.loads(out.read_text())) == 1


def test_demo_cannot_send(tmp_path: Path) -> None:
    proc = here(["audit", "--demo", "--send-to", "securityhub"], no_aws_env(tmp_path))
    assert proc.returncode == 2 and "--send-to" in proc.stderr


def test_policy_securityhub_prints_json(tmp_path: Path) -> None:
    proc = here(["policy", "securityhub"], no_aws_env(tmp_path))
    assert proc.returncode == 0
    (statement,) = json.loads(proc.stdout)["Statement"]
    assert statement["Action"] == list(SECURITYHUB_ACTIONS)
    assert not any(a.startswith("iam:") for a in statement["Action"])


def user_with_policies(aws: Any, name: str, *policies: str) -> dict[str, str]:
    iam = aws.client("iam")
    iam.create_user(UserName=name)
    for policy in policies:
        iam.put_user_policy(
            UserName=name,
            PolicyName=policy,
            PolicyDocument=json.dumps(initkeys.policy_document(policy)),
        )
    meta = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": meta["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": meta["SecretAccessKey"],
    }


def test_least_privilege_audit_and_securityhub_policies_are_enough(
    tmp_path: Path, aws: Any
) -> None:
    seed_one_failing_user(aws)
    enough = live_env(tmp_path) | user_with_policies(aws, "sender", "audit", "securityhub")
    short = live_env(tmp_path) | user_with_policies(aws, "auditor", "audit")
    with aws.enforcing_iam():
        sent = send(enough, aws.endpoint_url, "--format", "json")
        denied = send(short, aws.endpoint_url, "--format", "json")
    assert sent.returncode == 1, sent.stderr
    assert "imported" in summary(sent.stderr) and "failed" not in summary(sent.stderr)
    assert any(
        f["ProductFields"]["initkeys/User"] == "erin"
        for f in hub(aws.client("securityhub")).values()
    )

    assert denied.returncode == 3, denied.stderr
    assert json.loads(denied.stdout)["summary"]["FAIL"] == 1  # the audit itself worked
    assert "securityhub:BatchImportFindings" in denied.stderr
    assert "initkeys policy securityhub" in denied.stderr
    assert "Traceback" not in denied.stderr


def test_org_findings_go_to_each_accounts_own_hub(aws: Any, org: dict[str, str]) -> None:  # noqa: F811
    proc = cli(aws, "--org", "--role-name", ROLE, "--send-to", "securityhub", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert "for 4 account(s)" in summary(proc.stderr)
    expected_fails = {MANAGEMENT: 1, org["prod"]: 2, org["dev"]: 0, org["sandbox"]: 1}
    for account_id, fails in expected_fails.items():
        if account_id == MANAGEMENT:
            client = aws.client("securityhub")
        else:
            client = member_session(aws, account_id).client(
                "securityhub", endpoint_url=aws.endpoint_url
            )
        stored = hub(client).values()
        assert {f["AwsAccountId"] for f in stored} <= {account_id}
        assert sum(f["Compliance"]["Status"] == "FAILED" for f in stored) == fails
        assert all(
            f["ProductArn"].endswith(f":{account_id}:product/{account_id}/default") for f in stored
        )


def test_offline_send_honours_region(tmp_path: Path, aws: Any) -> None:
    path = write(tmp_path, "r.csv", report(2))
    env = live_env(tmp_path)
    proc = send(env, aws.endpoint_url, "--credential-report", path, "--region", "eu-west-1")
    assert proc.returncode == 1, proc.stderr
    client = boto3.Session("testing", "testing", region_name="eu-west-1").client(
        "securityhub", endpoint_url=aws.endpoint_url
    )
    assert len(hub(client)) == 2


def two_failing_users(aws: Any) -> Any:
    s = Scenario(aws)
    t = at("2023-03-03T10:00:00")
    for name in ("erin", "frank"):
        s.user(name, t)
        s.key(name, t + timedelta(seconds=20))
    s.settle(NOW)
    return aws.client("iam")


def key_findings(stored: dict[str, dict[str, Any]], user: str) -> list[dict[str, Any]]:
    return [
        f
        for f in stored.values()
        if f["ProductFields"].get("initkeys/User") == user
        and "initkeys/KeySlot" in f["ProductFields"]
    ]


def test_a_user_whose_reread_fails_keeps_its_findings_active(tmp_path: Path, aws: Any) -> None:
    """A failed re-read makes the user one ERROR finding; the FAIL Security Hub holds for
    that user's key stays ACTIVE (not archived), while a gone key of another user is."""
    iam = two_failing_users(aws)
    env = live_env(tmp_path)
    first = send(env, aws.endpoint_url, "--format", "json")
    assert first.returncode == 1, first.stderr
    securityhub = aws.client("securityhub")
    (erin_fail,) = key_findings(hub(securityhub), "erin")
    (frank_fail,) = key_findings(hub(securityhub), "frank")
    assert erin_fail["Compliance"]["Status"] == "FAILED"

    # frank's key is deleted (its finding is now stale); erin's re-read is denied.
    (frank_key,) = iam.list_access_keys(UserName="frank")["AccessKeyMetadata"]
    iam.delete_access_key(UserName="frank", AccessKeyId=frank_key["AccessKeyId"])
    proxy: FaultProxy

    def deny_erin(action: str, count: int) -> tuple[int, str] | None:
        if action == "ListAccessKeys" and proxy.params.get("UserName") == "erin":
            return 403, error_xml("AccessDenied", "not for erin")
        return None

    with FaultProxy(aws.endpoint_url, deny_erin) as proxy:
        second = send(env, proxy.url, "--format", "json")
        assert proxy.injected.get("ListAccessKeys", 0) >= 1
    assert second.returncode == 1, second.stderr  # an ERROR finding: the run is incomplete
    (erin,) = [
        f for f in json.loads(second.stdout)["accounts"][0]["findings"] if f["user"] == "erin"
    ]
    assert (erin["status"], erin["key_slot"]) == ("ERROR", None)
    line = summary(second.stderr)
    assert "archived 1 no longer found" in line
    assert "kept 1 of users that could not be read" in line

    after = hub(securityhub)
    assert after[erin_fail["Id"]]["RecordState"] == "ACTIVE"  # the real FAIL is still there
    assert after[erin_fail["Id"]]["Compliance"]["Status"] == "FAILED"
    assert after[frank_fail["Id"]]["RecordState"] == "ARCHIVED"
    (erin_error,) = [
        f
        for f in after.values()
        if f["ProductFields"].get("initkeys/User") == "erin" and f["Id"] != erin_fail["Id"]
    ]
    assert erin_error["Compliance"]["Status"] == "NOT_AVAILABLE"

    # Once erin can be read again, her findings are judged and updated as usual.
    third = send(env, aws.endpoint_url, "--format", "json")
    assert third.returncode == 1, third.stderr
    final = hub(securityhub)
    assert final[erin_fail["Id"]]["RecordState"] == "ACTIVE"
    assert final[erin_error["Id"]]["RecordState"] == "ARCHIVED"


def test_an_unreadable_row_keeps_every_finding_of_its_account(tmp_path: Path, aws: Any) -> None:
    """An invalid-row ERROR may be any user: nothing of that account is archived."""
    env = live_env(tmp_path)
    first = send(env, aws.endpoint_url, "--credential-report", write(tmp_path, "a.csv", report(3)))
    assert first.returncode == 1, first.stderr
    # user-000's key is gone, and one row cannot be read (its creation time).
    key = ("true", "2022-01-01T00:00:20+00:00", "N/A")
    created = "2022-01-01T00:00:00+00:00"
    rows = [
        HEADER,
        row("user-000", created, "true", None, account=MANAGEMENT),
        row("user-001", created, "true", key, account=MANAGEMENT),
        row("user-002", created, "true", key, account=MANAGEMENT),
        row("user-003", "yesterday", "true", key, account=MANAGEMENT),
    ]
    path = write(tmp_path, "b.csv", "\n".join(rows) + "\n")
    second = send(env, aws.endpoint_url, "--credential-report", path, "--format", "json")
    assert second.returncode == 1, second.stderr
    assert json.loads(second.stdout)["summary"]["ERROR"] == 1
    assert "archived 0 no longer found" in summary(second.stderr)
    assert "kept 1 of users that could not be read" in summary(second.stderr)
    assert all(f["RecordState"] == "ACTIVE" for f in hub(aws.client("securityhub")).values())


def test_an_account_that_could_not_be_audited_keeps_its_findings(
    aws: Any,
    org: dict[str, str],  # noqa: F811
) -> None:
    """An account in ERROR (its role cannot be assumed this run) sends and archives nothing:
    the FAIL of a key deleted since stays as it was, while the other accounts update."""
    first = cli(aws, "--org", "--role-name", ROLE, "--send-to", "securityhub")
    assert first.returncode == 1, first.stderr
    sandbox = member_session(aws, org["sandbox"])
    sandbox_hub = sandbox.client("securityhub", endpoint_url=aws.endpoint_url)
    (held,) = [f for f in hub(sandbox_hub).values() if f["Compliance"]["Status"] == "FAILED"]
    for session in (sandbox, None):
        iam = session.client("iam", endpoint_url=aws.endpoint_url) if session else aws.client("iam")
        (key,) = iam.list_access_keys(UserName="fail-0")["AccessKeyMetadata"]
        iam.delete_access_key(UserName="fail-0", AccessKeyId=key["AccessKeyId"])
    proxy: FaultProxy

    def deny_sandbox(action: str, count: int) -> tuple[int, str] | None:
        if action == "AssumeRole" and org["sandbox"] in proxy.params.get("RoleArn", ""):
            return 403, error_xml("AccessDenied", "no role for you")
        return None

    with FaultProxy(aws.endpoint_url, deny_sandbox) as proxy:
        second = cli_kit.run_here(
            [
                *("audit", "--endpoint-url", proxy.url, "--org", "--role-name", ROLE),
                *("--send-to", "securityhub", "--format", "json"),
            ],
        )
    assert second.returncode == 1, second.stderr
    doc = json.loads(second.stdout)
    errors = {a["account_id"] for a in doc["accounts"] if a["status"] == "ERROR"}
    assert errors == {org["sandbox"]}
    assert "archived 1 no longer found" in summary(second.stderr)  # the management one
    assert hub(sandbox_hub)[held["Id"]]["RecordState"] == "ACTIVE"
    assert hub(sandbox_hub)[held["Id"]]["Compliance"]["Status"] == "FAILED"
    archived = [
        f for f in hub(aws.client("securityhub")).values() if f["RecordState"] == "ARCHIVED"
    ]
    assert len(archived) == 1
