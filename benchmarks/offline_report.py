"""Time and peak memory to judge a large credential report offline.

    python benchmarks/offline_report.py [--rows 1000000] [--format json]
    python benchmarks/offline_report.py --rows 200000,1000000 --format text,json \
        --results "after (branch)"

Writes a synthetic report (a realistic mix of console users, programmatic
users, setup keys, later keys, used and unused keys) to a temporary file, then
runs `initkeys audit --credential-report FILE` as a child process and prints
its wall time and peak resident memory. With ``--results LABEL``, each run is a
row of the ``offline-report`` table in benchmarks/RESULTS.md under that label,
replacing only that label's run of the same size and format (so "before" and
"after" runs can be interleaved). ``INITKEYS_SRC``
runs another checkout's ``src`` (e.g. main's, for the "before" rows).
``--profile`` runs the audit under cProfile instead and writes its top lines
(by own time) to the ``offline-profile`` section, also under the label.
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from child_process import run_child
from results_file import RESULTS, write_section

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


@dataclass(frozen=True)
class Measured:
    rows: int
    output_format: str
    csv_mb: float
    wall: float
    peak_mib: float
    output_mb: float
    code: int | None
    cpu: float = 0.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if os.environ.get("INITKEYS_SRC"):
        env["PYTHONPATH"] = os.environ["INITKEYS_SRC"]
    return env


def _audit(report: str, output_format: str, out: str) -> list[str]:
    return ["audit", "--credential-report", report, "--format", output_format, "--output", out]


def profile(rows: int, output_format: str, top: int = 12) -> list[str]:
    """The audit's cProfile, its ``top`` functions by own time, as table rows."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.csv")
        write_report(report, rows)
        stats_file = os.path.join(tmp, "stats")
        out = os.path.join(tmp, "out")
        command = [sys.executable, "-m", "cProfile", "-o", stats_file, "-m", "initkeys"]
        with tempfile.TemporaryFile() as output:
            run = run_child(command + _audit(report, output_format, out), output, env=_env())
            if run.returncode not in (0, 1):
                output.seek(0)
                sys.exit(f"initkeys failed ({run.returncode}): {output.read().decode().strip()}")
        stats = pstats.Stats(stats_file, stream=io.StringIO())
        total = stats.total_tt  # type: ignore[attr-defined]
        entries = sorted(
            stats.stats.items(),  # type: ignore[attr-defined]
            key=lambda item: item[1][2],
            reverse=True,
        )[:top]
        lines = []
        for (filename, line, function), (_, calls, own, cumulative, _) in entries:
            where = filename.split("/src/")[-1] if "/src/" in filename else filename
            where = where.rsplit("/", 1)[-1] if where.startswith("/") else where
            name = function if filename == "~" else f"{where}:{line}({function})"  # a builtin
            lines.append(
                f"| {output_format} | {own:.2f} s ({own / total:.0%}) | {cumulative:.2f} s | "
                f"{calls:,} | `{name}` |"
            )
        whole = f"| {output_format} | {total:.2f} s (100%) | | | whole run (under cProfile) |"
        return [whole, *lines]


