"""Remediation under attack: forged approvals, forged journals, journals that are links,
FIFOs, notes files or writable by others. Every key and every file stays exactly as
it was (read back with boto3, bytes and mtimes compared), and the run says why."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from fuzz_kit import run_main
from remediation_kit import Account, audit_json, invoke, journal_lines, seed, snapshot

HOSTILE = Path(__file__).parent / "data" / "hostile" / "remediate"

# -- the corpus: tests/data/hostile/remediate/README.md says the same ----------------------

# file → (extra arguments, exit code, text the output must hold). Reports are run as
# ``remediate --from-audit FILE`` (dry run), journals as ``rollback --journal FILE`` (dry
# run); a ``2`` is one ``initkeys: error:`` line on stderr and the text is in it.
CORPUS: dict[str, tuple[tuple[str, ...], int, str]] = {
    "report-warning-edited-to-fail.json": (
        (),
        1,
        "refused: the report says FAIL setup-key-unused, but its own dates give WARNING "
        "unused-key (made 640 days after the user)",
    ),
    "report-unused-key-edited-to-setup-key-inactive.json": (
        ("--delete",),
        1,
        "refused: the report says WARNING setup-key-inactive, but its own dates give PASS "
        "inactive-unused-key",
    ),
    "report-fail-without-user-created.json": (
        (),
        1,
        "refused: the finding lacks the dates its verdict rests on",
    ),
    "report-window-1e300.json": ((), 2, "setup_window_seconds 1e+300 is not more than 0"),
    "report-window-1e400.json": ((), 2, "a number out of range (1e400)"),
    "report-window-infinity.json": ((), 2, "Infinity is not a JSON number"),
    "report-window-nan.json": ((), 2, "NaN is not a JSON number"),
    "report-window-zero.json": ((), 2, "setup_window_seconds 0 is not more than 0"),
    "report-window-negative.json": ((), 2, "setup_window_seconds -600 is not more than 0"),
    "report-window-31-days.json": ((), 2, "setup_window_seconds 2678400 is not more than 0"),
    "report-window-string.json": ((), 2, "setup_window_seconds has the wrong type (str)"),
    "report-mode-unknown.json": ((), 2, "unknown mode 'lenient'"),
    "report-schema-version-2.json": ((), 2, "schema_version 2 is not supported"),
    "report-deep.json": ((), 2, "JSON nested deeper than 200 levels"),
    "report-huge-number.json": ((), 2, "a number of 100000 digits"),
    "report-lone-surrogate.json": ((), 2, "a string holds a lone UTF-16 surrogate"),
    "report-time-overflow-low.json": ((), 2, "key_created is not a timestamp"),
    "report-time-overflow-high.json": ((), 2, "user_created is not a timestamp"),
    "report-key-slot-bool.json": ((), 2, "key_slot has the wrong type (bool)"),
    "report-not-utf8.json": ((), 2, "cannot read the audit report"),
    "journal-before-inactive.jsonl": (
        (),
        1,
        "the journal says the key was Inactive before, so deactivating it changed nothing",
    ),
    "journal-applied-without-planned.jsonl": (
        (),
        1,
        "deactivate applied without its planned line before it",
    ),
    "journal-planned-in-another-run.jsonl": (
        (),
        1,
        "deactivate applied without its planned line before it",
    ),
    "journal-applied-before-planned.jsonl": (
        (),
        1,
        "deactivate applied without its planned line before it",
    ),
    "journal-notes.txt": ((), 2, "line 1 is not a journal line"),
    "journal-deep.jsonl": ((), 2, "JSON nested deeper than 200 levels"),
    "journal-huge-number.jsonl": ((), 2, "a number of 100000 digits"),
    "journal-nan.jsonl": ((), 2, "NaN is not a JSON number"),
    "journal-lone-surrogate.jsonl": ((), 2, "a string holds a lone UTF-16 surrogate"),
    "journal-time-overflow.jsonl": ((), 2, "time is not a timestamp"),
    "journal-create-date-overflow.jsonl": ((), 2, "create_date is not a timestamp"),
    "journal-bad-status.jsonl": ((), 2, "a key's status is Active or Inactive"),
    "journal-mixed-accounts.jsonl": ((), 2, "the journal mixes accounts"),
    "journal-torn-garbage.jsonl": ((), 2, "line 3 is not a journal line"),
    "journal-blank-line.jsonl": ((), 2, "line 2 is not a journal line"),
    "journal-verdict-number.jsonl": ((), 2, "verdict is not a string"),
    "journal-torn-tail.jsonl": ((), 0, "Dry run: nothing was changed"),
}


def test_the_corpus_is_listed_in_its_readme() -> None:
    files = {p.name for p in HOSTILE.iterdir()} - {"README.md"}
    assert files == set(CORPUS) | {"seed-audit.json", "seed-journal.jsonl"}
    readme = (HOSTILE / "README.md").read_text()
    for name in files:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus(aws: Any, name: str, tmp_path: Path) -> None:
    extra, code, text = CORPUS[name]
    path = tmp_path / name
    shutil.copyfile(HOSTILE / name, path)
    before = state(tmp_path)
    if name.startswith("report-"):
        args = ["remediate", "--endpoint-url", aws.endpoint_url, "--from-audit", str(path)]
    else:
        args = ["rollback", "--endpoint-url", aws.endpoint_url, "--journal", str(path)]
    got, out, err = run_main([*args, *extra])
    assert got == code, (out, err)
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("initkeys: error: "), err
        assert text in err
    else:
        assert text in out, out
    if code == 2 and name.startswith("journal-"):
        # Not a journal: --apply refuses it just the same, before any change.
        again, _, err = run_main([*args, "--apply", "--yes"])
        assert again == 2 and text in err
    assert state(tmp_path) == before


# -- against the emulator: forged approvals ------------------------------------------------


@pytest.fixture
def account(aws: Any) -> Account:
    return seed(aws)


def forged_report(aws: Any, tmp_path: Path, **edits: Any) -> Path:
    """A real report in which only the ``later`` key's finding is kept, and edited."""
    report = audit_json(aws, tmp_path / "audit.json")
    document = json.loads(report.read_text())
    (later,) = [f for f in document["accounts"][0]["findings"] if f["user"] == "later"]
    assert (later["status"], later["reason"]) == ("WARNING", "unused-key")
    later.update(edits)
    document["accounts"][0]["findings"] = [later]
    report.write_text(json.dumps(document))
    return report


