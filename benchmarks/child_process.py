"""Run a benchmark's child process: its exit code, wall time and its own peak memory."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class ChildRun:
    returncode: int | None  # None: killed at the time-out
    wall: float  # seconds
    peak_mib: float  # the child's own peak resident memory
    cpu: float = 0.0  # seconds of CPU (user + system) the child used: steadier than wall
    # time on a machine other jobs share
    peak_sum_mib: float = 0.0  # the largest sum of resident memory over the child and its
    # own children at one poll (a tool that forks: initkeys reading a big report in two)


def run_child(
    argv: list[str],
    output: IO[bytes] | int = subprocess.DEVNULL,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float | None = None,
) -> ChildRun:
    """Run argv to completion, its stdout and stderr to ``output``.

    The peak is the child's VmHWM, polled: ``wait4``'s ru_maxrss (and
    RUSAGE_CHILDREN, which also keeps the largest earlier child) would not do
    alone, as Linux starts a spawned child's maxrss at its parent's peak. What
    ``wait4`` reports is taken too when it exceeds this process's own peak, as
    then it can only be the child's: that covers the last moments between the
    final poll and the exit. The tools measured run in one process (threads),
    so the child's own peak is the tool's.
    """
    peak_kib = 0
    peak_sum_kib = 0
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=cwd)
    status = Path(f"/proc/{process.pid}/status")
    while True:
        pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.perf_counter() - start > timeout:
            process.kill()
            process.wait()
            return ChildRun(None, time.perf_counter() - start, peak_kib / 1024)
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except (OSError, ValueError):
            pass  # exiting, or no /proc: the peak stays what was seen
        peak_sum_kib = max(peak_sum_kib, _tree_rss_kib(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here
    if usage.ru_maxrss > resource.getrusage(resource.RUSAGE_SELF).ru_maxrss:
        peak_kib = max(peak_kib, usage.ru_maxrss)
    cpu = usage.ru_utime + usage.ru_stime
    peak_sum_kib = max(peak_sum_kib, peak_kib)
    return ChildRun(process.returncode, wall, peak_kib / 1024, cpu, peak_sum_kib / 1024)


def _tree_rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` and its children (one level: initkeys forks at most one), in KiB;
    pages the fork shares are counted in both, so the sum is an upper bound."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for one in [str(pid), *children]:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return total
