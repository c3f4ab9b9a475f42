"""The command line's edges, as a user meets them: real subprocesses, real pipes, a real
closed stdout, and a real HTTP endpoint that answers garbage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cli_kit
import pytest
from cli_kit import assert_one_line_error
from faults import FaultProxy
from fuzz_kit import run_main
from test_cli import HEADER, live_env, row, seed_one_failing_user

from initkeys.cli import atomic_file

CREATED = "2022-01-01T00:00:00+00:00"
UNREADABLE = row("alice", "not-a-date", "true", ("true", "2022-01-01T00:00:30+00:00", "N/A"))
FAILING = row("dave", CREATED, "true", ("true", "2022-01-01T00:00:30+00:00", "N/A"))


def _report(tmp_path: Path, *rows: str, name: str = "r.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return str(path)


def _big_report(tmp_path: Path, failing: bool) -> str:
    """Far more than a pipe holds (64 KiB) in any format: the reader must go away mid-write."""
    rows = [row(f"user{i:05d}", CREATED, "true", None) for i in range(4000)]
    return _report(tmp_path, *rows, *([FAILING] if failing else []), name="big.csv")


# --------------------------------------------------------------------------- option bounds


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--setup-window", "0", "more than 0s"),
        ("--setup-window", "999999999999999", "too long"),
        ("--setup-window", "31d", "at most 30d"),
        ("--setup-window", "-5m", "not a duration"),
        ("--report-timeout", "999999999999999", "too long"),
        ("--report-timeout", "2d", "at most 1d"),
        ("--report-timeout", "0", "more than 0s"),
    ],
)
def test_absurd_durations_are_exit_2_one_line(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    code, out, err = run_main(["audit", "--credential-report", _report(tmp_path), option, value])
    assert (code, out) == (2, "")
    (line,) = err.strip().splitlines()
    assert line.startswith("initkeys: error: ") and option in line and says in line


def test_durations_at_the_bounds_are_accepted(tmp_path: Path) -> None:
    path = _report(tmp_path, FAILING)
    # dave's key came 30 s after him: a setup key in a 30-day window, not in a 1-second one.
    for args, expected in (
        (["--setup-window", "30d"], 1),
        (["--setup-window", "1s"], 0),
        (["--report-timeout", "1d"], 1),
    ):
        code, _, err = run_main(["audit", "--credential-report", path, *args])
        assert code == expected, err


# --------------------------------------------------------------------------- -o -


def test_output_dash_is_stdout(tmp_path: Path) -> None:
    path = _report(tmp_path, FAILING)
    proc = cli_kit.run(
        ["audit", "--credential-report", path, "--format", "json", "-o", "-"], cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["accounts"][0]["findings"][0]["user"] == "dave"
    assert not (tmp_path / "-").exists()
    proc = cli_kit.run(
        ["audit", "--credential-report", path, "--output", "-", "--format", "csv"], cwd=tmp_path
    )
    assert proc.returncode == 1 and "dave" in proc.stdout
    assert not (tmp_path / "-").exists()


def test_plan_out_dash_is_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # --plan-out writes with atomic_file, as -o does: '-' is stdout there too.
    monkeypatch.chdir(tmp_path)
    with atomic_file("-") as out:
        out.write('{"plan": 1}\n')
    assert capsys.readouterr().out == '{"plan": 1}\n'
    assert not (tmp_path / "-").exists()


# --------------------------------------------------------------------------- INITKEYS_DEBUG


_BUG = (
    "import sys, initkeys.cli as c\n"
    "def boom(*a, **k): raise ZeroDivisionError('a bug')\n"
    "c.make_settings = boom\n"
    "c.main(sys.argv[1:])\n"
)


def _with_a_bug(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BUG, *args],
        env=cli_kit.subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_internal_error_is_exit_4_with_or_without_debug(tmp_path: Path) -> None:
    args = ["audit", "--credential-report", _report(tmp_path, FAILING)]
    line = assert_one_line_error(_with_a_bug(args), 4)
    assert "internal error: ZeroDivisionError: a bug" in line and "INITKEYS_DEBUG=1" in line
    debug = _with_a_bug(args, INITKEYS_DEBUG="1")
    assert debug.returncode == 4, debug.stderr  # not 1, which reads as "FAIL found"
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.rstrip().endswith("ZeroDivisionError: a bug")
    assert debug.stdout == ""


# --------------------------------------------------------------------------- closed stdout


def _closed_stdout(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``initkeys ARGS >&-`` in a real shell: the process starts with fd 1 closed."""
    return subprocess.run(
        ["sh", "-c", 'exec "$0" -m initkeys "$@" >&-', sys.executable, *args],
        env=cli_kit.subprocess_env(),
        stdout=subprocess.DEVNULL,  # the shell's; initkeys's own is closed by >&-
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("rows", "extra", "code"),
    [
        ((FAILING,), [], 1),
        ((row("carol", CREATED, "true", None),), [], 0),
        ((UNREADABLE,), [], 1),
        ((UNREADABLE,), ["--allow-errors"], 0),
    ],
    ids=["fail", "pass", "error", "error-allowed"],
)
def test_closed_stdout_ends_quietly_with_the_audits_code(
    tmp_path: Path, rows: tuple[str, ...], extra: list[str], code: int
) -> None:
    proc = _closed_stdout(["audit", "--credential-report", _report(tmp_path, *rows), *extra])
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == "initkeys: note: standard output is closed: the report was not written\n"


def test_closed_stdout_with_output_file_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    path = _report(tmp_path, FAILING)
    proc = _closed_stdout(
        ["audit", "--credential-report", path, "--format", "json", "-o", str(out)]
    )
    assert (proc.returncode, proc.stderr) == (1, "")
    assert json.loads(out.read_text())["summary"]["FAIL"] == 1


