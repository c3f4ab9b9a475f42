"""``initkeys remediate`` against a real moto server: the plan, exactly the planned
changes and nothing else, live re-verification, the journal, exit codes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_kit import assert_one_line_error, run, run_here, subprocess_env
from remediation_kit import (
    Account,
    applied,
    assert_journal_true,
    audit_json,
    aws_cli_keys,
    changed,
    invoke,
    journal_lines,
    phases,
    seed,
    snapshot,
)
from scenario import NOW, Scenario, at

import initkeys
from initkeys.aws import ApiCallCounter, AwsContext
from initkeys.model import Exemption, Finding, Mode, Reason, Settings, Status
from initkeys.remediate import (
    Action,
    Phase,
    Remediator,
    plan_remediation,
    plan_rollback,
    read_audit_report,
    read_journal,
)


@pytest.fixture
def account(aws: Any) -> Account:
    return seed(aws)


def remediate(aws: Any, *args: str, cwd: Path | None = None) -> Any:
    return invoke(["remediate", "--endpoint-url", aws.endpoint_url, *args], cwd=cwd)


# -- the plan (pure) ----------------------------------------------------------------------


def finding(status: Status, reason: Reason, **kw: Any) -> Finding:
    fields: dict[str, Any] = {"key_slot": 1, "access_key_id": "AKIAEXAMPLE", "active": True}
    fields.update(kw)
    return Finding("u", "arn:aws:iam::1:user/u", status, reason, "m", **fields)


@pytest.mark.parametrize(
    ("status", "reason", "mode", "plain", "with_delete"),
    [
        (Status.FAIL, Reason.SETUP_KEY_UNUSED, Mode.SETUP, Action.DEACTIVATE, Action.DELETE),
        (Status.FAIL, Reason.SETUP_KEY_UNUSED, Mode.CIS, Action.DEACTIVATE, Action.DELETE),
        (Status.FAIL, Reason.UNUSED_KEY, Mode.CIS, Action.DEACTIVATE, Action.DELETE),
        (Status.FAIL, Reason.USAGE_UNKNOWN, Mode.CIS, Action.DEACTIVATE, Action.DELETE),
        (Status.WARNING, Reason.SETUP_KEY_INACTIVE, Mode.SETUP, None, Action.DELETE),
        (Status.WARNING, Reason.UNUSED_KEY, Mode.SETUP, None, None),
        (Status.WARNING, Reason.USAGE_UNKNOWN, Mode.SETUP, None, None),
        (Status.PASS, Reason.SETUP_KEY_INACTIVE, Mode.CIS, None, None),
        (Status.PASS, Reason.SETUP_KEY_USED, Mode.SETUP, None, None),
        (Status.PASS, Reason.INACTIVE_UNUSED_KEY, Mode.SETUP, None, None),
        (Status.ERROR, Reason.INVALID_ROW, Mode.SETUP, None, None),
        # A FAIL of another reason in setup mode is not in the table's first row.
        (Status.FAIL, Reason.UNUSED_KEY, Mode.SETUP, None, None),
    ],
)
def test_the_table_of_what_remediation_may_touch(
    status: Status, reason: Reason, mode: Mode, plain: Action | None, with_delete: Action | None
) -> None:
    f = finding(status, reason)
    (p,) = plan_remediation([f], mode=mode)
    (d,) = plan_remediation([f], mode=mode, delete=True)
    assert (p.action, d.action) == (plain, with_delete)
    exempt = finding(status, reason, exemption=Exemption("kept", "cli"))
    assert [x.action for x in plan_remediation([exempt], mode=mode, delete=True)] == [None]


def test_plan_needs_key_ids_and_skips_user_level_findings() -> None:
    offline = finding(Status.FAIL, Reason.SETUP_KEY_UNUSED, access_key_id=None)
    user_level = finding(Status.PASS, Reason.NO_ACCESS_KEYS, key_slot=None, access_key_id=None)
    twice = finding(Status.FAIL, Reason.SETUP_KEY_UNUSED)
    planned = plan_remediation([offline, user_level, twice, twice])
    assert [(p.access_key_id, p.action) for p in planned] == [
        (None, None),
        ("AKIAEXAMPLE", Action.DEACTIVATE),
    ]
    assert "key id" in planned[0].why


# -- dry run, apply, delete -----------------------------------------------------------------


def test_dry_runs_change_nothing(aws: Any, account: Account, tmp_path: Path) -> None:
    before = snapshot(aws)
    plain = remediate(aws, cwd=tmp_path)
    assert plain.code == 0, plain.stderr
    assert "Dry run: nothing was changed. Run again with --apply to deactivate them." in (
        plain.stdout
    )
    assert "4 to deactivate" in plain.stdout
    delete = remediate(aws, "--delete", cwd=tmp_path)
    assert delete.code == 0
    assert "5 to delete" in delete.stdout
    assert "Deleted keys cannot be restored" in delete.stdout
    for name in account.delete:
        assert account.keys[name].access_key_id in delete.stdout
    # Every exempt user's keys are left alone.
    exempt = remediate(aws, "--exempt-user", "twin*", "--exempt-user", "fail-*", cwd=tmp_path)
    assert "Nothing to do." in exempt.stdout
    assert snapshot(aws) == before
    assert list(tmp_path.iterdir()) == []  # not even a journal


def test_plan_out_writes_the_plan_as_json_and_changes_nothing(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    before = snapshot(aws)
    ran = remediate(aws, "--plan-out", "plan.json", cwd=tmp_path)
    assert ran.code == 0, ran.stderr
    assert "4 to deactivate" in ran.stdout  # the human plan is still printed
    assert snapshot(aws) == before
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["kind"] == "initkeys-remediation-plan" and plan["schema_version"] == 1
    assert plan["apply"] is False and plan["delete"] is False and plan["mode"] == "setup"
    (only,) = plan["accounts"]
    assert only["error"] is None and only["principal"].startswith("arn:aws:")
    acting = {a["access_key_id"] for a in only["actions"] if a["action"] == "deactivate"}
    assert acting == account.ids(account.deactivate)
    assert plan["summary"]["deactivate"] == 4
    assert plan["summary"]["left_alone"] == len(only["actions"]) - 4
    left = [a for a in only["actions"] if a["action"] is None]
    assert left and all(a["why"] for a in left)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # no journal


def test_apply_rerun_then_delete(aws: Any, account: Account, tmp_path: Path) -> None:
    """Deactivate exactly the planned keys; a rerun does nothing twice; then delete them
    from the report approved before step one (the two-step workflow)."""
    report = audit_json(aws, tmp_path / "approved.json")
    original = snapshot(aws)
    journal = tmp_path / "j.jsonl"
    ran = remediate(aws, "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 0, ran.stdout + ran.stderr
    deactivated = snapshot(aws)
    assert changed(original, deactivated) == dict.fromkeys(
        account.ids(account.deactivate), "Active->Inactive"
    )
    # A second, independent reader agrees.
    assert aws_cli_keys(aws, "twins") == dict.fromkeys(
        account.ids({"twin-1", "twin-2"}), "Inactive"
    )
    lines = journal_lines(journal)
    for key_id in account.ids(account.deactivate):
        assert phases(lines, key_id) == ["planned", "applied"]
    assert_journal_true(aws, lines)
    assert all(line["principal"] == "arn:aws:sts::123456789012:user/moto" for line in lines)

    # A rerun from the report: every key already done, and not one UpdateAccessKey.
    counter = ApiCallCounter()
    findings = read_audit_report(str(report)).account("123456789012").findings
    result = Remediator(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url, counter=counter)
    ).execute(plan_remediation(findings), journal=str(journal))
    assert result.exit_code == 0
    assert {o.phase for o in result.outcomes} == {Phase.ALREADY_DONE}
    assert "iam:UpdateAccessKey" not in counter.calls

    # Step two, from the same approved report: delete (the keys are inactive now).
    args = ["--from-audit", str(report), "--apply", "--delete", "--yes", "--journal", str(journal)]
    ran = remediate(aws, *args)
    assert ran.code == 0, ran.stdout
    assert changed(deactivated, snapshot(aws)) == dict.fromkeys(
        account.ids(account.delete), "deleted"
    )
    lines = journal_lines(journal)
    assert applied(lines, "delete") == account.ids(account.delete)
    assert_journal_true(aws, lines)
    # And again: a key the journal deleted is done, not missing.
    again = remediate(aws, *args)
    assert again.code == 0, again.stdout
    assert again.stdout.count("already-done") == len(account.delete)


# -- live re-verification -------------------------------------------------------------------


def test_changes_between_audit_and_apply_are_skipped(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    report = audit_json(aws, tmp_path / "audit.json")
    # A forged verdict: the used key "fails". The live check still protects it.
    doc = json.loads(report.read_text())
    used = account.keys["used"].access_key_id
    for f in doc["accounts"][0]["findings"]:
        if f["user"] == "used":
            f.update(status="FAIL", reason="setup-key-unused", access_key_id=used, last_used=None)
    report.write_text(json.dumps(doc))
    # After the audit: fail-a is used, fail-b deleted, one twin used, and the inactive
    # key reactivated (someone needs it). The other twin is as the audit saw it.
    s = Scenario(aws)
    s.use(account.keys["fail-a"], at("2026-11-27T13:00:00"))
    s.delete_key(account.keys["fail-b"])
    s.use(account.keys["twin-1"], at("2026-11-27T13:00:00"))
    s.iam.update_access_key(
        UserName="inactive", AccessKeyId=account.keys["inactive"].access_key_id, Status="Active"
    )
    s.settle(NOW)
    before = snapshot(aws)
    journal = tmp_path / "j.jsonl"
    ran = remediate(
        aws, "--from-audit", str(report), "--apply", "--delete", "--yes", "--journal", str(journal)
    )
    assert ran.code == 1, ran.stdout
    twin_2 = account.keys["twin-2"].access_key_id
    assert changed(before, snapshot(aws)) == {twin_2: "deleted"}
    lines = journal_lines(journal)
    skips = {line["access_key_id"]: line["reason"] for line in lines if line["phase"] == "skipped"}
    assert "has been used" in skips[account.keys["fail-a"].access_key_id]
    assert "no longer exists" in skips[account.keys["fail-b"].access_key_id]
    assert "has been used" in skips[account.keys["twin-1"].access_key_id]
    assert "reactivated since the audit" in skips[account.keys["inactive"].access_key_id]
    assert "a used key is never deactivated or deleted" in skips[used]
    assert applied(lines, "delete") == {twin_2}
    # Every skip is listed in the output too.
    assert ran.stdout.count("skipped ") == 5


# -- exemptions -----------------------------------------------------------------------------


def test_exempt_users_are_never_touched(aws: Any, account: Account, tmp_path: Path) -> None:
    (tmp_path / "initkeys.toml").write_text(
        '[[exempt]]\nuser = "fail-b"\nreason = "vendor integration"\n'
    )
    report = audit_json(aws, tmp_path / "audit.json", "--exempt-user", "twins")
    # A tag added after the audit still protects the user: it is read again live.
    aws.client("iam").tag_user(
        UserName="fail-a", Tags=[{"Key": "initkeys:exempt", "Value": "SEC-9"}]
    )
    before = snapshot(aws)
    journal = tmp_path / "j.jsonl"
    ran = remediate(
        aws, "--from-audit", str(report), "--apply", "--delete", "--yes", "--journal",
        str(journal), cwd=tmp_path,
    )  # fmt: skip
    assert ran.code == 1, ran.stdout  # the tag made fail-a a skip
    assert changed(before, snapshot(aws)) == {account.keys["inactive"].access_key_id: "deleted"}
    skipped = [line for line in journal_lines(journal) if line["phase"] == "skipped"]
    assert [line["user"] for line in skipped] == ["fail-a"]
    assert "initkeys:exempt (SEC-9)" in skipped[0]["reason"]
    assert "vendor integration" in ran.stdout  # initkeys.toml, found in the working directory
    assert "exempted with --exempt-user" in ran.stdout  # from the report


# -- confirmation, usage errors, exit codes (subprocess) -------------------------------------


def test_apply_without_a_terminal_or_yes_is_refused(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    before = snapshot(aws)
    proc = run(["remediate", "--endpoint-url", aws.endpoint_url, "--apply"], cwd=tmp_path)
    assert "pass --yes" in assert_one_line_error(proc, 2)
    assert snapshot(aws) == before
    assert list(tmp_path.iterdir()) == []


def run_on_terminal(args: list[str], answer: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a pseudo-terminal as stdin, and type ``answer``."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "initkeys", *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=subprocess_env(),
            text=True,
        )
        os.write(master, answer.encode() + b"\n")  # the terminal buffers the line
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_terminal_confirmation(aws: Any, account: Account, tmp_path: Path) -> None:
    before = snapshot(aws)
    args = ["remediate", "--endpoint-url", aws.endpoint_url, "--apply", "--journal", "j.jsonl"]
    declined = run_on_terminal(args, "n", tmp_path)
    assert declined.returncode == 1, declined.stderr
    assert "Deactivate 4 key(s) in account 123456789012?" in declined.stderr
    assert "nothing was changed" in declined.stderr
    assert snapshot(aws) == before
    accepted = run_on_terminal(args, "y", tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert changed(before, snapshot(aws)) == dict.fromkeys(
        account.ids(account.deactivate), "Active->Inactive"
    )


def test_exit_codes_and_default_journal(aws: Any, account: Account, tmp_path: Path) -> None:
    report = audit_json(aws, tmp_path / "audit.json")
    base = ["remediate", "--endpoint-url", aws.endpoint_url]
    proc = run([*base, "--apply", "--yes"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    (journal,) = (p for p in tmp_path.iterdir() if p.suffix == ".jsonl")
    assert journal.name.startswith("initkeys-journal-123456789012-")
    assert journal.name.endswith("Z.jsonl")
    assert applied(journal_lines(journal), "deactivate") == account.ids(account.deactivate)
    # A skip is exit 1: an inactive key reactivated after the report that plans its deletion.
    aws.client("iam").update_access_key(
        UserName="inactive", AccessKeyId=account.keys["inactive"].access_key_id, Status="Active"
    )
    proc = run(
        [*base, "--from-audit", str(report), "--apply", "--delete", "--yes", "--journal", "j"],
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert "reactivated since the audit" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not an initkeys JSON audit report"),
        ('{"schema_version": 2}', "schema_version 2 is not supported"),
        ("[]", "not an initkeys JSON audit report"),
        (
            '{"schema_version": 1, "mode": "setup", "setup_window_seconds": 600, "accounts": '
            '[{"account_id": "123456789012", "partition": "aws", "source": "aws", '
            '"findings": [{"user": "x"}]}]}',
            "findings[0]: status is missing",
        ),
    ],
)
def test_malformed_audit_reports_are_refused(
    aws: Any, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "audit.json"
    path.write_text(content)
    ran = invoke(["remediate", "--endpoint-url", aws.endpoint_url, "--from-audit", str(path)])
    assert ran.code == 2
    assert message in ran.stderr
    assert "\n" not in ran.stderr


def test_malformed_report_is_one_line_exit_2(aws: Any, tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text("{not json")
    proc = run(["remediate", "--endpoint-url", aws.endpoint_url, "--from-audit", str(path)])
    assert "not an initkeys JSON audit report" in assert_one_line_error(proc, 2)


def test_a_report_of_another_account_is_refused(aws: Any, tmp_path: Path) -> None:
    report = tmp_path / "audit.json"
    report.write_text(
        json.dumps(
            {
                "schema_version": 1, "mode": "setup", "setup_window_seconds": 600,
                "accounts": [
                    {"account_id": "210987654321", "partition": "aws", "source": "aws",
                     "report_generated_at": None, "status": "PASS", "error": None,
                     "findings": []},
                ],
            }
        )
    )  # fmt: skip
    ran = remediate(aws, "--from-audit", str(report), "--apply", "--yes", cwd=tmp_path)
    assert ran.code == 2
    assert ran.stderr == (
        f"{report} is about 210987654321, but the credentials sign in to account "
        "123456789012; use the credentials of the audited account"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


def test_conflicting_mode_with_a_report_is_refused(tmp_path: Path) -> None:
    report = tmp_path / "audit.json"
    report.write_text(
        '{"schema_version": 1, "mode": "setup", "setup_window_seconds": 600, "accounts": []}'
    )
    ran = invoke(["remediate", "--from-audit", str(report), "--mode", "cis"])
    assert ran.code == 2
    assert "--mode cis conflicts with the audit report (mode setup)" in ran.stderr
    ran = invoke(["remediate", "--from-audit", str(report), "--setup-window", "1h"])
    assert ran.code == 2
    assert "--setup-window 1h conflicts" in ran.stderr


def test_journal_of_another_account_is_refused(aws: Any, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    line = {
        "time": "2026-11-27T12:00:00.000Z", "run_id": "r", "account": "210987654321",
        "principal": "arn:aws:iam::210987654321:user/x", "user": "x",
        "access_key_id": "AKIAX", "action": "deactivate", "phase": "applied",
        "before": None, "after": None, "reason": "",
    }  # fmt: skip
    journal.write_text(json.dumps(line) + "\n")
    finding = {
        "user": "u", "arn": "arn:aws:iam::123456789012:user/u", "key_slot": 1,
        "access_key_id": "AKIAU", "status": "FAIL", "reason": "setup-key-unused",
        "active": True, "key_created": "2023-04-01T14:00:30Z",
    }  # fmt: skip
    report = tmp_path / "audit.json"
    report.write_text(
        json.dumps(
            {
                "schema_version": 1, "mode": "setup", "setup_window_seconds": 600,
                "accounts": [
                    {"account_id": "123456789012", "partition": "aws", "source": "aws",
                     "findings": [finding]},
                ],
            }
        )
    )  # fmt: skip
    ran = remediate(aws, "--from-audit", str(report), "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 2
    assert "the journal" in ran.stderr and "210987654321" in ran.stderr
    assert journal.read_text() == json.dumps(line) + "\n"


def test_denied_everything_is_exit_3_and_says_which_policy(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    """An auditor's policy can plan but not change: every action fails → exit 3."""
    report = audit_json(aws, tmp_path / "audit.json")
    client = aws.client("iam")
    client.create_user(UserName="auditor")
    client.put_user_policy(
        UserName="auditor",
        PolicyName="audit",
        PolicyDocument=json.dumps(initkeys.policy_document("audit")),
    )
    meta = client.create_access_key(UserName="auditor")["AccessKey"]
    env = subprocess_env(
        AWS_ACCESS_KEY_ID=meta["AccessKeyId"], AWS_SECRET_ACCESS_KEY=meta["SecretAccessKey"]
    )
    before = snapshot(aws, but="auditor")
    journal = tmp_path / "j.jsonl"
    with aws.enforcing_iam():
        proc = run(
            [
                "remediate", "--endpoint-url", aws.endpoint_url, "--from-audit", str(report),
                "--apply", "--yes", "--journal", str(journal),
            ],
            cwd=tmp_path,
            env=env,
        )  # fmt: skip
    line = assert_one_line_error(proc, 3)
    assert "initkeys policy remediate" in line
    assert meta["SecretAccessKey"] not in proc.stdout + proc.stderr + journal.read_text()
    assert snapshot(aws, but="auditor") == before
    lines = journal_lines(journal)
    # The audit policy has no iam:GetUser: the live judgement before acting is denied,
    # so nothing is even attempted (each key read, judged, never touched).
    assert {line["phase"] for line in lines} == {"failed"}
    assert all("iam:GetUser" in line["reason"] for line in lines)
    # A failed line says what AWS showed afterwards: the key is untouched.
    assert {line["after"]["status"] for line in lines if line["phase"] == "failed"} == {"Active"}


