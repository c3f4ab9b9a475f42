"""Running ``python -m initkeys`` in a subprocess, as a user runs it, and reading its errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from fuzz_kit import run_main

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


def run_here(
    args: list[str], *, cwd: Path | None = None, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """:func:`run`, in this process: for tests of what initkeys decides, not of the process
    (exit codes under pipes and signals, the entry point): a subprocess costs 0.2 s of CPU,
    0.8 s once it imports boto3. ``env`` replaces the environment for the run, as it would
    a subprocess's."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_stdin = sys.stdin
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    try:
        code, out, err = run_main(args)
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess([sys.executable, "-m", "initkeys", *args], code, out, err)
