"""Time and peak memory to judge a large credential report offline.

    python benchmarks/offline_report.py [--rows 1000000] [--format json]

Writes a synthetic report (a realistic mix of console users, programmatic
users, setup keys, later keys, used and unused keys) to a temporary file, then
runs `initkeys audit --credential-report FILE` as a child process and prints
its wall time and peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone

from child_process import run_child

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
)
FMT = "%Y-%m-%dT%H:%M:%S+00:00"


def write_report(path: str, rows: int, seed: int = 11, account: str = "123456789012") -> None:
    rng = random.Random(seed)
    base = datetime(2016, 1, 1, tzinfo=timezone.utc)
    with open(path, "w") as out:
        out.write(HEADER)
        out.write(
            f"<root_account>,arn:aws:iam::{account}:root,2016-01-01T00:00:00+00:00,"
            "not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,"
            "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        )
        for i in range(rows - 1):
            created = base + timedelta(seconds=rng.randrange(300_000_000))
            console = rng.random() < 0.7
            keys = []
            for _ in range(rng.choice((0, 1, 1, 2))):
                gap = timedelta(seconds=rng.choice((5, 30, 90, 86_400 * rng.randrange(1, 900))))
                used = rng.random() < 0.5
                keys.append(
                    (
                        "true" if rng.random() < 0.8 else "false",
                        (created + gap).strftime(FMT),
                        (created + gap + timedelta(days=3)).strftime(FMT) if used else "N/A",
                        "us-east-1" if used else "N/A",
                        "s3" if used else "N/A",
                    )
                )
            while len(keys) < 2:
                keys.append(("false", "N/A", "N/A", "N/A", "N/A"))
            c = created.strftime(FMT)
            out.write(
                f"user{i:07d},arn:aws:iam::{account}:user/staff/user{i:07d},{c},"
                f"{'true' if console else 'false'},N/A,{c if console else 'N/A'},N/A,false,"
                + ",".join(",".join(k) for k in keys)
                + ",false,N/A,false,N/A\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", default="json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.csv")
        write_report(report, args.rows)
        size = os.path.getsize(report)
        out = os.path.join(tmp, f"out.{args.format}")
        command = [
            sys.executable,
            "-m",
            "initkeys",
            "audit",
            "--credential-report",
            report,
            "--format",
            args.format,
            "--output",
            out,
        ]
        with tempfile.TemporaryFile() as output:
            run = run_child(command, output)
            if run.returncode not in (0, 1):
                output.seek(0)
                sys.exit(f"initkeys failed ({run.returncode}): {output.read().decode().strip()}")
        print(f"rows: {args.rows:,} ({size / 1e6:.0f} MB CSV), format: {args.format}")
        print(f"wall time: {run.wall:.2f} s")
        print(f"peak memory (max RSS of the child): {run.peak_mib:.0f} MiB")
        print(f"output: {os.path.getsize(out) / 1e6:.0f} MB, exit code {run.returncode}")


if __name__ == "__main__":
    main()
