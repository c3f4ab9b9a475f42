"""Assumed-role credentials refresh themselves: a run (and a confirmation prompt) may
outlast the role's session.

The emulator's sessions never expire, so a proxy between initkeys and the emulator
makes them short: it rewrites AssumeRole's ``Expiration`` to a few seconds from now
and answers ``ExpiredToken`` (HTTP 400, the STS/IAM error shape) to any request signed
with a session token past that time, as AWS does. The proxy keeps its own clock, which
a test moves forward instead of waiting for sessions to run out.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cli_kit import subprocess_env
from faults import Delay, FaultProxy, error_xml
from test_org import (  # noqa: F401 (org: a fixture)
    MANAGEMENT,
    ROLE,
    fails_by_account,
    key_statuses,
    org,
)

import initkeys
from initkeys.aws import AwsContext
from initkeys.errors import AccessError
from initkeys.sources.accounts import (
    DEFAULT_SESSION,
    AccountSelection,
    TargetAccount,
    _credential_metadata,
    role_arn,
)

LIFETIME = 8.0  # seconds a session lasts through the proxy
_TOKEN = re.compile(rb"<SessionToken>([^<]+)</SessionToken>")
_EXPIRATION = re.compile(rb"<Expiration>[^<]+</Expiration>")


class ShortSessions:
    """The proxy's rule and rewrite: sessions of ``lifetime`` seconds, enforced on the
    proxy's clock (real time plus what :meth:`skip` added)."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self.skipped = 0.0
        self.expires: dict[str, float] = {}  # session token -> when it expires (now())
        self.expired_answers = 0
        self._lock = threading.Lock()
        self.proxy: FaultProxy | None = None

    def rule(self, action: str, count: int) -> tuple[int, str] | Delay | None:
        assert self.proxy is not None
        token = self.proxy.headers.get("x-amz-security-token")
        with self._lock:
            ends = self.expires.get(token or "")
            if ends is None or self.now() <= ends:
                return None
            self.expired_answers += 1
        return 400, error_xml(
            "ExpiredToken", "The security token included in the request is expired"
        )

    def rewrite(self, action: str, body: bytes) -> bytes:
        if action != "AssumeRole":
            return body
        found = _TOKEN.search(body)
        if found is None:
            return body
        with self._lock:
            ends = self.now() + self.lifetime
            self.expires[found.group(1).decode()] = ends
        stamp = datetime.fromtimestamp(ends, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _EXPIRATION.sub(f"<Expiration>{stamp}</Expiration>".encode(), body)

    def now(self) -> float:
        return time.time() + self.skipped

    def skip(self, seconds: float) -> None:
        """Move the proxy's clock ``seconds`` on: as if that long had passed."""
        with self._lock:
            self.skipped += seconds

    def expire_all(self) -> float:
        """Move the clock past the end of every session handed out so far; no real wait
        is left (0 seconds, for :func:`run_with_prompt`)."""
        with self._lock:
            latest = max(self.expires.values(), default=self.now())
        self.skip(max(0.0, latest - self.now()) + 1.0)
        return 0.0


def run_with_prompt(
    args: list[str], cwd: Path, answer: str, wait: Any, timeout: float = 180
) -> tuple[int, str, str]:
    """``python -m initkeys ARGS`` with a terminal for standard input: when the
    confirmation prompt shows, wait ``wait()`` seconds, then type ``answer``."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "initkeys", *args],
        cwd=cwd,
        env=subprocess_env(),
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    out: list[bytes] = []
    err = bytearray()
    prompted = threading.Event()

    def read_stdout() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    def read_stderr() -> None:
        assert proc.stderr is not None
        while chunk := os.read(proc.stderr.fileno(), 4096):
            err.extend(chunk)
            if b"[y/N]" in err:
                prompted.set()
        prompted.set()  # the run ended without asking: let the test see why

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for reader in readers:
        reader.start()
    try:
        assert prompted.wait(timeout), "no confirmation prompt"
        if proc.poll() is None:
            time.sleep(wait())
            os.write(master, answer.encode() + b"\n")
        code = proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    for reader in readers:
        reader.join(10)
    return code, b"".join(out).decode(), err.decode()


def test_remediate_org_outlasts_its_role_sessions(
    aws: Any,
    org: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Plan every account, wait at the prompt until every role session has expired, then
    act: every planned key is deactivated, and the roles were assumed again to do it."""
    before = {a: key_statuses(aws, a) for a in (MANAGEMENT, *org.values())}
    sessions = ShortSessions(LIFETIME)
    with FaultProxy(aws.endpoint_url, sessions.rule, sessions.rewrite) as proxy:
        sessions.proxy = proxy
        args = ["remediate", "--endpoint-url", proxy.url, "--org", "--role-name", ROLE]
        code, out, err = run_with_prompt(
            [*args, "--apply", "--journal-dir", "j"], tmp_path, "y", sessions.expire_all
        )
        assumed = {
            a: proxy.calls("AssumeRole", RoleArn=role_arn(a, "aws", ROLE)) for a in org.values()
        }
    assert "Deactivate 4 key(s) in 4 account(s)?" in err, out + err
    assert code == 0, out + err
    after = {a: key_statuses(aws, a) for a in (MANAGEMENT, *org.values())}
    for account, keys in after.items():
        assert keys.keys() == before[account].keys()
    assert sum(list(after[a].values()).count("Inactive") for a in after) == 4
    assert list(after[org["prod"]].values()) == ["Inactive", "Inactive"]
    assert list(after[org["sandbox"]].values()) == ["Inactive"]
    assert list(after[MANAGEMENT].values()) == ["Inactive"]
    # Every member's role was assumed again after its first session ran out, before any
    # request went out with an expired token.
    assert all(count > 1 for count in assumed.values()), assumed
    assert sessions.expired_answers == 0
    assert "Traceback" not in err


def test_an_org_audit_outlasts_its_role_sessions(
    aws: Any,
    org: dict[str, str],  # noqa: F811
) -> None:
    """Each member's credential report takes longer than the role's session: the rest
    of that account's audit still runs, on credentials assumed again."""
    sessions = ShortSessions(4.0)
    delayed: list[str] = []

    def slow_reports(action: str, count: int) -> tuple[int, str] | Delay | None:
        refused = sessions.rule(action, count)
        if refused is not None:
            return refused
        assert sessions.proxy is not None
        if (
            action == "GenerateCredentialReport"
            and "x-amz-security-token" in sessions.proxy.headers
        ):
            delayed.append(action)
            # A real wait, not skip(): the other accounts' requests are in flight meanwhile,
            # and a jump of the shared clock would expire tokens they were just given.
            return Delay(5.0)
        return None

    with FaultProxy(aws.endpoint_url, slow_reports, sessions.rewrite) as proxy:
        sessions.proxy = proxy
        targets = [TargetAccount(i, n) for n, i in org.items()]
        results = list(
            initkeys.audit_accounts(
                AwsContext(aws.session(), endpoint_url=proxy.url),
                targets,
                AccountSelection(role_name=ROLE),
            )
        )
        assumed = [
            proxy.calls("AssumeRole", RoleArn=role_arn(a, "aws", ROLE)) for a in org.values()
        ]
    assert [r.error for r in results] == [None, None, None]
    assert fails_by_account(results) == {org["prod"]: 2, org["dev"]: 0, org["sandbox"]: 1}
    assert len(delayed) >= 3
    assert all(count > 1 for count in assumed), assumed
    assert sessions.expired_answers == 0


def answer(expiration: datetime | None, date: str | None) -> dict[str, Any]:
    credentials: dict[str, Any] = {
        "AccessKeyId": "ASIAEXAMPLE",
        "SecretAccessKey": "secret",
        "SessionToken": "token",
    }
    if expiration is not None:
        credentials["Expiration"] = expiration
    headers = {"date": date} if date is not None else {}
    return {"Credentials": credentials, "ResponseMetadata": {"HTTPHeaders": headers}}


def test_the_expiry_is_placed_on_this_machines_clock() -> None:
    """The session's length is AWS's (Expiration less the answer's Date), counted from
    when the request was sent here: a skewed local clock changes nothing."""
    asked = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    aws_now = datetime(2026, 12, 1, 5, 30, tzinfo=timezone.utc)  # AWS's clock: 3.5 h ahead
    date = "Tue, 01 Dec 2026 05:30:00 GMT"
    metadata = _credential_metadata(answer(aws_now + timedelta(minutes=45), date), asked)
    assert metadata["expiry_time"] == (asked + timedelta(minutes=45)).isoformat()
    assert (metadata["access_key"], metadata["token"]) == ("ASIAEXAMPLE", "token")


def test_an_expiry_that_makes_no_sense_means_the_default_hour() -> None:
    asked = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    frozen = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)  # an emulator's frozen clock
    date = "Tue, 01 Dec 2026 02:00:00 GMT"
    for case in (answer(frozen, date), answer(frozen, None), answer(None, date)):
        case["Credentials"].setdefault("Expiration", None)
        metadata = _credential_metadata(case, asked)
        assert metadata["expiry_time"] == (asked + DEFAULT_SESSION).isoformat()
    garbled = answer(asked + timedelta(hours=1), "not a date")
    assert (
        _credential_metadata(garbled, asked)["expiry_time"] == (asked + DEFAULT_SESSION).isoformat()
    )


def test_an_answer_without_credentials_is_an_access_error() -> None:
    asked = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    for broken in ({}, {"Credentials": None}, {"Credentials": {"AccessKeyId": "ASIA"}}):
        with pytest.raises(AccessError, match="without complete credentials"):
            _credential_metadata(broken, asked)