def remediate(aws: Any, *args: str) -> Any:
    return invoke(["remediate", "--endpoint-url", aws.endpoint_url, *args])


def test_a_warning_edited_to_fail_is_refused_and_journaled(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    report = forged_report(
        aws,
        tmp_path,
        status="FAIL",
        reason="setup-key-unused",
        message="Key 1 of later was created with the user (30s after the user); delete it.",
    )
    later = account.keys["later"].access_key_id
    before = snapshot(aws)
    dry = remediate(aws, "--from-audit", str(report))
    assert dry.code == 1  # a refused approval is not a clean plan
    assert "refused: the report says FAIL setup-key-unused, but its own dates give" in dry.stdout
    journal = tmp_path / "j.jsonl"
    ran = remediate(aws, "--from-audit", str(report), "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 1, ran.stdout
    assert snapshot(aws) == before
    (line,) = journal_lines(journal)
    assert (line["access_key_id"], line["phase"]) == (later, "skipped")
    assert line["reason"].startswith("refused: the report says FAIL setup-key-unused")
    assert "WARNING unused-key" in line["reason"]


def test_forged_dates_are_caught_by_the_live_judgement(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    """The verdict and the user's creation date both edited, consistently: the plan
    cannot tell, but the key and its user as AWS shows them right before acting can."""
    report = forged_report(
        aws,
        tmp_path,
        status="FAIL",
        reason="setup-key-unused",
        user_created="2024-12-31T23:59:30Z",  # 30 s before the key, in the report only
        password_created="2024-12-31T23:59:30Z",
    )
    dry = remediate(aws, "--from-audit", str(report))
    assert dry.code == 0 and "deactivate" in dry.stdout  # consistent on its face
    before = snapshot(aws)
    journal = tmp_path / "j.jsonl"
    ran = remediate(aws, "--from-audit", str(report), "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 1, ran.stdout
    assert snapshot(aws) == before
    (line,) = journal_lines(journal)
    assert line["phase"] == "skipped"
    assert line["reason"] == (
        "refused: initkeys judges this key WARNING unused-key (made 640 days after the user); "
        "only FAIL keys are deactivated"
    )
    assert line["reason"] in ran.stdout


def test_a_fail_whose_key_is_now_used_is_left_alone(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    from scenario import NOW, Scenario

    report = audit_json(aws, tmp_path / "audit.json")
    Scenario(aws).use(account.keys["fail-a"], NOW)  # now PASS key-used
    aws.set_time(NOW)
    before = snapshot(aws)
    journal = tmp_path / "j.jsonl"
    ran = remediate(aws, "--from-audit", str(report), "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 1
    fail_a = account.keys["fail-a"].access_key_id
    after = snapshot(aws)
    assert after[fail_a] == before[fail_a]
    assert [
        line["phase"] for line in journal_lines(journal) if line["access_key_id"] == fail_a
    ] == ["skipped"]


# -- journals that are not what they claim ---------------------------------------------------


def state(directory: Path) -> dict[str, tuple[int, bytes | str | None, int]]:
    """Every entry of ``directory``: (mode, bytes or link target, mtime), never followed."""
    seen: dict[str, tuple[int, bytes | str | None, int]] = {}
    for entry in sorted(os.listdir(directory)):
        path = directory / entry
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            content: bytes | str | None = os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            content = path.read_bytes()
        else:
            content = None
        seen[entry] = (st.st_mode, content, st.st_mtime_ns)
    return seen


GENUINE = (HOSTILE / "seed-journal.jsonl").read_bytes()
NOTES = b"Meeting notes\n- rotate the CI keys\n- last line without a newline"


def hostile_journal(kind: str, directory: Path) -> Path:
    """``directory/j.jsonl`` made into ``kind`` of hostile journal."""
    path = directory / "j.jsonl"
    if kind == "link-to-journal":
        (directory / "real.jsonl").write_bytes(GENUINE)
        path.symlink_to("real.jsonl")
    elif kind == "dangling-link":
        path.symlink_to("created-by-nobody.jsonl")
    elif kind == "link-to-notes":
        (directory / "notes.txt").write_bytes(NOTES)
        path.symlink_to(directory / "notes.txt")
    elif kind == "notes":
        path.write_bytes(NOTES)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "group-writable":
        path.write_bytes(GENUINE)
        path.chmod(0o664)
    elif kind == "world-writable":
        path.write_bytes(GENUINE)
        path.chmod(0o606)
    elif kind == "other-owner":
        path.write_bytes(GENUINE)
        path.chmod(0o600)
        os.chown(path, 65534, 65534)
    else:  # pragma: no cover
        raise AssertionError(kind)
    return path


KINDS = [
    "link-to-journal",
    "dangling-link",
    "link-to-notes",
    "notes",
    "fifo",
    "directory",
    "group-writable",
    "world-writable",
    "other-owner",
]


def need_root_for(kind: str) -> None:
    if kind == "other-owner" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")


@pytest.mark.parametrize("kind", KINDS)
def test_remediate_refuses_a_hostile_journal(
    aws: Any, account: Account, tmp_path: Path, kind: str
) -> None:
    need_root_for(kind)
    report = audit_json(aws, tmp_path / "audit.json")
    work = tmp_path / "work"
    work.mkdir()
    journal = hostile_journal(kind, work)
    keys, files = snapshot(aws), state(work)
    ran = remediate(aws, "--from-audit", str(report), "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 2, ran.stdout + ran.stderr
    assert "\n" not in ran.stderr.strip()
    assert str(journal) in ran.stderr
    assert snapshot(aws) == keys
    assert state(work) == files


def test_remediate_journal_dir_refuses_a_link_before_any_account(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    report = audit_json(aws, tmp_path / "audit.json")
    directory = tmp_path / "journals"
    directory.mkdir()
    (directory / "notes.txt").write_bytes(NOTES)
    (directory / "initkeys-journal-123456789012.jsonl").symlink_to("notes.txt")
    keys, files = snapshot(aws), state(directory)
    ran = remediate(
        aws,
        "--from-audit",
        str(report),
        "--accounts",
        "123456789012",
        "--role-name",
        "InitkeysRemediate",  # never assumed: the account is the caller's own
        "--journal-dir",
        str(directory),
        "--apply",
        "--yes",
    )
    assert ran.code == 2, ran.stdout + ran.stderr
    assert "symbolic link" in ran.stderr
    assert snapshot(aws) == keys
    assert state(directory) == files


@pytest.mark.parametrize(
    "kind", ["link-to-journal", "dangling-link", "link-to-notes", "notes", "fifo", "directory"]
)
def test_rollback_refuses_what_is_not_a_journal(
    aws: Any, account: Account, tmp_path: Path, kind: str
) -> None:
    journal = hostile_journal(kind, tmp_path)
    keys, files = snapshot(aws), state(tmp_path)
    for extra in ((), ("--apply", "--yes")):
        code, out, err = run_main(
            ["rollback", "--endpoint-url", aws.endpoint_url, "--journal", str(journal), *extra]
        )
        assert code == 2, out + err
        assert err.count("\n") == 1 and err.startswith("initkeys: error: "), err
    assert snapshot(aws) == keys
    assert state(tmp_path) == files


@pytest.mark.parametrize("kind", ["group-writable", "other-owner"])
def test_rollback_of_a_journal_others_can_write_warns_and_goes_on(
    aws: Any, account: Account, tmp_path: Path, kind: str
) -> None:
    need_root_for(kind)
    journal = tmp_path / "j.jsonl"
    ran = remediate(aws, "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 0, ran.stdout
    if kind == "group-writable":
        journal.chmod(0o664)
    else:
        os.chown(journal, 65534, 65534)
    args = ["rollback", "--endpoint-url", aws.endpoint_url, "--journal", str(journal)]
    code, out, err = run_main([*args, "--apply", "--yes"])
    assert code == 0, out + err
    (warning,) = err.splitlines()
    assert warning.startswith("initkeys: warning: ") and "others could have written" in warning
    state_now = snapshot(aws)
    assert {state_now[k][1] for k in account.ids(account.deactivate)} == {"Active"}


def test_rollback_never_activates_a_key_the_journal_says_was_inactive(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    """An admin disabled a used key; a forged journal claims remediation did it."""
    used = account.keys["used"]
    aws.client("iam").update_access_key(
        UserName="used", AccessKeyId=used.access_key_id, Status="Inactive"
    )
    created = snapshot(aws)[used.access_key_id][2]
    line = json.loads(GENUINE.splitlines()[0])
    inactive = {"status": "Inactive", "create_date": created, "last_used": None}
    active = dict(inactive, status="Active")
    forged = [
        # what a genuine run writes for a key that was already inactive is already-done;
        # this pair says "deactivated" while its before says Inactive
        dict(line, user="used", access_key_id=used.access_key_id, before=inactive),
        dict(
            line,
            user="used",
            access_key_id=used.access_key_id,
            phase="applied",
            before=inactive,
            after=inactive,
        ),
        # and an applied line with an Active before, but no planned line before it
        dict(
            line,
            run_id="f" * 32,
            user="used",
            access_key_id=used.access_key_id,
            phase="applied",
            before=active,
            after=inactive,
        ),
    ]
    journal = tmp_path / "j.jsonl"
    journal.write_text("".join(json.dumps(x) + "\n" for x in forged))
    journal.chmod(0o600)
    keys, files = snapshot(aws), state(tmp_path)
    for extra in ((), ("--apply", "--yes")):
        code, out, err = run_main(
            ["rollback", "--endpoint-url", aws.endpoint_url, "--journal", str(journal), *extra]
        )
        assert code == 1, out + err
        assert "Refused journal lines (3)" in out
        assert "No deactivated key to reactivate." in out
    assert snapshot(aws) == keys
    assert keys[used.access_key_id][1] == "Inactive"
    assert state(tmp_path) == files


# -- the plan and the journal writer, without AWS ---------------------------------------------


def _finding(**kw: Any) -> Any:
    from datetime import datetime, timezone

    from initkeys.model import Finding, Reason, Status

    user_created = datetime(2023, 4, 1, 14, tzinfo=timezone.utc)
    fields: dict[str, Any] = {
        "user": "later",
        "arn": "arn:aws:iam::123456789012:user/later",
        "status": Status.FAIL,
        "reason": Reason.SETUP_KEY_UNUSED,
        "message": "",
        "key_slot": 1,
        "access_key_id": "AKIALATER",
        "active": True,
        "user_created": user_created,
        "key_created": datetime(2023, 8, 29, 14, tzinfo=timezone.utc),  # 150 days later
    }
    fields.update(kw)
    return Finding(**fields)


def test_the_plan_refuses_a_verdict_its_own_dates_do_not_give() -> None:
    from datetime import timedelta

    from initkeys.model import Mode
    from initkeys.remediate import plan_remediation
    from initkeys.remediate.plan import AccountPlan, plan_document
    from initkeys.timeutil import format_utc as iso_utc

    forged = _finding()
    window = timedelta(minutes=10)
    (planned,) = plan_remediation([forged], setup_window=window)
    assert not planned.acts
    assert planned.refused == (
        "the report says FAIL setup-key-unused, but its own dates give WARNING unused-key "
        "(made 150 days after the user)"
    )
    assert planned.why == "refused: " + planned.refused
    # A genuine FAIL is planned, and carries the settings the executor judges it with.
    genuine = _finding(key_created=forged.user_created + timedelta(seconds=30))
    (ok,) = plan_remediation([genuine], setup_window=window)
    assert ok.acts and ok.refused is None and ok.setup_window == window
    # Without a window (a caller that judged the findings itself) nothing is judged again.
    (trusted,) = plan_remediation([forged])
    assert trusted.acts and trusted.setup_window is None
    document = plan_document(
        [AccountPlan("123456789012", None, (planned, ok))],
        generated_at=forged.user_created,
        source="test",
        mode=Mode.SETUP,
        delete=False,
        apply=False,
    )
    assert document["summary"] == {"deactivate": 1, "delete": 0, "left_alone": 0, "refused": 1}
    actions = document["accounts"][0]["actions"]  # type: ignore[index]
    assert [a["refused"] for a in actions] == [planned.refused, None]
    assert actions[1]["key_created"] == iso_utc(genuine.key_created)


def test_the_writer_completes_a_whole_last_line_and_cuts_only_a_torn_one(tmp_path: Path) -> None:
    from initkeys.errors import InputError
    from initkeys.remediate.journal import JournalWriter

    whole = tmp_path / "whole.jsonl"
    whole.write_bytes(GENUINE.rstrip(b"\n"))
    whole.chmod(0o600)
    JournalWriter(str(whole)).close()
    assert whole.read_bytes() == GENUINE  # the last entry kept, its newline added
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(GENUINE + b'{"time": "2026-12-01T01:0')
    torn.chmod(0o600)
    JournalWriter(str(torn)).close()
    assert torn.read_bytes() == GENUINE
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(GENUINE + b"my own last line")
    notes.chmod(0o600)
    with pytest.raises(InputError, match="line 19 is not a journal line"):
        JournalWriter(str(notes))
    assert notes.read_bytes() == GENUINE + b"my own last line"


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_an_approved_report_that_is_not_a_file_is_refused_without_blocking(
    aws: Any, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "audit.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    code, out, err = run_main(
        ["remediate", "--endpoint-url", aws.endpoint_url, "--from-audit", str(path)]
    )
    assert code == 2, out + err
    assert err.count("\n") == 1 and str(path) in err
    if kind == "fifo":
        assert "not a regular file" in err


def test_rollback_refuses_a_journal_changed_since_it_was_read(
    aws: Any, account: Account, tmp_path: Path
) -> None:
    """Between the plan (and the question) and the first action, the journal changes:
    nothing is done."""
    from initkeys.aws import AwsContext
    from initkeys.errors import InputError
    from initkeys.remediate import Remediator, plan_rollback, read_journal

    journal = tmp_path / "j.jsonl"
    ran = remediate(aws, "--apply", "--yes", "--journal", str(journal))
    assert ran.code == 0, ran.stdout
    entries = read_journal(str(journal))
    plan = plan_rollback(entries)
    assert plan.reactivate
    text = journal.read_text().replace('"principal": "arn:', '"principal": "arn :', 1)
    journal.write_text(text)
    keys, files = snapshot(aws), state(tmp_path)
    remediator = Remediator(AwsContext(aws.session(), endpoint_url=aws.endpoint_url))
    with pytest.raises(InputError, match="changed since it was read"):
        remediator.execute(plan.reactivate, journal=str(journal), journal_read=entries)
    assert snapshot(aws) == keys
    assert state(tmp_path) == files
