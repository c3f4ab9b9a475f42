"""The credential report's polling schedule, on paper: when is a report that is ready
after T seconds first seen COMPLETE, and how many GenerateCredentialReport calls does
that cost, for the schedule initkeys uses and for the one it used before.

    python benchmarks/report_polling.py [--ready 1 4 10 30] [--latency 0.060] [--no-write]

initkeys (src/initkeys/sources/aws.py, LiveAccount.credential_report) waits
``delay * (0.5 + jitter())`` between polls, ``delay`` following its retry policy's
``polling`` schedule (initkeys.aws.retry.REPORT_POLLING): since issue 13, 1 s, growing
1.5 times, at most 4 s; before, 0.1 s, doubling, at most 8 s. Each poll also costs one
round trip (``latency``). Monte Carlo over the jitter, seeded.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

from results_file import write_section

from initkeys.aws.retry import REPORT_POLLING


@dataclass(frozen=True)
class Schedule:
    name: str
    first: float
    growth: float
    cap: float


BEFORE = Schedule("before issue 13: 0.1 s, x2, cap 8 s", 0.1, 2.0, 8.0)
CURRENT = Schedule(
    f"initkeys now: {REPORT_POLLING.first:g} s, x{REPORT_POLLING.growth:g}, "
    f"cap {REPORT_POLLING.cap:g} s",
    REPORT_POLLING.first,
    REPORT_POLLING.growth,
    REPORT_POLLING.cap,
)


def seen(schedule: Schedule, ready: float, latency: float, rng: random.Random) -> tuple[float, int]:
    """(seconds until COMPLETE is seen, GenerateCredentialReport calls)."""
    now, calls, delay = 0.0, 0, schedule.first
    while True:
        now += latency
        calls += 1
        if now >= ready:
            return now, calls
        now += delay * (0.5 + rng.random())
        delay = min(delay * schedule.growth, schedule.cap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready", type=float, nargs="+", default=[1.0, 4.0, 10.0, 30.0])
    parser.add_argument("--latency", type=float, default=0.060)
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rng = random.Random(13)
    lines = [
        f"`python benchmarks/report_polling.py --ready {' '.join(f'{r:g}' for r in args.ready)}"
        f" --latency {args.latency:g}` (a model: {args.trials:,} draws of the jitter each).",
        "",
        "| report ready after (s) | schedule | seen COMPLETE after (s, mean) | "
        "GenerateCredentialReport calls (mean) |",
        "|---:|---|---:|---:|",
    ]
    for ready in args.ready:
        for schedule in (BEFORE, CURRENT):
            draws = [seen(schedule, ready, args.latency, rng) for _ in range(args.trials)]
            mean_seen = sum(d[0] for d in draws) / len(draws)
            mean_calls = sum(d[1] for d in draws) / len(draws)
            lines.append(f"| {ready:g} | {schedule.name} | {mean_seen:.2f} | {mean_calls:.1f} |")
    print("\n".join(lines))
    if not args.no_write:
        write_section("report-polling", "Credential report polling, on paper", lines)


if __name__ == "__main__":
    main()
