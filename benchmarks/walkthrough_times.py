"""Wall time of each command of the README's walkthrough ("Ten minutes with initkeys"), run
as a user runs it: one process per command, in order, in an empty directory with a fresh
demo state. The commands are those tests/test_walkthrough.py checks.

python benchmarks/walkthrough_times.py [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_kit import run, subprocess_env  # noqa: E402  (tests/ is on the path only now)
from results_file import write_section  # noqa: E402
from test_walkthrough import section, steps  # noqa: E402


def one_run() -> list[tuple[list[str], int, int, float]]:
    """(args, expected exit code, exit code, seconds) per step, in order."""
    _, markdown = section()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = subprocess_env(INITKEYS_DEMO_STATE=str(Path(tmp) / "demo-state"))
        for step in steps(markdown):
            started = time.perf_counter()
            proc = run(step.args, cwd=Path(tmp), env=env)
            rows.append((step.args, step.exit_code, proc.returncode, time.perf_counter() - started))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="median of this many walkthroughs")
    args = parser.parse_args()
    runs = [one_run() for _ in range(max(1, args.runs))]
    lines = [
        f"One process per command, median of {len(runs)} run(s); {platform.python_version()}, "
        f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| command | exit | wall time |",
        "|---|---|---|",
    ]
    ok = True
    for i, (command, expected, code, _) in enumerate(runs[0]):
        seconds = statistics.median(r[i][3] for r in runs)
        ok = ok and all(r[i][2] == expected for r in runs)
        lines.append(f"| `{shlex.join(['initkeys', *command])}` | {code} | {seconds:.1f} s |")
    total = statistics.median(sum(row[3] for row in r) for r in runs)
    lines.append(f"| total | | {total:.1f} s |")
    print("\n".join(lines))
    if not ok:
        sys.exit("an exit code was not the one the walkthrough shows")
    write_section("walkthrough-times", "The README walkthrough, command by command", lines)


if __name__ == "__main__":
    main()