def measure(rows: int, output_format: str) -> Measured:
    """One child run of ``initkeys audit`` on a report of ``rows`` rows."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.csv")
        write_report(report, rows)
        out = os.path.join(tmp, f"out.{output_format}")
        command = [sys.executable, "-m", "initkeys", *_audit(report, output_format, out)]
        with tempfile.TemporaryFile() as output:
            run = run_child(command, output, env=_env())
            if run.returncode not in (0, 1):
                output.seek(0)
                sys.exit(f"initkeys failed ({run.returncode}): {output.read().decode().strip()}")
        return Measured(
            rows,
            output_format,
            os.path.getsize(report) / 1e6,
            run.wall,
            # Summed over initkeys and the child it forks for a big report (initkeys.split_report).
            max(run.peak_mib, run.peak_sum_mib),
            os.path.getsize(out) / 1e6,
            run.returncode,
            run.cpu,
        )


TABLE_HEAD = [
    "| run | rows | format | wall time | µs a row | peak RSS | output | CPU time |",
    "|---|---:|---|---:|---:|---:|---:|---:|",
]


def kept_rows(name: str, head: list[str], replaced: tuple[str, ...]) -> list[str]:
    """The table rows of section ``name`` except those starting with one of ``replaced``."""
    begin = f"<!-- {name}:begin"
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if begin not in text:
        return []
    section = text.split(begin, 1)[1].split(f"<!-- {name}:end", 1)[0]
    return [
        line
        for line in section.splitlines()
        if line.startswith("| ") and line not in head and not line.startswith(replaced)
    ]


def record(label: str, runs: list[Measured]) -> None:
    """The runs as rows of the offline-report table; other runs' rows stay."""
    rows = [
        f"| {label} | {m.rows:,} | {m.output_format} | {m.wall:.2f} s | "
        f"{m.wall / m.rows * 1e6:.0f} | {m.peak_mib:.0f} MiB | {m.output_mb:.0f} MB | "
        f"{m.cpu:.2f} s |"
        for m in runs
    ]
    lines = [
        "`python benchmarks/offline_report.py --rows 200000,1000000 --format "
        "text,json,csv,sarif,junit --results LABEL` (2-core machine shared with other jobs: "
        "expect ±15 %, far more when they are busy). The aim is 1,000,000 rows in under 10 s "
        "and under 1 GB. Peak RSS is summed over initkeys' processes (it forks one child "
        "for a big report), CPU time is both processes'.",
        "",
        *TABLE_HEAD,
        # A run replaces only the same label's run of the same size and format.
        *kept_rows(
            "offline-report",
            TABLE_HEAD,
            # (and an earlier head, of fewer columns)
            ("| run |", *(f"| {label} | {m.rows:,} | {m.output_format} |" for m in runs)),
        ),
        *rows,
    ]
    write_section("offline-report", "Offline: a large credential report", lines)


PROFILE_HEAD = [
    "| run | format | own time | cumulative | calls | function |",
    "|---|---|---:|---:|---:|---|",
]


def record_profile(label: str, rows: int, lines: list[str]) -> None:
    """Profile rows (each ``| format | …``) under ``label``; other labels' rows stay."""
    mine = [f"| {label} " + line for line in lines]
    text = [
        f"`python benchmarks/offline_report.py --rows {rows} --format text,json --profile "
        "--results LABEL`: the audit run under cProfile (which slows it about 2×), the "
        "functions that take the most time of their own.",
        "",
        *PROFILE_HEAD,
        *kept_rows("offline-profile", PROFILE_HEAD, (f"| {label} |",)),
        *mine,
    ]
    write_section("offline-profile", "Offline: where the time goes", text, "offline_report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="1000000", help="a number, or several: 200000,1000000")
    parser.add_argument("--format", default="json", help="a format, or several: text,json")
    parser.add_argument("--results", metavar="LABEL", help="write the runs to RESULTS.md")
    parser.add_argument("--profile", action="store_true", help="cProfile's top lines instead")
    args = parser.parse_args()
    if args.profile:
        rows = int(args.rows.split(",")[0])
        lines = [line for f in args.format.split(",") for line in profile(rows, f)]
        print("\n".join(lines))
        if args.results:
            record_profile(args.results, rows, lines)
        return
    runs = []
    for rows in (int(r) for r in args.rows.split(",")):
        for output_format in args.format.split(","):
            m = measure(rows, output_format)
            runs.append(m)
            print(f"rows: {m.rows:,} ({m.csv_mb:.0f} MB CSV), format: {m.output_format}")
            print(f"wall time: {m.wall:.2f} s (CPU {m.cpu:.2f} s)")
            print(f"peak memory (RSS summed over initkeys' processes): {m.peak_mib:.0f} MiB")
            print(f"output: {m.output_mb:.0f} MB, exit code {m.code}", flush=True)
    if args.results:
        record(args.results, runs)


if __name__ == "__main__":
    main()
