"""An organization audit on the emulator: wall time, API calls per account, memory,
and the speed-up of --workers 8 over --workers 1.

    python benchmarks/org_audit.py [--accounts 10 100] [--users 20]

Starts the emulator as its own process, creates an organization with N member
accounts (moto's AssumeRole into a member returns credentials scoped to it),
seeds each with USERS users (10 % of them with an unused setup key), then
audits the organization in-process (for API calls) and once more through the
CLI in a child process (for its peak memory).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import boto3
from child_process import run_child
from emulator_process import Emulator, start_emulator

import initkeys
from initkeys.aws import ApiCallCounter
from initkeys.sources.accounts import AccountSelection, TargetAccount, role_arn

ROLE = "OrganizationAccountAccessRole"


def session(**creds: str) -> Any:
    return boto3.Session(
        aws_access_key_id=creds.get("key", "testing"),
        aws_secret_access_key=creds.get("secret", "testing"),
        aws_session_token=creds.get("token"),
        region_name="us-east-1",
    )


def seed(emulator: Emulator, accounts: int, users: int) -> list[TargetAccount]:
    url = emulator.url
    org = session().client("organizations", endpoint_url=url)
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"team-{n:03d}", Email=f"team{n}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for n in range(accounts)
    ]
    emulator.set_time(datetime(2023, 3, 1, 9, tzinfo=timezone.utc))
    sts = session().client("sts", endpoint_url=url)

    def fill(account_id: str) -> None:
        c = sts.assume_role(RoleArn=role_arn(account_id, "aws", ROLE), RoleSessionName="seed")[
            "Credentials"
        ]
        iam = session(
            key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"]
        ).client("iam", endpoint_url=url)
        for i in range(users):
            iam.create_user(UserName=f"user{i:03d}")
            iam.create_login_profile(UserName=f"user{i:03d}", Password="Correct-Horse-9!")
            if i % 10 == 0:
                iam.create_access_key(UserName=f"user{i:03d}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fill, ids))
    emulator.set_time(datetime(2026, 11, 27, 12, tzinfo=timezone.utc))
    return [TargetAccount(i, f"team-{n:03d}") for n, i in enumerate(ids)]


def audit(
    url: str, targets: list[TargetAccount], workers: int
) -> tuple[float, ApiCallCounter, int]:
    counter = ApiCallCounter()
    start = time.perf_counter()
    results = list(
        initkeys.audit_accounts(
            initkeys.AwsContext(session(), endpoint_url=url, counter=counter),
            targets,
            AccountSelection(role_name=ROLE),
            workers=workers,
        )
    )
    elapsed = time.perf_counter() - start
    errors = sum(r.error is not None for r in results)
    if errors:
        sys.exit(f"{errors} account(s) could not be audited")
    fails = sum(f.status is initkeys.Status.FAIL for r in results for f in r.findings)
    return elapsed, counter, fails


def cli_peak_memory(url: str) -> float:
    """The CLI's own peak RSS in MiB, auditing the organization in a child process."""
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    argv = [sys.executable, "-m", "initkeys", "audit", "--org", "--role-name", ROLE]
    argv += ["--endpoint-url", url, "--format", "json", "--output", os.devnull]
    run = run_child(argv, env=env)
    if run.returncode not in (0, 1):
        sys.exit(f"the CLI's organization audit failed (exit code {run.returncode})")
    return run.peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    for accounts in args.accounts:
        with start_emulator() as emulator:
            url = emulator.url
            start = time.perf_counter()
            targets = seed(emulator, accounts, args.users)
            seeded = time.perf_counter() - start
            audit(url, targets[:1], 1)  # warm-up: botocore loads its service models once
            fast, counter, fails = audit(url, targets, 8)
            slow, _, _ = audit(url, targets, 1)
            peak = cli_peak_memory(url)
        per_account = counter.total / accounts
        print(f"accounts: {accounts} x {args.users} users (seeded in {seeded:.0f} s)")
        print(
            f"  --workers 8: {fast:.1f} s; --workers 1: {slow:.1f} s; speed-up {slow / fast:.1f}x"
        )
        print(f"  API calls: {counter.total} ({per_account:.1f} per account); FAIL keys: {fails}")
        print(f"  CLI peak memory (max RSS of the child): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