def test_least_privilege_policy_is_enough(aws: Any, account: Account, tmp_path: Path) -> None:
    """Remediate, roll back and delete as a user holding only the printed policy."""
    client = aws.client("iam")
    client.create_user(UserName="remediator")
    client.put_user_policy(
        UserName="remediator",
        PolicyName="initkeys-remediate",
        PolicyDocument=run_here(["policy", "remediate"]).stdout,
    )
    meta = client.create_access_key(UserName="remediator")["AccessKey"]
    as_remediator = boto3.Session(
        aws_access_key_id=meta["AccessKeyId"],
        aws_secret_access_key=meta["SecretAccessKey"],
        region_name="us-east-1",
    )
    journal = str(tmp_path / "j.jsonl")
    before = snapshot(aws, but="remediator")
    with aws.enforcing_iam():
        remediator = Remediator(AwsContext(as_remediator, endpoint_url=aws.endpoint_url))
        audit = remediator.audit()
        assert not [f for f in audit.findings if f.status is Status.ERROR]
        # With the window the CLI passes: each key is judged again live (iam:GetUser).
        window = Settings().setup_window
        deactivated = remediator.execute(
            plan_remediation(audit.findings, setup_window=window), journal=journal
        )
        assert deactivated.exit_code == 0, deactivated.outcomes
        assert deactivated.principal == "arn:aws:iam::123456789012:user/remediator"
        rolled_back = remediator.execute(
            plan_rollback(read_journal(journal)).reactivate, journal=journal
        )
        assert rolled_back.exit_code == 0, rolled_back.outcomes
    assert snapshot(aws, but="remediator") == before  # read as admin, outside enforcement
    with aws.enforcing_iam():
        deleted = remediator.execute(
            plan_remediation(audit.findings, delete=True, setup_window=window), journal=journal
        )
        assert deleted.exit_code == 0, deleted.outcomes
    assert changed(before, snapshot(aws, but="remediator")) == dict.fromkeys(
        account.ids(account.delete), "deleted"
    )


def test_policy_remediate(tmp_path: Path) -> None:
    proc = run_here(["policy", "remediate"])
    assert proc.returncode == 0
    (statement,) = json.loads(proc.stdout)["Statement"]
    actions = statement["Action"]
    assert set(actions) == {
        *initkeys.policy_document("audit")["Statement"][0]["Action"],
        "iam:GetUser",
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
        "iam:ListUserTags",
    }
    assert len(actions) == len(set(actions))
    assert statement["Resource"] == "*"
