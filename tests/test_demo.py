"""The demo that persists across commands: deterministic seeding, the change log replayed,
--demo on remediate, rollback and guard simulate, ``demo reset``, and a state directory
or log that is not what initkeys wrote (exit 2, one line, "initkeys demo reset").

What a command changed is read back with boto3 through the demo itself
(:func:`initkeys.demo.open_demo` replays the log), not only from the output."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cli_kit import run, run_here, subprocess_env
from fuzz_kit import assert_clean_end, tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.demo import open_demo
from initkeys.demo.state import LOG_NAME, MARKER_NAME, MARKER_TEXT, open_state, parse_log
from initkeys.errors import InputError

FAILING = [  # setup-key-unused in the seeded company
    "priya.raman",
    "svc-reporting",
    "nadia.haddad",
    "grace.liu",
    "irene.petrova",
    "break-glass-admin",
    "yuki.tanaka",
]


def demo(args: list[str], state: Path, cwd: Path | None = None) -> Any:
    """``initkeys ARGS --demo-state STATE``, in this process."""
    return run_here([*args, "--demo-state", str(state)], cwd=cwd)


@contextmanager
def iam_of(state: Path) -> Iterator[Any]:
    """An IAM client of the demo as ``state`` left it (the changes replayed)."""
    with open_demo(str(state), "test") as run_:
        yield run_.iam


def statuses(iam: Any, users: list[str]) -> dict[str, list[str]]:
    return {
        u: [k["Status"] for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"]]
        for u in users
    }


def one_line_error(proc: Any) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert_clean_end(proc.returncode, proc.stderr)
    (line,) = proc.stderr.strip().splitlines()
    return str(line)


# -- determinism ---------------------------------------------------------------------


def test_two_starts_give_the_same_key_ids(tmp_path: Path) -> None:
    with iam_of(tmp_path / "a") as iam:
        here = {
            u: iam.list_access_keys(UserName=u)["AccessKeyMetadata"][-1]["AccessKeyId"]
            for u in FAILING
        }
    # Another process, another state directory: the same ids.
    proc = run(
        ["audit", "--demo", "--format", "json"],
        env=subprocess_env(INITKEYS_DEMO_STATE=str(tmp_path / "b")),
    )
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["accounts"][0]["findings"]
    there = {f["user"]: f["access_key_id"] for f in findings if f["status"] == "FAIL"}
    assert there == here
    assert json.loads(proc.stdout)["generated_at"] == "2026-11-27T12:00:00Z"


# -- state across commands -----------------------------------------------------------


def test_remediate_then_audit_then_rollback(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = demo(
        ["remediate", "--demo", "--apply", "--yes", "--journal", "j.jsonl"], state, tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Done: 7 applied, 0 already done, 0 skipped, 0 failed." in proc.stdout

    proc = demo(["audit", "--demo", "--format", "json"], state)
    assert proc.returncode == 0, proc.stderr  # no FAIL left
    document = json.loads(proc.stdout)
    assert document["generated_at"] == "2026-11-27T12:01:00Z"  # the demo clock moved on
    findings = {f["user"]: f for f in document["accounts"][0]["findings"] if f["key_slot"]}
    for user in FAILING:
        assert findings[user]["reason"] == "setup-key-inactive", user
    # The used key is never touched.
    assert findings["maria.gonzalez"]["status"] == "PASS"

    with iam_of(state) as iam:
        seen = statuses(iam, [*FAILING, "maria.gonzalez"])
    assert seen["maria.gonzalez"] == ["Active"]
    assert seen["nadia.haddad"] == ["Active", "Inactive"]  # only the unused one of two
    assert all(seen[u][-1] == "Inactive" for u in FAILING)

    proc = demo(["rollback", "--demo", "--journal", "j.jsonl", "--apply", "--yes"], state, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Done: 7 applied" in proc.stdout
    with iam_of(state) as iam:
        assert all(
            s == ["Active"] or s == ["Active", "Active"] for s in statuses(iam, FAILING).values()
        )


def test_a_used_key_is_never_deactivated_in_the_demo_either(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = demo(["audit", "--demo", "--format", "json", "-o", "audit.json"], state, tmp_path)
    assert proc.returncode == 1, proc.stderr
    # A forged approval: maria.gonzalez's key (in daily use) "approved" for removal.
    report = json.loads((tmp_path / "audit.json").read_text())
    with iam_of(state) as iam:  # a PASS finding of a live audit may leave the id out
        (key,) = iam.list_access_keys(UserName="maria.gonzalez")["AccessKeyMetadata"]
    for finding in report["accounts"][0]["findings"]:
        if finding["user"] == "maria.gonzalez":
            finding.update(
                status="FAIL",
                reason="setup-key-unused",
                last_used=None,
                access_key_id=key["AccessKeyId"],
            )
    (tmp_path / "audit.json").write_text(json.dumps(report))
    args = ["remediate", "--demo", "--from-audit", "audit.json", "--apply", "--delete", "--yes"]
    proc = demo([*args, "--journal", "j.jsonl"], state, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "maria.gonzalez" in proc.stdout
    with iam_of(state) as iam:
        assert statuses(iam, ["maria.gonzalez"]) == {"maria.gonzalez": ["Active"]}
        assert statuses(iam, ["priya.raman"]) == {"priya.raman": []}  # deleted, as approved


def test_guard_simulate_on_a_fresh_setup_key(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = demo(["guard", "simulate", "--demo", "--format", "json"], state)
    assert proc.returncode == 1, proc.stderr
    message = json.loads(proc.stdout)
    assert message["decision"] == "setup-key" and message["applied"] is False
    (key,) = message["keys"]
    with iam_of(state) as iam:
        (listed,) = iam.list_access_keys(UserName="new.hire")["AccessKeyMetadata"]
        assert (listed["AccessKeyId"], listed["Status"]) == (key["access_key_id"], "Active")
        assert iam.get_login_profile(UserName="new.hire")["LoginProfile"]

    args = ["guard", "simulate", "--demo", "--apply", "--action", "deactivate", "--yes"]
    proc = demo([*args, "--journal", "j.jsonl"], state, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "-> deactivate: applied" in proc.stdout
    with iam_of(state) as iam:
        (listed,) = iam.list_access_keys(UserName="new.hire")["AccessKeyMetadata"]
        assert (listed["AccessKeyId"], listed["Status"]) == (key["access_key_id"], "Inactive")
    lines = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert [(e["user"], e["action"], e["phase"]) for e in lines][-1] == (
        "new.hire",
        "deactivate",
        "applied",
    )
    # The log holds ids, names and dates: never a secret.
    log = (state / LOG_NAME).read_text()
    assert "Secret" not in log and "Password" not in log


# -- demo reset ----------------------------------------------------------------------


def test_reset_removes_only_what_the_demo_wrote(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with open_state(str(state)):
        pass
    (state / "notes.txt").write_text("mine")
    proc = demo(["demo", "reset"], state)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(state)) == ["notes.txt"]
    (state / "notes.txt").unlink()
    with open_state(str(state)):
        pass
    proc = demo(["demo", "reset"], state)
    assert (proc.returncode, state.exists()) == (0, False)
    assert "Demo state removed" in proc.stdout
    proc = demo(["demo", "reset"], state)
    assert proc.returncode == 0 and "No demo state to remove" in proc.stdout
    proc = run_here(["demo", "where"], env=subprocess_env(INITKEYS_DEMO_STATE=str(state)))
    assert proc.stdout == f"{state}\n"


def test_reset_refuses_a_directory_that_is_not_a_demo_state(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    (mine / LOG_NAME).write_text("not the demo's\n")
    line = one_line_error(demo(["demo", "reset"], mine))
    assert "not an initkeys demo state" in line
    assert sorted(os.listdir(mine)) == [LOG_NAME, "thesis.tex"]
    link = tmp_path / "link"
    link.symlink_to(mine)
    assert "symbolic link" in one_line_error(demo(["demo", "reset"], link))
    assert mine.exists() and link.is_symlink()


# -- a hostile state -----------------------------------------------------------------


def _made(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    with open_state(str(state)):
        pass
    return state


def test_state_directory_hostility(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    assert "symbolic link" in one_line_error(demo(["audit", "--demo"], link))
    assert os.listdir(target) == []

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert "others can write to it" in one_line_error(demo(["audit", "--demo"], shared))

    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "not a directory" in one_line_error(demo(["audit", "--demo"], afile))

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    assert "not empty" in one_line_error(demo(["audit", "--demo"], busy))

    if os.geteuid() == 0:  # root can make a directory another user's
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, 65534, 65534)
        assert "owned by uid 65534" in one_line_error(demo(["audit", "--demo"], theirs))


def test_a_new_state_directory_is_private(tmp_path: Path) -> None:
    state = _made(tmp_path)
    assert state.stat().st_mode & 0o777 == 0o700
    assert (state / LOG_NAME).stat().st_mode & 0o777 == 0o600


_GOOD = '{"op": "command", "at": "2026-11-27T12:00:00Z", "command": "audit"}\n'


@pytest.mark.parametrize(
    ("log", "why"),
    [
        ("garbage\n", "not JSON"),
        ("[1, 2]\n", "not a JSON object"),
        ('{"op": "rm -rf", "at": "2026-11-27T12:00:00Z"}\n', "unknown op"),
        (_GOOD.replace('"audit"', '"audit", "x": 1'), "not the fields"),
        (_GOOD.replace("2026-11-27", "1999-01-01"), "not an instant of the demo"),
        (_GOOD.replace("2026-11-27T12:00:00Z", "9999-99-99"), "not an instant of the demo"),
        (_GOOD.replace("audit", "AUDIT;rm"), "'command' is not"),
        (_GOOD.replace("12:00", "12:01") + _GOOD, "goes back in time"),
        (_GOOD.rstrip("\n"), "torn line"),
        (
            '{"op": "UpdateAccessKey", "at": "2026-11-27T12:00:00Z", "key": "AKIA'
            'AAAAAAAAAAAAAAAA", "status": "Deleted", "user": "priya.raman"}\n',
            "'status' is neither",
        ),
        (
            '{"op": "DeleteAccessKey", "at": "2026-11-27T12:00:00Z", "key": "../../x", '
            '"user": "priya.raman"}\n',
            "'key' is not",
        ),
        (
            '{"op": "CreateUser", "at": "2026-11-27T12:00:00Z", "path": "/", "seed": 7, '
            '"user": "x"}\n',
            "the seed is not its line's",
        ),
        (
            '{"op": "command", "at": "2026-11-27T12:00:00Z", "command": "a"}' + " " * 1048576,
            "1 MiB",
        ),
        (b"\xff\xfe{}\n", "not JSON"),
        ('{"op": "command", "at": "2026-11-27T12:00:00Z", "command": "\\ud800"}\n', "not JSON"),
    ],
)
def test_a_damaged_log_is_refused(tmp_path: Path, log: str | bytes, why: str) -> None:
    state = _made(tmp_path)
    (state / LOG_NAME).write_bytes(log if isinstance(log, bytes) else log.encode())
    line = one_line_error(demo(["audit", "--demo"], state))
    assert why in line and "run 'initkeys demo reset'" in line, line


def test_damaged_marker_and_linked_log_are_refused(tmp_path: Path) -> None:
    state = _made(tmp_path)
    (state / MARKER_NAME).write_text(MARKER_TEXT + "more")
    assert "not what initkeys wrote" in one_line_error(demo(["audit", "--demo"], state))
    (state / MARKER_NAME).write_text(MARKER_TEXT)
    (state / LOG_NAME).unlink()
    (state / LOG_NAME).symlink_to(tmp_path / "elsewhere.jsonl")
    assert "symbolic link" in one_line_error(demo(["remediate", "--demo"], state))
    assert not (tmp_path / "elsewhere.jsonl").exists()
    (state / LOG_NAME).unlink()
    os.mkfifo(state / LOG_NAME)  # never blocks on it
    assert "not a regular file" in one_line_error(demo(["audit", "--demo"], state))
    (state / LOG_NAME).unlink()
    (state / LOG_NAME).write_text("")
    (state / LOG_NAME).chmod(0o666)
    assert "others can write" in one_line_error(demo(["audit", "--demo"], state))


def test_a_change_the_demo_cannot_replay_is_refused(tmp_path: Path) -> None:
    state = _made(tmp_path)
    (state / LOG_NAME).write_text(
        '{"op": "DeleteAccessKey", "at": "2026-11-27T12:00:00Z", "key": "AKIAAAAAAAAAAAAAAAAA", '
        '"user": "nobody.here"}\n'
    )
    line = one_line_error(demo(["audit", "--demo"], state))
    assert "DeleteAccessKey nobody.here" in line and "initkeys demo reset" in line


def test_one_command_at_a_time(tmp_path: Path) -> None:
    state = _made(tmp_path)
    with (
        open_state(str(state)),
        pytest.raises(InputError, match="another initkeys demo command"),
    ):
        open_state(str(state))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(
        st.one_of(
            st.just(_GOOD.rstrip("\n")),
            st.dictionaries(
                st.sampled_from(["op", "at", "user", "key", "status", "path", "seed", "command"]),
                st.one_of(
                    st.sampled_from(
                        ["command", "UpdateAccessKey", "CreateUser", "2026-11-27T12:00:00Z"]
                    ),
                    st.text(max_size=20),
                    st.integers(),
                    st.none(),
                ),
            ).map(json.dumps),
            st.text(max_size=40),
        ),
        max_size=5,
    )
)
def test_fuzz_the_log_reader(lines: list[str]) -> None:
    tried("demo-state-log")
    data = "".join(line.replace("\n", " ") + "\n" for line in lines).encode("utf-8", "replace")
    try:
        changes = parse_log(data, "/tmp/state")
    except InputError as e:
        message = str(e)
        assert "\n" not in message and "run 'initkeys demo reset'" in message
    else:
        assert len(changes) == len(lines)


# -- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["remediate", "--demo", "--profile", "prod"], "--demo cannot be combined"),
        (["remediate", "--demo", "--endpoint-url", "http://x"], "--demo cannot be combined"),
        (["remediate", "--demo", "--org", "--role-name", "r"], "--demo cannot be combined"),
        (["rollback", "--demo", "--journal", "j", "--role-name", "r"], "--demo cannot be combined"),
        (["rollback", "--demo", "--journal", "j", "--profile", "p"], "--demo cannot be combined"),
        (["guard", "simulate", "--demo", "--profile", "p"], "--demo cannot be combined"),
        (["guard", "simulate", "--demo", "--topic-arn", "arn:aws:sns:us-east-1:1:t"], "no SNS"),
        (["guard", "simulate", "--demo", "--apply", "--yes"], "no SNS topic"),
        (["remediate", "--demo", "--cloudtrail", "lookup"], "the demo has no trail"),
        (["remediate", "--demo-state", "d"], "--demo-state goes with --demo"),
        (["audit", "--demo-state", "d", "--credential-report", "x.csv"], "--demo-state goes"),
        (["guard", "simulate"], "Missing argument 'EVENT.json'"),
    ],
)
def test_demo_refusals(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run_here(args, cwd=tmp_path)
    assert needle in one_line_error(proc)
    assert not (tmp_path / "d").exists()
