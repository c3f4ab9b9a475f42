"""API calls and wall time of a live audit of an emulated account.

    python benchmarks/live_audit.py [--users 200 5000] [--workers 8]

Starts the emulator (`python -m initkeys.demo.emulator`) as its own process,
seeds N users with a realistic mix, then runs `initkeys.audit_account` against
it and prints the wall time and the API calls it made, by operation.

The mix: 30 % console users whose setup key was used (PASS), 10 % console users
with an unused setup key (FAIL), 5 % with an unused key made a year later
(WARNING), 15 % with a later key that was used (PASS), 20 % console users
without keys (PASS), 20 % programmatic users with a key (NOT_APPLICABLE).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from emulator_process import Emulator, start_emulator

import initkeys
from initkeys.aws import ApiCallCounter

KINDS = (
    ("setup-used", 30),
    ("setup-unused", 10),
    ("later-unused", 5),
    ("later-used", 15),
    ("no-keys", 20),
    ("programmatic", 20),
)
BATCH = 50


def kind_of(i: int) -> str:
    slot = i % 100
    for kind, share in KINDS:
        if slot < share:
            return kind
        slot -= share
    raise AssertionError


def user_name(i: int) -> str:
    """The name of the i-th seeded user; its kind is ``kind_of(i)``."""
    return f"user{i:05d}"


def seed(emulator: Emulator, users: int) -> dict[str, int]:
    """Create the users in batches that share a moment (the clock is global)."""
    url = emulator.url
    iam = boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="seed",
        aws_secret_access_key="seed",
    )
    expected = {kind: 0 for kind, _ in KINDS}
    base = datetime(2019, 1, 7, 9, 0, tzinfo=timezone.utc)
    with ThreadPoolExecutor(8) as pool:
        for start in range(0, users, BATCH):
            batch = [(i, kind_of(i)) for i in range(start, min(users, start + BATCH))]
            for _, kind in batch:
                expected[kind] += 1
            t = base + timedelta(hours=start)
            emulator.set_time(t)

            def create(item: tuple[int, str]) -> None:
                i, kind = item
                iam.create_user(UserName=user_name(i), Path="/staff/")
                if kind != "programmatic":
                    iam.create_login_profile(UserName=user_name(i), Password="Pw-123456789!")

            list(pool.map(create, batch))
            keys: dict[int, Any] = {}
            # Setup keys 20 s after their users; the later ones 400 days after.
            for offset, kinds in (
                (timedelta(seconds=20), {"setup-used", "setup-unused", "programmatic"}),
                (timedelta(days=400), {"later-unused", "later-used"}),
            ):
                emulator.set_time(t + offset)
                ids = [i for i, k in batch if k in kinds]
                made = pool.map(
                    lambda i: iam.create_access_key(UserName=user_name(i))["AccessKey"], ids
                )
                keys.update(zip(ids, made, strict=True))
            emulator.set_time(t + timedelta(days=500))
            used = [keys[i] for i, k in batch if k in {"setup-used", "later-used"}]

            def use(meta: Any) -> None:
                boto3.client(
                    "sts",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id=meta["AccessKeyId"],
                    aws_secret_access_key=meta["SecretAccessKey"],
                ).get_caller_identity()

            list(pool.map(use, used))
    emulator.set_time(datetime(2026, 11, 27, 12, tzinfo=timezone.utc))
    return expected


def measure(users: int, workers: int) -> None:
    with start_emulator() as emulator:
        seed_start = time.perf_counter()
        expected = seed(emulator, users)
        seeded = time.perf_counter() - seed_start
        session = boto3.Session(
            aws_access_key_id="audit", aws_secret_access_key="audit", region_name="us-east-1"
        )
        counter = ApiCallCounter()
        start = time.perf_counter()
        cpu_start = time.process_time()
        aws = initkeys.AwsContext(session, endpoint_url=emulator.url, counter=counter)
        result = initkeys.audit_account(aws, max_workers=workers)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    counts = result.counts()
    not_pass = expected["setup-unused"] + expected["later-unused"]
    print(f"users: {users:,} (seeded in {seeded:.0f} s), workers: {workers}")
    print(
        f"  wall time: {elapsed:.2f} s (initkeys CPU time: {cpu:.2f} s; the rest is the emulator)"
    )
    print(
        f"  API calls: {counter.total} ({counter.attempts} HTTP attempts); "
        f"users re-read live: {not_pass}"
    )
    print("  by operation: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.calls.items())))
    print("  findings: " + ", ".join(f"{s.value} {n}" for s, n in counts.items()))
    want_fail, want_warn = expected["setup-unused"], expected["later-unused"]
    got_fail, got_warn = counts[initkeys.Status.FAIL], counts[initkeys.Status.WARNING]
    if (got_fail, got_warn) != (want_fail, want_warn):
        sys.exit(f"  WRONG: expected {want_fail} FAIL and {want_warn} WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="+", default=[200, 5000])
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    for users in args.users:
        measure(users, args.workers)


if __name__ == "__main__":
    main()
