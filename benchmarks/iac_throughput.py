"""Wall time and peak memory of `initkeys iac` on a large generated Terraform tree.

    python benchmarks/iac_throughput.py [--configurations 2000] [--runs 3] [--no-write]

Generates (benchmarks/iac_tree.py) 2,000 configurations of five files each, 10,001 .tf
files and 50,000 resource blocks (users, login profiles, keys across files, for_each
over a map of users with flags, a count on a variable, calls of a local module, and
unrelated resources), runs `initkeys iac TREE --format json` as a child process, prints
its wall time and peak RSS (the child's VmHWM, polled), checks its FAIL iac-setup-key
users against the generator's labels, and rewrites its section of benchmarks/RESULTS.md.
Aim: under 10 s and 500 MiB on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from child_process import run_child
from iac_tree import child_env, generate
from results_file import write_section


def flagged(report: Path) -> set[str]:
    """The users a JSON report of `initkeys iac` gives a FAIL iac-setup-key."""
    findings = json.loads(report.read_text())["findings"]
    return {f["user"] for f in findings if f["reason"] == "iac-setup-key"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configurations", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args()
    env = child_env()
    with tempfile.TemporaryDirectory(prefix="initkeys-iac-bench-") as scratch:
        folder = Path(scratch)
        tree = generate(folder, args.configurations)
        print(
            f"tree: {tree.files:,} .tf files, {tree.resources:,} resource blocks, "
            f"{len(tree.labels):,} users ({len(tree.positives):,} with a setup key)"
        )
        report = folder / "report.json"
        argv = [sys.executable, "-m", "initkeys", "iac", str(tree.root)]
        argv += ["--format", "json", "--output", str(report)]
        walls, peaks = [], []
        for n in range(args.runs):
            run = run_child(argv, env=env, timeout=600)
            if run.returncode != 1:  # the tree has setup keys: 1 is the expected result
                sys.exit(f"initkeys iac exited {run.returncode}, not 1")
            walls.append(run.wall)
            peaks.append(run.peak_mib)
            print(f"  run {n + 1}: {run.wall:.2f} s, peak RSS {run.peak_mib:.0f} MiB")
        got = flagged(report)
        true_positives = len(got & tree.positives)
        precision = true_positives / len(got) if got else 0.0
        recall = true_positives / len(tree.positives)
    wall, peak = statistics.median(walls), max(peaks)
    runs = f"{args.runs} run" + ("s" if args.runs != 1 else "")
    print(
        f"initkeys iac: median {wall:.2f} s over {runs}, peak RSS {peak:.0f} MiB; "
        f"precision {precision:.2f}, recall {recall:.2f} ({true_positives}/{len(tree.positives)})"
    )
    if not args.no_write:
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        write_section(
            "iac-throughput",
            "IaC throughput",
            [
                f"Run on {when}, Python {platform.python_version()}, {os.cpu_count()} cores.",
                "",
                "| tree | wall time (median) | peak RSS | precision / recall | command |",
                "|---|---|---|---|---|",
                f"| {tree.files:,} .tf files, {tree.resources:,} resources, "
                f"{len(tree.labels):,} users | {wall:.2f} s ({runs}) | {peak:.0f} MiB "
                f"| {precision:.2f} / {recall:.2f} "
                f"| `python benchmarks/iac_throughput.py --configurations {args.configurations}` |",
            ],
        )


if __name__ == "__main__":
    main()
