"""The emulator as its own process, for the benchmarks (the tests have their fixture)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import datetime
from typing import IO

# The emulator is on loopback: never through a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start_emulator(stderr: IO[bytes] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``python -m initkeys.demo.emulator`` on a free port: (process, endpoint URL).

    ``stderr``: where the emulator's errors go (a tool's call that moto does not
    implement prints a traceback there); ours by default.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "initkeys.demo.emulator", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        sys.exit(f"the emulator did not start: {line!r}")
    return process, line.split(None, 1)[1].strip()


def set_time(url: str, when: datetime) -> None:
    """Freeze the emulator's clock at ``when`` (UTC)."""
    body = json.dumps({"now": when.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
    request = urllib.request.Request(
        url + "/_initkeys/clock",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    _OPENER.open(request, timeout=30).read()
