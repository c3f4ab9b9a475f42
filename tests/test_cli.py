"""The command line as a user runs it: a subprocess, its exit code, stdout and stderr
(in-process, through :func:`here`, where a test is about a rule, not the process)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import cli_kit
import pytest
from cli_kit import assert_one_line_error
from scenario import NOW, Scenario, at

DATA = Path(__file__).parent / "data"

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)


def row(
    user: str,
    created: str,
    password: str,
    k1: tuple[str, str, str] | None,
    *,
    account: str = "111122223333",
) -> str:
    """A credential report row: ``k1`` is key 1's (active, last rotated, last used)."""
    active, rotated, used = k1 or ("false", "N/A", "N/A")
    return (
        f"{user},arn:aws:iam::{account}:user/{user},{created},{password},N/A,N/A,N/A,false,"
        f"{active},{rotated},{used},N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )


CLEAN = "\n".join(
    [
        HEADER,
        row("alice", "2022-01-01T00:00:00+00:00", "true", None),
        row(
            "bob",
            "2022-01-01T00:00:00+00:00",
            "false",
            ("true", "2022-01-01T00:00:10+00:00", "N/A"),
        ),
    ]
)
WARN = "\n".join(
    [
        HEADER,
        row(
            "carol",
            "2022-01-01T00:00:00+00:00",
            "true",
            ("true", "2023-01-01T00:00:00+00:00", "N/A"),
        ),
    ]
)
FAILING = "\n".join(
    [
        HEADER,
        row(
            "dave",
            "2022-01-01T00:00:00+00:00",
            "true",
            ("true", "2022-01-01T00:00:30+00:00", "N/A"),
        ),
    ]
)


def no_aws_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
    )
    return env


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return cli_kit.run(args, env=env, stdin=stdin)


