"""Shared by the remediation and rollback tests: an account to remediate, snapshots
of every key read back from the emulator, and ways to run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from scenario import NOW, Key, Scenario, at

from initkeys.errors import InitkeysError

S = timedelta(seconds=1)


@dataclass(frozen=True)
class Account:
    """The seeded account: keys by name, and which ones remediation may act on."""

    keys: dict[str, Key]
    deactivate: frozenset[str]
    """Key names that ``--apply`` deactivates (setup mode)."""
    delete: frozenset[str]
    """Key names that ``--apply --delete`` deletes (setup mode)."""

    def ids(self, names: frozenset[str] | set[str]) -> set[str]:
        return {self.keys[n].access_key_id for n in names}


def seed(aws: Any, *, small: bool = False) -> Account:
    """One user per kind of finding remediation must tell apart (``small``: just
    three failing keys and an inactive setup key, for the fault tests)."""
    s = Scenario(aws)
    keys: dict[str, Key] = {}
    t = at("2023-04-01T14:00:00")
    failing = ("fail-a", "fail-b", "fail-c") if small else ("fail-a", "fail-b")
    for name in failing:
        s.user(name, t)
        keys[name] = s.key(name, t + 30 * S)
    s.user("inactive", t)
    keys["inactive"] = s.key("inactive", t + 40 * S, active=False)
    if small:
        s.settle(NOW)
        return Account(keys, frozenset(failing), frozenset({*failing, "inactive"}))
    s.user("used", t)
    keys["used"] = s.key("used", t + 20 * S)
    s.use(keys["used"], at("2024-01-01T00:00:00"))
    s.user("later", t)
    keys["later"] = s.key("later", at("2025-01-01T00:00:00"))  # WARNING unused-key
    s.user("svc", t, password=False)
    keys["svc"] = s.key("svc", t + 10 * S)
    # Two keys of one user in the same second: never confused.
    t2 = at("2024-05-05T05:05:05")
    s.user("twins", t2)
    keys["twin-1"] = s.key("twins", t2 + 5 * S)
    keys["twin-2"] = s.key("twins", t2 + 5 * S)
    s.settle(NOW)
    deactivate = frozenset({"fail-a", "fail-b", "twin-1", "twin-2"})
    return Account(keys=keys, deactivate=deactivate, delete=deactivate | {"inactive"})


def snapshot(aws: Any, *, but: str = "") -> dict[str, tuple[str, str, str, str | None]]:
    """Every key of every user: id → (user, status, create date, last used), read back.

    ``but`` leaves out a user: the one a test acts as (signing with a key uses it).
    """
    client = aws.client("iam")
    keys: dict[str, tuple[str, str, str, str | None]] = {}
    for page in client.get_paginator("list_users").paginate():
        for user in page["Users"]:
            name = user["UserName"]
            if name == but:
                continue
            for m in client.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                used = client.get_access_key_last_used(AccessKeyId=m["AccessKeyId"])
                last = used["AccessKeyLastUsed"].get("LastUsedDate")
                keys[m["AccessKeyId"]] = (
                    name,
                    m["Status"],
                    m["CreateDate"].isoformat(),
                    last.isoformat() if last else None,
                )
    return keys


def aws_cli_keys(aws: Any, user: str) -> dict[str, str]:
    """A user's keys as the AWS CLI shows them: id → status (a second, independent reader)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "iam",
            "list-access-keys",
            "--user-name",
            user,
            "--endpoint-url",
            aws.endpoint_url,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {m["AccessKeyId"]: m["Status"] for m in json.loads(proc.stdout)["AccessKeyMetadata"]}


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


def invoke(args: list[str], cwd: Path | None = None) -> Ran:
    """The CLI in-process (fast), with initkeys.cli.main's error handling."""
    from initkeys.cli import cli

    runner = CliRunner()
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(cli, args, catch_exceptions=True)
    finally:
        os.chdir(old)
    if isinstance(result.exception, InitkeysError):
        return Ran(result.exception.exit_code, result.stdout, str(result.exception))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def audit_json(aws: Any, path: Path, *extra: str, endpoint_url: str | None = None) -> Path:
    """Write ``initkeys audit --format json`` of the account to ``path``."""
    ran = invoke(
        [
            "audit",
            "--endpoint-url",
            endpoint_url or aws.endpoint_url,
            "--format",
            "json",
            "--output",
            str(path),
            *extra,
        ]
    )
    assert ran.code in (0, 1), ran.stderr
    return path


def journal_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def applied(lines: list[dict[str, Any]], action: str) -> set[str]:
    return {
        line["access_key_id"]
        for line in lines
        if line["phase"] == "applied" and line["action"] == action
    }


def phases(lines: list[dict[str, Any]], key_id: str) -> list[str]:
    return [line["phase"] for line in lines if line["access_key_id"] == key_id]


def changed(
    before: dict[str, tuple[str, str, str, str | None]],
    after: dict[str, tuple[str, str, str, str | None]],
) -> dict[str, str]:
    """Key id → what happened to it ('deleted', 'Active->Inactive', ...); unchanged keys omitted."""
    diff: dict[str, str] = {}
    for key_id, state in before.items():
        now = after.get(key_id)
        if now is None:
            diff[key_id] = "deleted"
        elif now != state:
            diff[key_id] = f"{state[1]}->{now[1]}" if now[1] != state[1] else f"{state}->{now}"
    for key_id in after.keys() - before.keys():
        diff[key_id] = "created"
    return diff


def assert_journal_true(aws: Any, lines: list[dict[str, Any]]) -> None:
    """Every applied line matches AWS now (read back), and nothing is applied twice per run."""
    state = snapshot(aws)
    seen: set[tuple[str, str, str]] = set()
    for line in lines:
        if line["phase"] != "applied":
            continue
        key = (line["run_id"], line["access_key_id"], line["action"])
        assert key not in seen, f"applied twice in one run: {key}"
        seen.add(key)
    last: dict[str, dict[str, Any]] = {}
    for line in lines:
        if line["phase"] == "applied":
            last[line["access_key_id"]] = line
    for key_id, line in last.items():
        if line["action"] == "delete":
            assert key_id not in state, line
        else:
            want = "Inactive" if line["action"] == "deactivate" else "Active"
            assert state[key_id][1] == want, line
