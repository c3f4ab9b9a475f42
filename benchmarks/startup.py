"""Start-up time of `initkeys --version` (median of repeated runs).

python benchmarks/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    # The console script installed beside this interpreter, as a user runs it.
    exe = Path(sys.executable).parent / "initkeys"
    command = (
        [str(exe), "--version"] if exe.exists() else [sys.executable, "-m", "initkeys", "--version"]
    )
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"command: {' '.join(command)}")
    print(
        f"start-up: median {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