def here(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """:func:`run` in-process, for tests of what initkeys decides (exit codes of rules,
    one-line errors, what a format writes), not of the process."""
    return cli_kit.run_here(args, env=env, stdin=stdin or "")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_version(tmp_path: Path) -> None:
    proc = run(["--version"], no_aws_env(tmp_path))
    assert proc.returncode == 0
    assert "initkeys" in proc.stdout


@pytest.mark.parametrize(
    ("text", "extra", "code"),
    [
        (CLEAN, [], 0),
        (WARN, [], 0),
        (WARN, ["--fail-on", "WARNING"], 1),
        (WARN, ["--mode", "cis"], 1),
        (FAILING, [], 1),
        (FAILING, ["--setup-window", "20s"], 0),
    ],
)
def test_offline_exit_codes(tmp_path: Path, text: str, extra: list[str], code: int) -> None:
    path = write(tmp_path, "report.csv", text)
    proc = here(["audit", "--credential-report", path, *extra], no_aws_env(tmp_path))
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == ""


def test_offline_json_is_the_contract(tmp_path: Path) -> None:
    path = write(tmp_path, "client.csv", FAILING)
    proc = here(["audit", "--credential-report", path, "--format", "json"], no_aws_env(tmp_path))
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 1
    assert doc["mode"] == "setup"
    assert doc["setup_window_seconds"] == 600
    account = doc["accounts"][0]
    assert account["account_id"] == "111122223333"
    assert account["source"] == "client.csv"
    assert account["status"] == "FAIL"
    finding = account["findings"][0]
    assert finding["user"] == "dave"
    assert finding["reason"] == "setup-key-unused"
    assert finding["access_key_id"] is None
    assert doc["summary"]["FAIL"] == 1


def test_stdin_and_several_reports(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", WARN.replace("111122223333", "444455556666"))
    proc = run(
        ["audit", "--credential-report", "-", "--credential-report", path, "--format", "csv"],
        no_aws_env(tmp_path),
        stdin=FAILING,
    )
    assert proc.returncode == 1, proc.stderr
    assert "111122223333" in proc.stdout and "444455556666" in proc.stdout


def test_output_file(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", FAILING)
    out = tmp_path / "report.json"
    proc = here(
        ["audit", "--credential-report", path, "--format", "json", "--output", str(out)],
        no_aws_env(tmp_path),
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert json.loads(out.read_text())["summary"]["FAIL"] == 1


def test_output_to_a_fifo_writes_through_it_and_leaves_it_in_place(tmp_path: Path) -> None:
    # The same path as `-o /dev/null`: renaming a temporary file over a
    # special file would replace it (as root, /dev/null for everyone).
    path = write(tmp_path, "r.csv", FAILING)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    proc = run(
        ["audit", "--credential-report", path, "--format", "json", "-o", str(fifo)],
        no_aws_env(tmp_path),
    )
    reader.join(timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["summary"]["FAIL"] == 1
    assert not list(tmp_path.glob(".initkeys-*"))  # no temporary file left beside it


def test_text_report_reads_like_a_scanner(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", FAILING)
    proc = run(["audit", "--credential-report", path], no_aws_env(tmp_path))
    assert "1.11" in proc.stdout
    assert "dave" in proc.stdout
    assert "\x1b[" not in proc.stdout  # no colour when not a terminal


MALFORMED = sorted(p.name for p in DATA.glob("bad_*"))


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_input_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    proc = here(["audit", "--credential-report", str(DATA / name)], no_aws_env(tmp_path))
    line = assert_one_line_error(proc, 2)
    assert name in line
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "--mode", "strict"],
        ["audit", "--setup-window", "ten minutes"],
        ["audit", "--format", "xml"],
        ["audit", "--demo", "--credential-report", "x.csv"],
        ["audit", "--credential-report", "/no/such/file.csv"],
        ["nonsense"],
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: list[str]) -> None:
    assert_one_line_error(here(args, no_aws_env(tmp_path)), 2)


def test_no_credentials_exits_3(tmp_path: Path) -> None:
    env = no_aws_env(tmp_path)
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # never reached: no credentials first
    line = assert_one_line_error(run(["audit"], env), 3)
    assert "no AWS credentials" in line
    assert "--demo" in line


def test_unknown_profile_exits_2(tmp_path: Path) -> None:
    line = assert_one_line_error(run(["audit", "--profile", "nope"], no_aws_env(tmp_path)), 2)
    assert "nope" in line


def test_unreachable_endpoint_exits_3(tmp_path: Path) -> None:
    env = no_aws_env(tmp_path)
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    env["AWS_MAX_ATTEMPTS"] = "1"
    line = assert_one_line_error(run(["audit", "--endpoint-url", "http://127.0.0.1:9"], env), 3)
    assert "could not reach AWS" in line


def live_env(tmp_path: Path) -> dict[str, str]:
    env = no_aws_env(tmp_path)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def seed_one_failing_user(aws: Any) -> None:
    s = Scenario(aws)
    t = at("2023-03-03T10:00:00")
    s.user("erin", t)
    s.key("erin", t + timedelta(seconds=20))
    s.settle(NOW)


def test_live_with_endpoint_url_flag(tmp_path: Path, aws: Any) -> None:
    seed_one_failing_user(aws)
    env = live_env(tmp_path)
    proc = run(["audit", "--endpoint-url", aws.endpoint_url, "--format", "json"], env)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    (finding,) = [f for f in doc["accounts"][0]["findings"] if f["user"] == "erin"]
    assert finding["status"] == "FAIL"
    assert finding["access_key_id"].startswith("AKIA")
    assert doc["accounts"][0]["source"] == "aws"


def test_live_with_aws_endpoint_url_variable(tmp_path: Path, aws: Any) -> None:
    seed_one_failing_user(aws)
    env = live_env(tmp_path)
    env["AWS_ENDPOINT_URL"] = aws.endpoint_url
    proc = run(["audit", "--format", "csv"], env)
    assert proc.returncode == 1, proc.stderr
    assert "erin" in proc.stdout


def test_policy_audit_prints_json(tmp_path: Path) -> None:
    proc = here(["policy", "audit"], no_aws_env(tmp_path))
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    actions = {a for st in doc["Statement"] for a in st["Action"]}
    assert "iam:GetCredentialReport" in actions
    assert not any(a.endswith("*") for a in actions)


def test_demo(tmp_path: Path) -> None:
    proc = run(["audit", "--demo", "--format", "json"], no_aws_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    users = {f["user"] for f in doc["accounts"][0]["findings"]}
    assert len(users) >= 25
    reasons = {f["reason"] for f in doc["accounts"][0]["findings"]}
    assert {
        "setup-key-used",
        "key-used",
        "usage-unknown",
        "setup-key-unused",
        "setup-key-inactive",
        "unused-key",
        "inactive-unused-key",
        "no-access-keys",
        "no-console-password",
    } <= reasons


def test_named_profile_is_used(tmp_path: Path, aws: Any) -> None:
    seed_one_failing_user(aws)
    env = no_aws_env(tmp_path)
    config = tmp_path / "config"
    config.write_text("[profile emulated]\nregion = us-east-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[emulated]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    env.update(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(credentials))
    proc = run(
        ["audit", "--profile", "emulated", "--endpoint-url", aws.endpoint_url, "--format", "csv"],
        env,
    )
    assert proc.returncode == 1, proc.stderr
    assert "erin" in proc.stdout


def test_denied_audit_exits_3_and_names_the_policy(tmp_path: Path, aws: Any) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName="no-rights")
    meta = iam.create_access_key(UserName="no-rights")["AccessKey"]
    env = no_aws_env(tmp_path)
    env.update(
        AWS_ACCESS_KEY_ID=meta["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=meta["SecretAccessKey"],
        AWS_DEFAULT_REGION="us-east-1",
    )
    with aws.enforcing_iam():
        proc = run(["audit", "--endpoint-url", aws.endpoint_url], env)
    line = assert_one_line_error(proc, 3)
    assert "access denied" in line
    assert "initkeys policy audit" in line
    assert meta["SecretAccessKey"] not in proc.stdout + proc.stderr