# --------------------------------------------------------------------------- broken pipes


@pytest.mark.parametrize("output_format", ["csv", "text"])
@pytest.mark.parametrize(("failing", "code"), [(False, 0), (True, 1)])
def test_reader_going_away_ends_quietly_with_the_audits_code(
    tmp_path: Path, output_format: str, failing: bool, code: int
) -> None:
    path = _big_report(tmp_path, failing)
    args = ["audit", "--credential-report", path, "--format", output_format]
    proc = subprocess.Popen(
        [sys.executable, "-m", "initkeys", *args],
        env=cli_kit.subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # like `| head -1`: one line, then the reader is gone
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == code, err
    assert first and err == ""  # no traceback, no "Exception ignored", no line at all


def test_head_in_a_real_shell_pipeline(tmp_path: Path) -> None:
    path = _big_report(tmp_path, failing=False)
    script = f'set -o pipefail; "{sys.executable}" -m initkeys audit --credential-report "{path}"'
    script += " --format csv | head -1"
    proc = subprocess.run(
        ["bash", "-c", script],
        env=cli_kit.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith('"account_id"')


def test_broken_pipe_outside_a_report_is_one_line_exit_2(tmp_path: Path) -> None:
    # A command whose output is cut short has no result to give: exit 2, one line.
    code = (
        "import sys, click, initkeys.cli as c\n"
        "@c.cli.command('spew')\n"
        "def spew():\n"
        "    for i in range(100000): click.echo('x' * 80)\n"
        "c.main(sys.argv[1:])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "spew"],
        env=cli_kit.subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 2, err
    assert err == (
        "initkeys: error: the reader of the output went away (broken pipe) before the "
        "command ended\n"
    )


# --------------------------------------------------------------------------- garbage from AWS

TOKEN = "FwoGZXIvYXdzEXAMPLE-SESSION-TOKEN-0123456789-MUST-NOT-LEAK"
HTML = (
    "<html><head><title>Proxy login</title></head><body>Your request "
    f"X-Amz-Security-Token: {TOKEN} was intercepted</body>"
)
TRUNCATED = (
    '<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult>'
    f"<Users><member><UserName>{TOKEN}</UserName><Arn>arn:aws:iam::1"
)


def _garbage_env(tmp_path: Path) -> dict[str, str]:
    env = live_env(tmp_path)
    env["AWS_SESSION_TOKEN"] = TOKEN  # what a reflecting proxy could echo back
    env["AWS_MAX_ATTEMPTS"] = "2"
    return env


def _no_leak(proc: subprocess.CompletedProcess[str]) -> None:
    seen = proc.stdout + proc.stderr
    assert TOKEN not in seen and "EXAMPLE-SESSION" not in seen
    assert "<html" not in seen and "Proxy login" not in seen and "<ListUsers" not in seen
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("action", "body"),
    [("GetCallerIdentity", HTML), ("ListUsers", TRUNCATED), ("GetCredentialReport", HTML)],
)
def test_unreadable_aws_answer_is_exit_3_without_the_body(
    tmp_path: Path, aws: Any, action: str, body: str
) -> None:
    seed_one_failing_user(aws)

    def garbage(name: str, count: int) -> tuple[int, str] | None:
        return (200, body) if name == action else None

    with FaultProxy(aws.endpoint_url, garbage) as proxy:
        proc = cli_kit.run(
            ["audit", "--endpoint-url", proxy.url, "--format", "json"], env=_garbage_env(tmp_path)
        )
        assert proxy.injected.get(action), proxy.counts
    line = assert_one_line_error(proc, 3)
    assert "could not be read" in line and "--endpoint-url" in line
    assert proc.stdout == ""
    _no_leak(proc)


def test_unreadable_answer_for_one_user_is_an_error_finding(tmp_path: Path, aws: Any) -> None:
    seed_one_failing_user(aws)  # erin: a FAIL key, so she is re-read live

    def garbage(name: str, count: int) -> tuple[int, str] | None:
        return (200, HTML) if name == "GetLoginProfile" else None

    with FaultProxy(aws.endpoint_url, garbage) as proxy:
        proc = cli_kit.run(
            ["audit", "--endpoint-url", proxy.url, "--format", "json"], env=_garbage_env(tmp_path)
        )
        assert proxy.injected.get("GetLoginProfile")
    assert proc.returncode == 1, proc.stderr  # fail closed: erin was not judged
    doc = json.loads(proc.stdout)
    (erin,) = [f for f in doc["accounts"][0]["findings"] if f["user"] == "erin"]
    assert (erin["status"], erin["reason"]) == ("ERROR", "live-read-failed")
    assert "could not be read" in erin["message"]
    assert doc["complete"] is False
    _no_leak(proc)


def test_a_stray_unreadable_answer_is_exit_3_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Any command that meets one outside its own error handling: still exit 3, no body.
    from botocore.parsers import ResponseParserError

    from initkeys import cli

    def boom(*_: Any, **__: Any) -> None:
        raise ResponseParserError(f"Unable to parse response, invalid XML received:\n{HTML}")

    monkeypatch.setattr(cli, "make_settings", boom)
    code, out, err = run_main(["audit", "--demo"])
    assert code == 3 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("initkeys: error: an AWS call failed: AWS sent an answer")
    assert TOKEN not in err


def test_error_lines_never_carry_terminal_escapes(tmp_path: Path) -> None:
    name = str(tmp_path / "r\x1b[2J\x07\u202e.csv")
    code, _, err = run_main(["audit", "--credential-report", name])
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err
    assert "r\\x1b[2J\\x07\\u202e.csv" in err
    assert os.sep in err
