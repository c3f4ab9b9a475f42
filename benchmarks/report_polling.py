"""The credential report's polling schedule, on paper: when is a report that is ready
after T seconds first seen COMPLETE, and how many GenerateCredentialReport calls does
that cost, for the schedule initkeys uses and for a proposed one.

    python benchmarks/report_polling.py [--ready 1 4 10 30] [--latency 0.060] [--no-write]

initkeys (src/initkeys/sources/aws.py, LiveAccount.credential_report) waits
``delay * (0.5 + jitter())`` between polls, ``delay`` starting at 0.1 s and doubling
up to 8 s. The proposal starts at 1 s, grows 1.5 times, caps at 4 s. Each poll also
costs one round trip (``latency``). Monte Carlo over the jitter, seeded.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

from results_file import write_section


@dataclass(frozen=True)
class Schedule:
    name: str
    first: float
    growth: float
    cap: float


CURRENT = Schedule("initkeys now: 0.1 s, x2, cap 8 s", 0.1, 2.0, 8.0)
PROPOSED = Schedule("proposed: 1 s, x1.5, cap 4 s", 1.0, 1.5, 4.0)


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
        for schedule in (CURRENT, PROPOSED):
            draws = [seen(schedule, ready, args.latency, rng) for _ in range(args.trials)]
            mean_seen = sum(d[0] for d in draws) / len(draws)
            mean_calls = sum(d[1] for d in draws) / len(draws)
            lines.append(f"| {ready:g} | {schedule.name} | {mean_seen:.2f} | {mean_calls:.1f} |")
    print("\n".join(lines))
    if not args.no_write:
        write_section("report-polling", "Credential report polling, on paper", lines)


if __name__ == "__main__":
    main()
