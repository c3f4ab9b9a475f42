"""What the fuzzers share: a count of the inputs each one tried, and initkeys run in-process.

Every fuzzer calls :func:`tried` once per generated input; the counts are printed
at the end of the test session ("fuzz inputs tried"), so the figure in a
closing note is the one a run produced. :func:`run_main` runs the real CLI
entry point in this process (a subprocess per input would cost 100 times more)
and returns what a user would see: the exit code, stdout and stderr.
"""

from __future__ import annotations

import contextlib
import io
from collections import Counter

from initkeys.cli import main

FUZZ_INPUTS: Counter[str] = Counter()


def tried(fuzzer: str) -> None:
    """Count one input for ``fuzzer`` (a short name, e.g. ``credential-report-csv``)."""
    FUZZ_INPUTS[fuzzer] += 1


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """``initkeys ARGV`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as e:
            code = e.code
    return (
        (code if isinstance(code, int) else (0 if code is None else 1)),
        out.getvalue(),
        err.getvalue(),
    )


def assert_clean_end(code: int, stderr: str) -> None:
    """The fuzzers' property: exit 0/1, or exit 2 with one ``initkeys: error:`` line;
    never exit 3/4 from a file, never a traceback."""
    assert "Traceback" not in stderr, stderr
    assert code in (0, 1, 2), (code, stderr)
    if code == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("initkeys: error: "), stderr
