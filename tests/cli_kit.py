"""Running ``python -m initkeys`` in a subprocess, as a user runs it, and reading its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test process's environment (conftest has made it AWS-safe), this checkout's
    ``src`` first on the path, no colour, and ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def run(
    args: list[str],
    *,
    cwd: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python -m initkeys ARGS`` in a subprocess (``env``: :func:`subprocess_env`)."""
    return subprocess.run(
        [sys.executable, "-m", "initkeys", *args],
        cwd=cwd,
        env=env or subprocess_env(),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """The run exited ``code`` with one ``initkeys: error:`` line and no traceback."""
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("initkeys: error: ")
    return lines[0]
