"""Several accounts in one run: --org, --accounts, --exclude-accounts, isolation."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_kit import run, run_here, subprocess_env
from scenario import NOW, at

import initkeys
from initkeys.aws import AwsContext
from initkeys.policy import AUDIT_ACTIONS
from initkeys.sources.accounts import AccountSelection, TargetAccount, parse_account_ids, role_arn

ROLE = "OrganizationAccountAccessRole"
MANAGEMENT = "123456789012"
S = timedelta(seconds=1)


def member_session(aws: Any, account_id: str) -> Any:
    sts = aws.client("sts")
    creds = sts.assume_role(RoleArn=role_arn(account_id, "aws", ROLE), RoleSessionName="seed")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def new_member(aws: Any, name: str = "prod") -> tuple[str, Any]:
    """A new organization with one member account: its id, and an IAM client in it."""
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
    account_id = status["CreateAccountStatus"]["AccountId"]
    return account_id, member_session(aws, account_id).client("iam", endpoint_url=aws.endpoint_url)


def seed_users(aws: Any, iam: Any, failing: int, clean: int) -> None:
    t = at("2023-02-01T09:00:00")
    for i in range(failing):
        aws.set_time(t)
        iam.create_user(UserName=f"fail-{i}")
        iam.create_login_profile(UserName=f"fail-{i}", Password="Correct-Horse-9!")
        aws.set_time(t + 20 * S)
        iam.create_access_key(UserName=f"fail-{i}")
    for i in range(clean):
        aws.set_time(t)
        iam.create_user(UserName=f"ok-{i}")
        iam.create_login_profile(UserName=f"ok-{i}", Password="Correct-Horse-9!")


@pytest.fixture
def org(aws: Any) -> dict[str, Any]:
    """A management account (1 failing user) and three members (2, 0 and 1 failing)."""
    client = aws.client("organizations")
    client.create_organization(FeatureSet="ALL")
    members: dict[str, str] = {}
    for name in ("prod", "dev", "sandbox"):
        status = client.create_account(AccountName=name, Email=f"{name}@example.com")
        members[name] = status["CreateAccountStatus"]["AccountId"]
    seed_users(aws, aws.client("iam"), 1, 1)
    for name, failing in (("prod", 2), ("dev", 0), ("sandbox", 1)):
        seed_users(
            aws,
            member_session(aws, members[name]).client("iam", endpoint_url=aws.endpoint_url),
            failing,
            2,
        )
    aws.set_time(NOW)
    return members


def fails_by_account(results: list[initkeys.AccountAudit]) -> dict[str, int]:
    return {
        r.account_id: sum(f.status is initkeys.Status.FAIL for f in r.findings) for r in results
    }


def test_audit_accounts_api(aws: Any, org: dict[str, str]) -> None:
    targets = [
        TargetAccount(MANAGEMENT, "management"),
        *(TargetAccount(i, n) for n, i in org.items()),
    ]
    results = list(
        initkeys.audit_accounts(
            AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
            targets,
            AccountSelection(role_name=ROLE),
            workers=4,
        )
    )
    assert [r.account_id for r in results] == [t.account_id for t in targets]
    assert fails_by_account(results) == {
        MANAGEMENT: 1,
        org["prod"]: 2,
        org["dev"]: 0,
        org["sandbox"]: 1,
    }
    assert [r.account_name for r in results] == ["management", "prod", "dev", "sandbox"]
    for r in results:
        assert all(f.arn.split(":")[4] == r.account_id for f in r.findings)


def initkeys_cli(
    aws: Any, command: str, *args: str, cwd: Path | None = None, tmpdir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [command, "--endpoint-url", aws.endpoint_url, *args]
    if tmpdir is not None:  # a subprocess: this process's tempfile has read TMPDIR already
        return run(argv, cwd=cwd, env=subprocess_env(TMPDIR=str(tmpdir)), timeout=180)
    return run_here(argv, cwd=cwd)


def cli(aws: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return initkeys_cli(aws, "audit", *args)


def remediate_cli(aws: Any, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return initkeys_cli(aws, "remediate", *args, cwd=cwd)


def rollback_cli(aws: Any, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return initkeys_cli(aws, "rollback", *args, cwd=cwd)


def test_org_audits_every_active_account(aws: Any, org: dict[str, str], tmp_path: Path) -> None:
    proc = initkeys_cli(
        aws, "audit", "--org", "--role-name", ROLE, "--format", "json", tmpdir=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert not list(tmp_path.iterdir())  # the findings spilled to disk are gone
    doc = json.loads(proc.stdout)
    got = {a["account_id"]: a for a in doc["accounts"]}
    assert set(got) == {MANAGEMENT, *org.values()}
    assert got[org["prod"]]["account_name"] == "prod"
    assert got[org["dev"]]["status"] == "PASS"
    assert doc["summary"]["FAIL"] == 4
    text = cli(aws, "--org", "--role-name", ROLE)
    assert "Accounts (4)" in text.stdout
    assert "sandbox" in text.stdout


def test_accounts_and_exclusions(aws: Any, org: dict[str, str], tmp_path: Path) -> None:
    listed = tmp_path / "accounts.txt"
    listed.write_text(f"# the two with findings\n{org['prod']}\n{org['sandbox']}  # sandbox\n")
    proc = cli(aws, "--accounts", f"@{listed}", "--role-name", ROLE, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert [a["account_id"] for a in json.loads(proc.stdout)["accounts"]] == [
        org["prod"],
        org["sandbox"],
    ]
    proc = cli(
        aws,
        "--org",
        "--exclude-accounts",
        f"{org['prod']},{org['sandbox']},{MANAGEMENT}",
        "--role-name",
        ROLE,
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    assert [a["account_id"] for a in json.loads(proc.stdout)["accounts"]] == [org["dev"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org"], "--role-name"),
        (["--accounts", "12345", "--role-name", "R"], "not a 12-digit AWS account id"),
        (["--org", "--accounts", "123456789012", "--role-name", "R"], "not both"),
        (["--exclude-accounts", "123456789012"], "goes with --org or --accounts"),
        (["--accounts", "@/no/such/file", "--role-name", "R"], "cannot read"),
    ],
)
@pytest.mark.parametrize("command", ["audit", "remediate"])
def test_bad_account_options(aws: Any, command: str, args: list[str], message: str) -> None:
    proc = initkeys_cli(aws, command, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_parse_account_ids() -> None:
    assert parse_account_ids("111122223333, 444455556666,111122223333", "--accounts") == (
        "111122223333",
        "444455556666",
    )


def test_an_account_that_denies_is_an_error_the_rest_go_on(aws: Any, org: dict[str, str]) -> None:
    """With IAM enforced, one member's role has the audit policy and another's has none."""
    iam = aws.client("iam")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(
        UserName="auditor",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    meta = iam.create_access_key(UserName="auditor")["AccessKey"]
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    audit_policy = json.dumps(initkeys.policy_document("audit"))
    for name, allowed in (("prod", True), ("sandbox", False)):
        member_iam = member_session(aws, org[name]).client("iam", endpoint_url=aws.endpoint_url)
        member_iam.create_role(RoleName="Auditor", AssumeRolePolicyDocument=trust)
        if allowed:
            member_iam.put_role_policy(
                RoleName="Auditor", PolicyName="audit", PolicyDocument=audit_policy
            )
    session = boto3.Session(
        aws_access_key_id=meta["AccessKeyId"],
        aws_secret_access_key=meta["SecretAccessKey"],
        region_name="us-east-1",
    )
    targets = [TargetAccount(org["prod"]), TargetAccount(org["sandbox"])]
    with aws.enforcing_iam():
        results = list(
            initkeys.audit_accounts(
                AwsContext(session, endpoint_url=aws.endpoint_url),
                targets,
                AccountSelection(role_name="Auditor"),
            )
        )
    prod, sandbox = results
    assert prod.error is None and fails_by_account([prod]) == {org["prod"]: 2}
    assert sandbox.status is initkeys.Status.ERROR and not sandbox.findings
    assert sandbox.error is not None and "access denied" in sandbox.error
    assert set(AUDIT_ACTIONS) <= set(initkeys.policy_document("audit")["Statement"][0]["Action"])


def key_statuses(aws: Any, account_id: str) -> dict[str, str]:
    if account_id == MANAGEMENT:
        iam = aws.client("iam")
    else:
        iam = member_session(aws, account_id).client("iam", endpoint_url=aws.endpoint_url)
    return {
        k["AccessKeyId"]: k["Status"]
        for u in iam.list_users()["Users"]
        for k in iam.list_access_keys(UserName=u["UserName"])["AccessKeyMetadata"]
    }


def test_remediation_across_accounts_journals_each_account(
    aws: Any, org: dict[str, str], tmp_path: Path
) -> None:
    chosen = f"{org['prod']},{org['dev']},{org['sandbox']}"
    before = {a: key_statuses(aws, a) for a in org.values()}
    dry = remediate_cli(
        aws, tmp_path, "--accounts", chosen, "--role-name", ROLE, "--plan-out", "plan.json"
    )
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("Account ") >= 3
    assert {a: key_statuses(aws, a) for a in org.values()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no journal
    plan = json.loads((tmp_path / "plan.json").read_text())
    planned = {a["account_id"]: a for a in plan["accounts"]}
    assert set(planned) == {org["prod"], org["dev"], org["sandbox"]}
    assert sum(a["action"] == "deactivate" for a in planned[org["prod"]]["actions"]) == 2
    assert plan["summary"]["deactivate"] == 3
    (tmp_path / "plan.json").unlink()

    args = ["--accounts", chosen, "--role-name", ROLE, "--apply", "--yes", "--journal-dir", "j"]
    ran = remediate_cli(aws, tmp_path, *args)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    after = {a: key_statuses(aws, a) for a in org.values()}
    assert list(after[org["prod"]].values()) == ["Inactive", "Inactive"]
    assert list(after[org["sandbox"]].values()) == ["Inactive"]
    assert after[org["dev"]] == before[org["dev"]] == {}
    journals = sorted(p.name for p in (tmp_path / "j").iterdir())
    assert journals == sorted(f"initkeys-journal-{a}.jsonl" for a in (org["prod"], org["sandbox"]))
    for account_id in (org["prod"], org["sandbox"]):
        lines = [
            json.loads(line)
            for line in (tmp_path / "j" / f"initkeys-journal-{account_id}.jsonl")
            .read_text()
            .splitlines()
        ]
        assert lines and all(line["account"] == account_id for line in lines)
        applied = {line["access_key_id"] for line in lines if line["phase"] == "applied"}
        assert applied == set(after[account_id])

    again = remediate_cli(aws, tmp_path, *args)
    assert again.returncode == 0, again.stdout
    assert "Nothing to do." in again.stdout

    # Roll back one member account from the management account, through the role.
    prod_journal = str(tmp_path / "j" / f"initkeys-journal-{org['prod']}.jsonl")
    refused = rollback_cli(aws, tmp_path, "--journal", prod_journal, "--apply", "--yes")
    assert refused.returncode == 2
    assert "--role-name" in refused.stderr
    rolled = rollback_cli(
        aws, tmp_path, "--journal", prod_journal, "--role-name", ROLE, "--apply", "--yes"
    )
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert key_statuses(aws, org["prod"]) == before[org["prod"]]
    assert list(key_statuses(aws, org["sandbox"]).values()) == ["Inactive"]
