"""The emulator as its own process, for the benchmarks (the tests have their fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO

from initkeys.demo.emulator import CLOCK_PATH
from initkeys.timeutil import format_utc

# The emulator is on loopback: never through a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Emulator:
    """A running emulator: its endpoint URL and its clock."""

    url: str

    def set_time(self, when: datetime) -> None:
        """Freeze the emulator's clock at ``when`` (an aware datetime, or naive UTC)."""
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc)
        body = json.dumps({"now": format_utc(when)}).encode()
        request = urllib.request.Request(
            self.url + CLOCK_PATH,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        _OPENER.open(request, timeout=30).read()


@contextmanager
def start_emulator(stderr: IO[bytes] | None = None) -> Iterator[Emulator]:
    """``python -m initkeys.demo.emulator`` on a free port, stopped on leaving.

    ``stderr``: where the emulator's errors go (a tool's call that moto does not
    implement prints a traceback there); ours by default. Loopback is kept out of
    any proxy (NO_PROXY) for this process and its children.
    """
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    process = subprocess.Popen(
        [sys.executable, "-m", "initkeys.demo.emulator", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready "):
            sys.exit(f"the emulator did not start: {line!r}")
        yield Emulator(line.split(None, 1)[1].strip())
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
