"""``initkeys rollback``: reactivate what a remediation journal deactivated; say
plainly that deletions cannot be undone."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cli_kit import run
from remediation_kit import (
    Account,
    applied,
    assert_journal_true,
    changed,
    invoke,
    journal_lines,
    phases,
    seed,
    snapshot,
)

from initkeys.errors import InputError
from initkeys.remediate import Action, JournalEntry, KeyState, Phase, plan_rollback, read_journal
from initkeys.remediate.journal import JournalWriter

T = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
ACTIVE = KeyState("Active", datetime(2023, 4, 1, 14, tzinfo=timezone.utc))
INACTIVE = KeyState("Inactive", ACTIVE.create_date)


@pytest.fixture
def account(aws: Any) -> Account:
    return seed(aws)


def cli(aws: Any, command: str, *args: str) -> Any:
    return invoke([command, "--endpoint-url", aws.endpoint_url, *args])


def remediated(aws: Any, journal: Path, *extra: str) -> None:
    ran = cli(aws, "remediate", "--apply", "--yes", "--journal", str(journal), *extra)
    assert ran.code == 0, ran.stdout + ran.stderr


def test_rollback_restores_every_status_remediation_changed(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    original = snapshot(aws)
    journal = tmp_path / "j.jsonl"
    remediated(aws, journal)
    # Someone else deactivates a key: not ours to reactivate.
    later = account.keys["later"].access_key_id
    aws.client("iam").update_access_key(UserName="later", AccessKeyId=later, Status="Inactive")
    remediated_state = snapshot(aws)

    dry = cli(aws, "rollback", "--journal", str(journal))
    assert dry.code == 0
    assert "Dry run: nothing was changed" in dry.stdout
    assert snapshot(aws) == remediated_state
    for key_id in account.ids(account.deactivate):
        assert key_id in dry.stdout
    assert later not in dry.stdout

    ran = cli(aws, "rollback", "--journal", str(journal), "--apply", "--yes")
    assert ran.code == 0, ran.stdout
    assert changed(original, snapshot(aws)) == {later: "Active->Inactive"}
    lines = journal_lines(journal)
    assert applied(lines, "reactivate") == account.ids(account.deactivate)
    assert_journal_true(aws, lines)

    # Again: everything is already done; nothing is called twice.
    again = cli(aws, "rollback", "--journal", str(journal), "--apply", "--yes")
    assert again.code == 0
    assert "No deactivated key to reactivate." in again.stdout
    assert journal_lines(journal) == lines


def test_keys_changed_since_remediation(aws: Any, account: Account, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    remediated(aws, journal)
    gone = account.keys["fail-a"].access_key_id
    back = account.keys["fail-b"].access_key_id
    aws.client("iam").delete_access_key(UserName="fail-a", AccessKeyId=gone)
    aws.client("iam").update_access_key(UserName="fail-b", AccessKeyId=back, Status="Active")
    ran = cli(aws, "rollback", "--journal", str(journal), "--apply", "--yes")
    assert ran.code == 1
    lines = journal_lines(journal)
    assert phases(lines, gone)[-1] == "skipped"
    assert "a deleted key cannot be reactivated" in lines[-4]["reason"] + ran.stdout
    assert phases(lines, back)[-1] == "already-done"
    twins = account.ids({"twin-1", "twin-2"})
    assert applied(lines, "reactivate") == twins
    assert {snapshot(aws)[k][1] for k in twins | {back}} == {"Active"}


def test_deletions_cannot_be_undone(aws: Any, account: Account, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    remediated(aws, journal, "--delete")
    dry = cli(aws, "rollback", "--journal", str(journal))
    assert dry.code == 0
    assert "Deleted keys cannot be restored" in dry.stdout
    for key_id in account.ids(account.delete):
        assert key_id in dry.stdout
    before = snapshot(aws)
    ran = cli(aws, "rollback", "--journal", str(journal), "--apply", "--yes")
    assert ran.code == 1  # the account is not as it was, and cannot be
    assert "No deactivated key to reactivate." in ran.stdout
    assert snapshot(aws) == before


def test_rollback_usage_errors(aws: Any, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    proc = run(["rollback", "--endpoint-url", aws.endpoint_url, "--journal", str(journal)])
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"initkeys: error: {journal}: no such journal"
    with JournalWriter(str(journal)) as writer:
        # A genuine pair: rollback refuses an applied line without its planned line.
        writer.write(entry("AKIAU", Action.DEACTIVATE, Phase.PLANNED))
        writer.write(entry("AKIAU", Action.DEACTIVATE, Phase.APPLIED, after=INACTIVE))
    dry = cli(aws, "rollback", "--journal", str(journal), "-y")
    assert dry.code == 0  # --yes alone is still a dry run
    assert "Dry run" in dry.stdout
    proc = run(
        ["rollback", "--endpoint-url", aws.endpoint_url, "--journal", str(journal), "--apply"]
    )
    assert proc.returncode == 2
    assert "pass --yes" in proc.stderr
    other = tmp_path / "other.jsonl"
    text = journal.read_text().replace('"account": "123456789012"', '"account": "210987654321"')
    other.write_text(text)
    ran = cli(aws, "rollback", "--journal", str(other))
    assert ran.code == 2
    assert "210987654321" in ran.stderr


# -- the journal and the rollback plan, without AWS ----------------------------------------


def entry(key: str, action: Action, phase: Phase, run_id: str = "r1", **kw: Any) -> JournalEntry:
    fields: dict[str, Any] = {
        "time": T,
        "account": "123456789012",
        "principal": "arn:aws:iam::123456789012:user/ops",
        "user": "u",
        "before": ACTIVE,
        "after": None,
        "reason": "",
    }
    fields.update(kw)
    return JournalEntry(run_id=run_id, access_key_id=key, action=action, phase=phase, **fields)


def test_rollback_plan_reads_the_journal_in_order() -> None:
    d, r, x = Action.DEACTIVATE, Action.REACTIVATE, Action.DELETE
    entries = [
        entry("APPLIED", d, Phase.PLANNED),
        entry("APPLIED", d, Phase.APPLIED, after=INACTIVE),
        entry("INTERRUPTED", d, Phase.PLANNED),  # killed during the call: maybe done
        entry("REFUSED", d, Phase.PLANNED),
        entry("REFUSED", d, Phase.FAILED, after=ACTIVE),  # read back: not done
        entry("UNKNOWN", d, Phase.PLANNED),
        entry("UNKNOWN", d, Phase.FAILED, after=None),  # could not read back
        entry("ROLLED", d, Phase.APPLIED, after=INACTIVE),
        entry("ROLLED", r, Phase.APPLIED, run_id="r2", before=INACTIVE, after=ACTIVE),
        entry("SKIPPED", d, Phase.SKIPPED, after=ACTIVE),
        entry("DELETED", d, Phase.APPLIED, after=INACTIVE),
        entry("DELETED", x, Phase.PLANNED, run_id="r3", before=INACTIVE),
        entry("DELETED", x, Phase.APPLIED, run_id="r3", before=INACTIVE),
        entry("MAYBE", x, Phase.PLANNED, run_id="r3"),
    ]
    plan = plan_rollback(entries)
    assert plan.account_id == "123456789012"
    assert [a.access_key_id for a in plan.reactivate] == ["APPLIED", "INTERRUPTED", "UNKNOWN"]
    assert all(a.action is Action.REACTIVATE and a.key_created for a in plan.reactivate)
    assert [e.access_key_id for e in plan.deleted] == ["DELETED"]
    assert [e.access_key_id for e in plan.maybe_deleted] == ["MAYBE"]
    with pytest.raises(InputError, match="mixes accounts"):
        plan_rollback([*entries, entry("X", d, Phase.APPLIED, account="210987654321")])


def test_journal_round_trip_fsync_lock_and_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    first = entry("AKIA1", Action.DEACTIVATE, Phase.APPLIED, after=INACTIVE, verdict="FAIL x")
    with JournalWriter(str(path)) as writer:
        writer.write(first)
        with pytest.raises(InputError, match="in use by another initkeys run"):
            JournalWriter(str(path))
    assert read_journal(str(path)) == (first,)
    line = json.loads(path.read_text())
    assert line["time"] == "2026-11-27T12:00:00.000Z"
    assert line["before"] == {
        "status": "Active",
        "create_date": "2023-04-01T14:00:00Z",
        "last_used": None,
    }
    # A kill -9 in the middle of a write leaves a torn last line: readers ignore
    # it, and the next writer cuts it off before appending.
    with path.open("a") as f:
        f.write('{"time": "2026-11-27T12:00:01.000Z", "run_')
    assert read_journal(str(path)) == (first,)
    second = entry("AKIA2", Action.DELETE, Phase.PLANNED)
    with JournalWriter(str(path)) as writer:
        writer.write(second)
    assert read_journal(str(path)) == (first, second)
    # Damage anywhere else is an error, never silently skipped.
    path.write_text(path.read_text().replace('"run_id"', '"run-id"', 1))
    with pytest.raises(InputError, match="line 1 is not a journal line"):
        read_journal(str(path))
