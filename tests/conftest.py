"""Shared fixtures: an AWS emulator running as a real process, and a clean AWS env.

``emulator`` (session-scoped) runs initkeys.demo.emulator (through
tests/emulator_launch.py) once per test session; ``aws`` (function-scoped) hands
it to a test with moto's state wiped and the clock back on real time.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import pytest

# Nothing a test does may reach real AWS or read the developer's AWS config: no AWS_*
# variable of theirs survives (profiles, role and container credentials, endpoints,
# retry settings), and neither does moto's account. Subprocesses inherit this.
for _name in [n for n in os.environ if n.startswith("AWS_")] + ["MOTO_ACCOUNT_ID"]:
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
# The demo's state between commands (--demo): this test process's own, never the
# developer's, whose walkthrough would change what a demo audit shows.
os.environ["INITKEYS_DEMO_STATE"] = os.path.join(
    tempfile.mkdtemp(prefix="initkeys-tests-"), "demo-state"
)
# The emulator is on loopback: never send its traffic through a proxy.
os.environ["NO_PROXY"] = ",".join(
    filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"])
)
os.environ["no_proxy"] = os.environ["NO_PROXY"]

# jsonschema's FormatChecker imports rfc3987_syntax if it can, and that builds some forty
# lark grammars at import: about 3 s of CPU in every pytest worker. It only checks the
# "iri" and "iri-reference" formats of drafts 7 and later; the tests validate SARIF with
# Draft 4 (no "iri" format) and the report schema with no format checks at all, so
# leaving it out changes no verdict.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# Byte-code caches on, whatever the shell says: with PYTHONDONTWRITEBYTECODE set (as in
# many CI images) every pytest worker re-rewrites every test module (about 4 s of CPU
# each), and each of the suite's subprocesses and emulators compiles initkeys again.
# The caches go to the gitignored __pycache__ folders; subprocesses inherit this.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

_SRC = Path(__file__).resolve().parent.parent / "src"
_START_TIMEOUT = 60.0
# A proxy-free opener for the emulator's own endpoints.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorProcess:
    """Handle on ``python -m initkeys.demo.emulator`` running in a subprocess."""

    region = "us-east-1"

    def __init__(self, process: subprocess.Popen[str], endpoint_url: str) -> None:
        self.process = process
        self.endpoint_url = endpoint_url
        self._session: Any = None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        with _OPENER.open(request, timeout=30) as response:
            return bytes(response.read())

    def set_time(self, dt: datetime) -> None:
        """Freeze the emulator's clock at ``dt`` (naive means UTC)."""
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        stamp = dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        self._call("POST", "/_initkeys/clock", {"now": stamp})

    def reset_time(self) -> None:
        """Let the emulator's clock run in real time again."""
        self._call("DELETE", "/_initkeys/clock")

    def now(self) -> str:
        """The emulator's current time, as it reports it."""
        return str(json.loads(self._call("GET", "/_initkeys/clock"))["now"])

    def reset(self) -> None:
        """Forget every AWS resource and return the clock to real time."""
        self._call("POST", "/moto-api/reset")
        self.reset_time()

    @contextmanager
    def enforcing_iam(self) -> Iterator[None]:
        """Make moto enforce IAM policies (as AWS does) for the duration of the block."""
        self._call_text("/moto-api/reset-auth", "0")
        try:
            yield
        finally:
            # A huge count switches enforcement off again for the tests that follow.
            self._call_text("/moto-api/reset-auth", "1000000000")

    def _call_text(self, path: str, body: str) -> None:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with _OPENER.open(request, timeout=30) as response:
            response.read()

    def session(self) -> Any:
        """The one boto3 Session of the test run: its clients share loaded service models,
        so making one costs milliseconds, not a tenth of a second. Never change its
        config; a test that must, takes a :meth:`fresh_session`."""
        if self._session is None:
            self._session = self.fresh_session()
        return self._session

    def fresh_session(self) -> Any:
        """A boto3 Session of the test's own (its config is its own; the service models it
        reads are shared)."""
        import boto3

        from initkeys.aws.context import share_models

        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=self.region,
        )
        share_models(session)  # as the CLI's own sessions do: the models are read once
        return session

    def client(self, name: str, **kwargs: Any) -> Any:
        return self.session().client(name, endpoint_url=self.endpoint_url, **kwargs)


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    # Keeps draining stdout after "ready", so the child never blocks on a full pipe.
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_SRC), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    # initkeys.demo.emulator's main, with less to import (and a profiler on request).
    launcher = str(Path(__file__).with_name("emulator_launch.py"))
    process = subprocess.Popen(
        [sys.executable, launcher, "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    errors: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stderr, errors), daemon=True).start()
    try:
        url = _wait_ready(process, lines, errors)
        yield EmulatorProcess(process, url)
    finally:
        process.terminate()
        try:
            # A profiled emulator needs time to merge and write its profile.
            process.wait(timeout=300 if os.environ.get("INITKEYS_EMULATOR_PROFILE") else 10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_ready(
    process: subprocess.Popen[str], lines: queue.Queue[str | None], errors: queue.Queue[str | None]
) -> str:
    try:
        line = lines.get(timeout=_START_TIMEOUT)
    except queue.Empty:
        line = None
    if line is None or not line.startswith("ready "):
        process.kill()
        stderr = []
        while not errors.empty():
            chunk = errors.get_nowait()
            if chunk:
                stderr.append(chunk)
        raise RuntimeError(
            f"the emulator did not start (first line: {line!r}): {''.join(stderr)[-2000:]}"
        )
    return line.split(None, 1)[1].strip()


@pytest.fixture
def aws(emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The emulator with no AWS resources and the clock on real time."""
    emulator.reset()
    yield emulator


@pytest.fixture
def trail(aws: EmulatorProcess) -> Any:
    """trail_company's users in the emulator, and the CloudTrail log files that say
    who made each (a ``trail_company.Trail``)."""
    from trail_company import seed_trail

    return seed_trail(aws)


def _fuzz_inputs() -> dict[str, int]:
    """This process's fuzz_kit counts (none when no fuzzer ran here)."""
    kit = sys.modules.get("fuzz_kit")
    return dict(getattr(kit, "FUZZ_INPUTS", None) or {})


# Under pytest-xdist the fuzzers run in the workers: each sends its counts to the
# controller when it finishes, and the controller adds them up for the summary.
_WORKER_FUZZ_INPUTS: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker
        workeroutput["fuzz_inputs"] = _fuzz_inputs()


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is not installed
def pytest_testnodedown(node: Any, error: Any) -> None:
    for name, n in getattr(node, "workeroutput", {}).get("fuzz_inputs", {}).items():
        _WORKER_FUZZ_INPUTS[name] = _WORKER_FUZZ_INPUTS.get(name, 0) + n


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many inputs each fuzzer tried in this run, over every worker (see fuzz_kit)."""
    counts = _fuzz_inputs()
    for name, n in _WORKER_FUZZ_INPUTS.items():
        counts[name] = counts.get(name, 0) + n
    if counts:
        total = sum(counts.values())
        parts = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
        terminalreporter.write_line(f"fuzz inputs tried: {total} ({parts})")
