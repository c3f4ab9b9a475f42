"""Remediation when AWS misbehaves: throttling, 5xx, dropped connections, expired
credentials, and a kill -9 in the middle of a run. The run completes or stops
cleanly, the journal is true to what happened, and a rerun converges."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_kit import run, subprocess_env
from faults import DROP, DROP_AFTER_FORWARD, Delay, FaultProxy, error_xml, instant_retries
from remediation_kit import (
    Account,
    applied,
    assert_journal_true,
    audit_json,
    journal_lines,
    phases,
    seed,
    snapshot,
)

from initkeys.aws import AwsContext
from initkeys.remediate import (
    Phase,
    RemediationResult,
    Remediator,
    plan_remediation,
    plan_rollback,
    read_audit_report,
    read_journal,
)


@pytest.fixture
def account(aws: Any) -> Account:
    return seed(aws, small=True)


@pytest.fixture
def report(aws: Any, account: Account, tmp_path: Path) -> Path:
    return audit_json(aws, tmp_path / "audit.json")


def execute(
    aws: Any, report: Path, journal: Path, url: str, *, delete: bool = False, attempts: int = 0
) -> RemediationResult:
    if attempts:
        boto = aws.fresh_session()  # its own: the config change must not leak
        boto._session.set_config_variable("max_attempts", attempts)
    else:
        boto = aws.session()
    findings = read_audit_report(str(report)).account("123456789012").findings
    aws = AwsContext(boto, endpoint_url=url, retry=instant_retries())
    return Remediator(aws).execute(plan_remediation(findings, delete=delete), journal=str(journal))


def test_throttling_and_server_errors_then_a_rerun_converges(
    aws: Any, account: Account, report: Path, tmp_path: Path
) -> None:
    """Throttling and passing 5xx are retried; a key whose update always fails is
    journaled as failed (with its state read back) and done by the rerun."""
    broken = account.keys["fail-b"].access_key_id

    def flaky(action: str, count: int) -> Any:
        if action == "UpdateAccessKey" and proxy.params.get("AccessKeyId") == broken:
            return 500, error_xml("ServiceFailure", "broken")
        if action == "UpdateAccessKey" and count == 1:
            return 400, error_xml("Throttling", "Rate exceeded")
        if action in {"GetAccessKeyLastUsed", "ListUserTags"} and count == 2:
            return 503, error_xml("ServiceUnavailable", "try again")
        if action == "ListAccessKeys" and count == 3:
            return 500, error_xml("InternalFailure", "try again")
        return None

    journal = tmp_path / "j.jsonl"
    with FaultProxy(aws.endpoint_url, flaky) as proxy:
        result = execute(aws, report, journal, proxy.url, attempts=2)
    assert result.exit_code == 1
    assert set(proxy.injected) == {
        "UpdateAccessKey", "GetAccessKeyLastUsed", "ListUserTags", "ListAccessKeys",
    }  # fmt: skip
    (failed,) = [o for o in result.outcomes if o.phase is Phase.FAILED]
    assert failed.planned.access_key_id == broken
    assert "ServiceFailure" in failed.reason
    assert failed.after is not None and failed.after.status == "Active"  # read back
    lines = journal_lines(journal)
    assert applied(lines, "deactivate") == account.ids(account.deactivate) - {broken}
    assert_journal_true(aws, lines)

    with FaultProxy(aws.endpoint_url, lambda action, count: None) as rerun:
        again = execute(aws, report, journal, rerun.url)
    assert again.exit_code == 0
    assert {o.planned.access_key_id: o.phase for o in again.outcomes} == {
        key_id: Phase.APPLIED if key_id == broken else Phase.ALREADY_DONE
        for key_id in account.ids(account.deactivate)
    }
    assert_journal_true(aws, journal_lines(journal))
    # Each key's status was changed by exactly one request that reached AWS.
    for key_id in account.ids(account.deactivate):
        assert (
            proxy.calls("UpdateAccessKey", AccessKeyId=key_id)
            + rerun.calls("UpdateAccessKey", AccessKeyId=key_id)
            == 1
        )


def test_dropped_connections_are_retried_and_lost_answers_are_read_back(
    aws: Any, account: Account, report: Path, tmp_path: Path
) -> None:
    def drop(action: str, count: int) -> Any:
        if action == "UpdateAccessKey" and count == 1:
            return DROP  # before AWS acts: the retry does it
        if action in {"UpdateAccessKey", "DeleteAccessKey"} and count == 2:
            return DROP_AFTER_FORWARD  # AWS acted; its answer is lost
        return None

    journal = tmp_path / "j.jsonl"
    before = snapshot(aws)
    with FaultProxy(aws.endpoint_url, drop) as proxy:
        first = execute(aws, report, journal, proxy.url)
        assert first.exit_code == 0, first.outcomes
        assert_journal_true(aws, journal_lines(journal))
        # Step two of the workflow, from the same report: delete.
        second = execute(aws, report, journal, proxy.url, delete=True)
    assert second.exit_code == 0, second.outcomes
    assert proxy.injected == {"UpdateAccessKey": 2, "DeleteAccessKey": 1}
    assert snapshot(aws).keys() == before.keys() - account.ids(account.delete)
    lines = journal_lines(journal)
    assert applied(lines, "deactivate") == account.ids(account.deactivate)
    assert applied(lines, "delete") == account.ids(account.delete)
    # The retried delete found the key gone; reading it back shows it was ours.
    (lost,) = [line for line in lines if "though the call reported" in line["reason"]]
    assert lost["phase"] == "applied" and lost["action"] == "delete"
    assert_journal_true(aws, lines)


def test_expired_credentials_or_a_lost_network_stop_the_run_cleanly(
    aws: Any, account: Account, report: Path, tmp_path: Path
) -> None:
    """Run 1: credentials expire after one change. Run 2: the network goes after one
    more. Each stops at once, journals what happened; run 3 finishes the job."""
    a, b, c = (account.keys[n].access_key_id for n in ("fail-a", "fail-b", "fail-c"))
    order = [p.access_key_id for p in plan_remediation(
        read_audit_report(str(report)).account("123456789012").findings
    ) if p.acts]  # fmt: skip
    assert order == [a, b, c]
    journal = tmp_path / "j.jsonl"

    def expire(action: str, count: int) -> Any:
        if action == "UpdateAccessKey" and count >= 2:
            return 403, error_xml("ExpiredToken", "The security token included is expired")
        return None

    with FaultProxy(aws.endpoint_url, expire) as proxy:
        first = execute(aws, report, journal, proxy.url)
    assert first.exit_code == 1
    assert first.stopped is not None and "session token has expired" in first.stopped
    assert [o.phase for o in first.outcomes] == [Phase.APPLIED, Phase.FAILED, Phase.SKIPPED]
    assert "not attempted" in first.outcomes[2].reason
    assert proxy.counts["UpdateAccessKey"] == 2  # no hammering with dead credentials
    assert_journal_true(aws, journal_lines(journal))

    def cut(action: str, count: int) -> Any:
        return DROP if cut_proxy.calls("UpdateAccessKey") >= 1 else None

    with FaultProxy(aws.endpoint_url, cut) as cut_proxy:
        second = execute(aws, report, journal, cut_proxy.url, attempts=2)
    assert second.exit_code == 1
    assert second.stopped is not None and "Connection was closed" in second.stopped
    assert [o.phase for o in second.outcomes] == [
        Phase.ALREADY_DONE, Phase.APPLIED, Phase.FAILED,
    ]  # fmt: skip
    assert_journal_true(aws, journal_lines(journal))

    with FaultProxy(aws.endpoint_url, lambda a, c: None) as proxy:
        third = execute(aws, report, journal, proxy.url)
    assert [o.phase for o in third.outcomes] == [
        Phase.ALREADY_DONE, Phase.ALREADY_DONE, Phase.APPLIED,
    ]  # fmt: skip
    assert proxy.calls("UpdateAccessKey") == 1
    assert_journal_true(aws, journal_lines(journal))


# -- kill -9 ------------------------------------------------------------------------------


def wait_for_applied(
    journal: Path, proc: subprocess.Popen[str], mutation: str, timeout: float = 30
) -> None:
    action = '"action": "delete"' if mutation == "DeleteAccessKey" else '"action": "deactivate"'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = journal.read_text() if journal.exists() else ""
        if any(action in line and '"phase": "applied"' in line for line in text.splitlines()):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("no applied line in time")


def kill_then_rerun(aws: Any, report: Path, journal: Path, delete: bool) -> FaultProxy:
    """Run the CLI, kill -9 it while its second change is held on the way to AWS (the
    change still lands), rerun it; return the proxy that saw every request."""
    mutation = "DeleteAccessKey" if delete else "UpdateAccessKey"

    def hold(action: str, count: int) -> Any:
        return Delay(0.5) if action == mutation and count == 2 else None

    args = [
        "remediate", "--from-audit", str(report),
        "--apply", "--yes", "--journal", str(journal), *(["--delete"] if delete else []),
    ]  # fmt: skip
    with FaultProxy(aws.endpoint_url, hold) as proxy:
        proc = subprocess.Popen(
            [sys.executable, "-m", "initkeys", *args, "--endpoint-url", proxy.url],
            env=subprocess_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_applied(journal, proc, mutation)
            deadline = time.monotonic() + 30
            while proxy.counts.get(mutation, 0) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        proxy.wait_idle()  # the held change reaches AWS after the kill
        assert journal_lines(journal)[-1]["phase"] == "planned"

        rerun = run([*args, "--endpoint-url", proxy.url])
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    return proxy


def test_kill_9_then_rerun_finishes_without_doing_anything_twice(
    aws: Any, account: Account, report: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    for delete, mutation, planned in (
        (False, "UpdateAccessKey", account.deactivate),
        (True, "DeleteAccessKey", account.delete),  # step two, from the same report
    ):
        proxy = kill_then_rerun(aws, report, journal, delete)
        action = "delete" if delete else "deactivate"
        lines = [line for line in journal_lines(journal) if line["action"] == action]
        assert_journal_true(aws, lines)
        state = snapshot(aws)
        for key_id in account.ids(planned):
            assert proxy.calls(mutation, AccessKeyId=key_id) == 1, key_id
            if delete:
                assert key_id not in state
            else:
                assert state[key_id][1] == "Inactive"
            # Acted on once: one planned line; then applied, or found done by the rerun
            # (the change in flight at the kill), or both (done, then confirmed).
            assert phases(lines, key_id) in (
                ["planned", "applied"],
                ["planned", "already-done"],
                ["planned", "applied", "already-done"],
            ), phases(lines, key_id)
        if not delete:
            # Rollback knows that the interrupted deactivation may have happened.
            reactivate = plan_rollback(read_journal(str(journal))).reactivate
            assert {a.access_key_id for a in reactivate} == account.ids(planned)
