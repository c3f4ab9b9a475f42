"""Peak memory of a report over many accounts: findings spilled to disk or held.

    python benchmarks/many_accounts_memory.py [--accounts 5 25 50] [--rows 20000]

An organization audit writes its report only when every account is done, so
something must keep each account's findings until then. initkeys keeps them
on disk (``initkeys.spill``) and reads them back one account at a time. This
script measures what that buys, without AWS: N synthetic credential reports
of ROWS users each, one account apiece, audited in one run
(``initkeys audit --credential-report F1 … FN --format json``, the same
spill as ``--org``), against the same run with every finding held in memory
(the Python API, no spill). Each run is its own child process, so its peak
resident memory is its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from child_process import run_child
from offline_report import write_report

# The same audit with every account's findings in memory: what the run would
# cost without the spill.
HELD = """
import sys
from datetime import datetime, timezone
from initkeys.audit import audit_report_file
from initkeys.formats import get_formatter
from initkeys.model import AuditRun, Settings
settings = Settings()
out, paths = sys.argv[1], sys.argv[2:]
accounts = tuple(audit_report_file(p, settings) for p in paths)
run = AuditRun(settings=settings, generated_at=datetime.now(timezone.utc), accounts=accounts)
with open(out, "w") as handle:
    get_formatter("json").render(run, handle)
"""


def measure(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process: its own peak."""
    with tempfile.TemporaryFile() as output:
        run = run_child(command, output)
        if run.returncode not in (0, 1):
            output.seek(0)
            sys.exit(f"failed ({run.returncode}): {output.read().decode().strip()}")
    return run.wall, run.peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[5, 25, 50])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{'accounts':>8} {'users':>10} {'spilled (CLI)':>22} {'held in memory':>22}")
    with tempfile.TemporaryDirectory() as tmp:
        paths: list[str] = []
        for count in sorted(args.accounts):
            while len(paths) < count:
                path = os.path.join(tmp, f"report-{len(paths)}.csv")
                write_report(
                    path, args.rows, seed=len(paths), account=f"{100000000000 + len(paths)}"
                )
                paths.append(path)
            chosen = paths[:count]
            out = os.path.join(tmp, "out.json")
            reports = [arg for p in chosen for arg in ("--credential-report", p)]
            cli = [sys.executable, "-m", "initkeys", "audit", *reports, "--format", "json"]
            spilled = measure([*cli, "-o", out])
            held = measure([sys.executable, "-c", HELD, out, *chosen])
            print(
                f"{count:>8} {count * args.rows:>10,} "
                f"{spilled[0]:>9.1f} s {spilled[1]:>6.0f} MiB "
                f"{held[0]:>9.1f} s {held[1]:>6.0f} MiB"
            )


if __name__ == "__main__":
    main()
