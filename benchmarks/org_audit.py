"""An organization audit at AWS-like latency: wall time, API calls per account,
throttles and the CLI's peak memory, for each --workers.

    python benchmarks/org_audit.py [--accounts 100 1000] [--users 20] [--workers 8 32 64]
        [--latency 0.060] [--report-delay 4] [--no-write]

Starts the emulator as its own process, creates an organization with N member
accounts (moto's AssumeRole into a member returns credentials scoped to it) and
seeds each with USERS users (10 % of them with an unused setup key), straight
to the emulator. Then, for each worker count, runs ``initkeys audit --org`` in a
child process whose endpoint is a loopback proxy (``counting_proxy.py``) that
adds LATENCY seconds (±20 %, seeded) to every call, keeps each account's
credential report in progress for REPORT_DELAY seconds after its first
GenerateCredentialReport, and throttles IAM and STS as stated in
``counting_proxy.Realism``. The CLI's own retries absorb the throttles: a run
in which any account ends in error fails the benchmark. Figures go to the
"org-audit-N" section of benchmarks/RESULTS.md (not with --no-write).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from child_process import run_child
from counting_proxy import CountingProxy, Rate, Realism
from emulator_process import Emulator, start_emulator
from results_file import RESULTS, write_section

from initkeys.app.audit import ACCOUNT_WORKERS, MAX_ACCOUNT_WORKERS
from initkeys.aws.retry import REPORT_POLLING
from initkeys.sources.accounts import TargetAccount, role_arn

ROLE = "OrganizationAccountAccessRole"
# The report polling schedule of the initkeys measured, as the table says it.
POLLING = f"{REPORT_POLLING.first:g} s, x{REPORT_POLLING.growth:g}, cap {REPORT_POLLING.cap:g} s"
# Rows written before the table had that column were measured with this schedule.
OLD_POLLING = "0.1 s, x2, cap 8 s"


def user_name(i: int) -> str:
    return f"user{i:03d}"


def has_setup_key(i: int) -> bool:
    """The scenario's truth: these users (every tenth, all with a console password) got a
    key with the user that is never used; the others have no key."""
    return i % 10 == 0


def truth(targets: list[TargetAccount], users: int) -> frozenset[tuple[str, str]]:
    """(account id, user name) of every seeded setup key: what an audit should flag."""
    names = [user_name(i) for i in range(users) if has_setup_key(i)]
    return frozenset((t.account_id, name) for t in targets for name in names)


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
            iam.create_user(UserName=user_name(i))
            iam.create_login_profile(UserName=user_name(i), Password="Correct-Horse-9!")
            if has_setup_key(i):
                iam.create_access_key(UserName=user_name(i))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fill, ids))
    emulator.set_time(datetime(2026, 11, 27, 12, tzinfo=timezone.utc))
    return [TargetAccount(i, f"team-{n:03d}") for n, i in enumerate(ids)]


@dataclass(frozen=True)
class Run:
    accounts: int
    workers: int
    wall: float  # seconds, the CLI's whole run
    peak_mib: float
    calls: int  # HTTP requests the proxy saw, throttled attempts included
    throttled: int
    audited: int  # accounts with no error (the management account included)
    failed: int  # accounts in error
    upstream_ms: float = 0.0  # the emulator's mean answer time, the proxy's delay excluded
    polling: str = POLLING
    # Throttles by the bucket that ran dry ("sts:principal": 3, ...); None: not recorded.
    throttled_by: tuple[tuple[str, int], ...] | None = ()

    def throttles(self) -> str:
        """The table's cell: how many, which buckets, and whether all were retried."""
        retried = "yes" if self.failed == 0 else "no"
        if not self.throttled_by:
            return f"{self.throttled} ({retried})"
        by = ", ".join(f"{name} {count}" for name, count in self.throttled_by)
        return f"{self.throttled}: {by} ({retried})"

    def row(self) -> str:
        upstream = "—" if self.upstream_ms != self.upstream_ms else f"{self.upstream_ms:.1f}"
        return (
            f"| {self.accounts:,} | {self.workers} | {self.polling} | {self.wall:.1f} | "
            f"{self.wall / self.accounts:.3f} | {self.calls / self.accounts:.1f} | "
            f"{self.throttles()} | {self.peak_mib:.0f} | {upstream} |"
        )


def parse_row(line: str) -> Run | None:
    """A row of an ``org-audit-N`` table back into a Run (older tables had no polling
    column, and the oldest no emulator column); None for anything else."""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    if len(cells) not in (7, 8, 9) or not cells[0].replace(",", "").isdigit():
        return None
    if len(cells) < 9:
        cells.insert(2, OLD_POLLING)
    if len(cells) < 9:
        cells.append("—")
    accounts = int(cells[0].replace(",", ""))
    count, _, rest = cells[6].partition(" ")
    throttled = int(count.rstrip(":"))
    by = buckets(rest.rsplit("(", 1)[0]) if count.endswith(":") else None
    upstream = float("nan") if cells[8] == "—" else float(cells[8])
    return Run(
        accounts,
        int(cells[1]),
        float(cells[3]),
        float(cells[7]),
        round(float(cells[5]) * accounts),
        throttled,
        accounts + 1,
        0 if cells[6].endswith("(yes)") else 1,
        upstream,
        cells[2],
        by,
    )


def buckets(text: str) -> tuple[tuple[str, int], ...]:
    """``iam:principal 10, sts:principal 2`` as ((bucket, throttles), ...)."""
    pairs = (part.split() for part in text.split(",") if part.strip())
    return tuple((name, int(count)) for name, count in pairs)


def recorded(name: str) -> list[Run]:
    """The runs already in section ``name`` of RESULTS.md (none if it is not there)."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    begin = f"<!-- {name}:begin"
    if begin not in text:
        return []
    body = text.split(begin, 1)[1].split(f"<!-- {name}:end -->", 1)[0]
    return [run for run in map(parse_row, body.splitlines()[1:]) if run is not None]


def cli_audit(url: str, workers: int, accounts: int, src: str | None = None) -> Run:
    """``initkeys audit --org`` in a child process against ``url``: wall time, peak RSS,
    and how many accounts were audited or failed (read from its JSON output). ``src``:
    another initkeys' source folder to run instead of the one this script imports."""
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    if src is not None:
        env["PYTHONPATH"] = src
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "org.json")
        argv = [sys.executable, "-m", "initkeys", "audit", "--org", "--role-name", ROLE]
        argv += ["--endpoint-url", url, "--workers", str(workers)]
        argv += ["--format", "json", "--output", out]
        with open(os.path.join(tmp, "stderr"), "wb") as log:
            run = run_child(argv, log, env=env, timeout=1800)
        if run.returncode not in (0, 1):
            tail = Path(tmp, "stderr").read_text("utf-8", "replace")[-2000:]
            sys.exit(f"the CLI's organization audit failed (exit code {run.returncode}): {tail}")
        text = Path(out).read_text(encoding="utf-8")
    # One "error" member per account: null when it was audited.
    audited = len(re.findall(r'"error": null', text))
    failed = len(re.findall(r'"error": "', text))
    return Run(accounts, workers, run.wall, run.peak_mib, 0, 0, audited, failed)


def measure(
    emulator: Emulator,
    realism: Realism,
    accounts: int,
    workers: int,
    src: str | None = None,
    polling: str = POLLING,
) -> Run:
    with CountingProxy(emulator.url, realism) as proxy:
        run = cli_audit(proxy.url, workers, accounts, src)
        calls = sum(proxy.calls.values())
        throttled = sum(proxy.throttled.values())
        upstream = 1000 * proxy.upstream_seconds / max(1, proxy.forwarded)
        by = tuple(sorted(proxy.throttled_by.items()))
    return Run(
        run.accounts,
        workers,
        run.wall,
        run.peak_mib,
        calls,
        throttled,
        run.audited,
        run.failed,
        upstream,
        polling,
        by,
    )


def scaled(realism: Realism, factor: float) -> Realism:
    def rate(r: Rate) -> Rate:
        return Rate(r.per_second * factor, max(1.0, r.burst * factor))

    return replace(
        realism,
        iam_account=rate(realism.iam_account),
        iam_principal=rate(realism.iam_principal),
        sts_account=rate(realism.sts_account),
        sts_principal=rate(realism.sts_principal),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--latency", type=float, default=0.060)
    parser.add_argument("--report-delay", type=float, default=4.0)
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply every modelled IAM/STS rate and burst (0.25: throttling bites)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only, keep RESULTS.md")
    parser.add_argument(
        "--baseline-src",
        metavar="DIR",
        help="also run, before each --workers, the initkeys whose src folder is DIR "
        "(a checkout of main, say) on the same organization",
    )
    parser.add_argument(
        "--baseline-polling",
        default=OLD_POLLING,
        help="the report polling of the --baseline-src initkeys, as its rows say it",
    )
    parser.add_argument(
        "--from-log",
        metavar="LOG",
        help="measure nothing: write RESULTS.md from what a --no-write run printed to LOG "
        "(the other options as that run had them); for runs left in the background",
    )
    parser.add_argument(
        "--log-polling",
        default=POLLING,
        help="the report polling of the initkeys that LOG measured (if LOG does not say)",
    )
    args = parser.parse_args()
    realism = scaled(Realism(latency=args.latency, report_delay=args.report_delay), args.rate_scale)
    if args.from_log:
        text = Path(args.from_log).read_text(encoding="utf-8")
        logged = from_log(text, args.accounts, args.log_polling)
        for run in logged:
            print(run.row())
        write_results(logged, args, realism)
        return
    runs: list[Run] = []
    for accounts in args.accounts:
        with start_emulator() as emulator:
            start = time.perf_counter()
            seed(emulator, accounts, args.users)
            seeded = time.perf_counter() - start
            print(f"accounts: {accounts} x {args.users} users (seeded in {seeded:.0f} s)")
            # Each --workers for the baseline (if any), then for this initkeys: the same
            # seeded organization and the same moment's load for both.
            sources = [args.baseline_src, None] if args.baseline_src else [None]
            for workers, src in [(w, src) for w in args.workers for src in sources]:
                polling = args.baseline_polling if src else POLLING
                # A fresh proxy per run: every account's report starts in progress again.
                run = measure(emulator, realism, accounts, workers, src, polling)
                runs.append(run)
                print(
                    f"  --workers {workers}: report polling {run.polling}; "
                    f"{run.wall:.1f} s; {run.calls} calls "
                    f"({run.calls / accounts:.1f} per account); throttled {run.throttles()} "
                    f"(all retried: {run.failed == 0}); accounts audited {run.audited}, "
                    f"in error {run.failed}; CLI peak RSS {run.peak_mib:.0f} MiB; "
                    f"emulator answers in {run.upstream_ms:.1f} ms on average",
                    flush=True,
                )
                if run.failed:
                    sys.exit(f"{run.failed} account(s) could not be audited")
    if not args.no_write:
        write_results(runs, args, realism)


_LOGGED = re.compile(
    r"--workers (?P<workers>\d+): (?:report polling (?P<polling>[^;]+); )?"
    r"(?P<wall>[\d.]+) s; (?P<calls>\d+) calls .*?throttled (?P<throttled>\d+)"
    r"(?:: (?P<by>[^(]+))? .*?accounts audited (?P<audited>\d+), in error (?P<failed>\d+); "
    r"CLI peak RSS (?P<peak>[\d.]+) MiB; emulator answers in (?P<upstream>[\d.]+) ms"
)


def from_log(text: str, accounts: list[int], polling: str) -> list[Run]:
    """The runs a --no-write run printed: under each "accounts: N" line, one line per
    --workers (older runs printed no polling schedule: ``polling`` says it)."""
    runs: list[Run] = []
    size = accounts[0]
    for line in text.splitlines():
        if line.startswith("accounts: "):
            size = int(line.split()[1])
            continue
        found = _LOGGED.search(line)
        if found is None or size not in accounts:
            continue
        by = buckets(found["by"] or "")
        runs.append(
            Run(
                size,
                int(found["workers"]),
                float(found["wall"]),
                float(found["peak"]),
                int(found["calls"]),
                int(found["throttled"]),
                int(found["audited"]),
                int(found["failed"]),
                float(found["upstream"]),
                found["polling"] or polling,
                by,
            )
        )
    return runs


def write_results(runs: list[Run], args: argparse.Namespace, realism: Realism) -> None:
    """One section per organization size, so a run at one size keeps the others'; within
    a section, rows of earlier runs stay unless this run measured the same --workers with
    the same polling schedule (each row says which initkeys it measured)."""
    strict = "" if args.rate_scale == 1 else f"-rates-x{args.rate_scale:g}"
    for accounts in args.accounts:
        name = f"org-audit-{accounts}{strict}"
        fresh = [run for run in runs if run.accounts == accounts]
        measured = {(run.workers, run.polling) for run in fresh}
        kept = [run for run in recorded(name) if (run.workers, run.polling) not in measured]
        write_section(
            name,
            f"Organization audit at AWS-like latency: {accounts:,} accounts"
            + (f", IAM/STS rates x{args.rate_scale:g}" if strict else ""),
            # By --workers, the initkeys before issue 13's defaults first.
            result_lines(
                sorted(kept + fresh, key=lambda run: (run.workers, run.polling == POLLING)),
                args,
                realism,
                accounts,
            ),
            script="org_audit",
        )
    if strict:
        return  # the model rests on the stated rates
    text = RESULTS.read_text()
    every = [
        run for name in re.findall(r"<!-- (org-audit-\d+):begin", text) for run in recorded(name)
    ]
    write_section(
        "org-model",
        "An organization of 10,000 accounts, on paper",
        model_lines(every, realism),
        script="org_audit",
    )


def model_lines(runs: list[Run], realism: Realism, target: int = 10_000) -> list[str]:
    """A paper model of an organization of ``target`` accounts, from the largest measured
    organization's runs with today's polling: calls, time, memory, and what limits it."""
    largest = max(run.accounts for run in runs)
    sized = [run for run in runs if run.accounts == largest]
    current = [run for run in sized if run.polling == POLLING] or sized

    def cost(run: Run) -> float:
        # Account-seconds: how long one worker spends on one account, report wait included.
        return run.wall * run.workers / run.accounts

    # The least contended run's cost: more workers only slowed the emulator on these two
    # cores (its answer time grew), and AWS does not slow down so.
    base = min(current, key=cost)
    per_account = cost(base)
    calls = base.calls / base.accounts
    biggest = max(current, key=lambda run: run.workers)
    assume_floor = target / realism.sts_principal.per_second

    def at(workers: int) -> float:
        # Never under the floor STS sets: one principal assumes every role.
        return max(target * per_account / workers, assume_floor)

    def measured(workers: int) -> str:
        walls = [run.wall for run in current if run.workers == workers]
        return f"; measured at {largest:,} accounts: {min(walls):.0f} s" if walls else ""

    upstream = "?" if base.upstream_ms != base.upstream_ms else f"{base.upstream_ms:.0f}"
    lines = [
        f"From the {largest:,}-account runs (report polling {base.polling}): "
        f"{per_account:.1f} s of one worker per account at `--workers {base.workers}`, the "
        f"least contended run (the emulator answered in {upstream} ms on average on top of "
        f"the modelled {realism.latency * 1000:.0f} ms; with more workers it slowed down on "
        "this machine's 2 cores, shared with the CLI, the proxy and other agents' work, "
        "as AWS does not); mostly the credential report's wait (COMPLETE after "
        f"{realism.report_delay:g} s, seen at the next poll). {calls:.1f} calls per account; "
        f"CLI peak RSS {biggest.peak_mib:.0f} MiB at `--workers {biggest.workers}`.",
        "",
        f"| {target:,} accounts | figure |",
        "|---|---:|",
        f"| API calls | {target * calls:,.0f} |",
        f"| AssumeRole calls, all by the one management principal | {target:,} |",
        f"| time at `--workers {ACCOUNT_WORKERS}` (the default{measured(ACCOUNT_WORKERS)}) | "
        f"{at(ACCOUNT_WORKERS):,.0f} s ({at(ACCOUNT_WORKERS) / 60:.0f} min) |",
        f"| time at `--workers {MAX_ACCOUNT_WORKERS}` (the CLI's maximum"
        f"{measured(MAX_ACCOUNT_WORKERS)}) | "
        f"{at(MAX_ACCOUNT_WORKERS):,.0f} s ({at(MAX_ACCOUNT_WORKERS) / 60:.0f} min) |",
        f"| time at 256 workers (2 processes, accounts split) | {at(256):,.0f} s |",
        f"| floor set by STS: {target:,} AssumeRole at {realism.sts_principal.per_second:g}/s "
        f"per principal (modelled) | {assume_floor:,.0f} s |",
        f"| AssumeRole a second at `--workers {ACCOUNT_WORKERS}` / {MAX_ACCOUNT_WORKERS} "
        f"(limit modelled: {realism.sts_principal.per_second:g}) | "
        f"{target / at(ACCOUNT_WORKERS):.1f} / {target / at(MAX_ACCOUNT_WORKERS):.1f} |",
        f"| IAM calls per member account per second (limit modelled: "
        f"{realism.iam_account.per_second:g}) | {calls / per_account:.1f} |",
        f"| CLI memory | about {biggest.peak_mib:.0f} MiB at `--workers {biggest.workers}`: "
        "findings spill to disk per account, so memory grows with workers, not with the "
        "number of accounts (see `many_accounts_memory.py`) |",
        "",
        "What limits it is AWS, not this machine: each account costs a few seconds of "
        "waiting (network and report) and almost no CPU, so time falls with workers until "
        "the one principal that assumes every role meets STS's rate (AWS publishes none; "
        f"{realism.sts_principal.per_second:g}/s modelled) or Organizations' ListAccounts "
        "paging; each member account sees only a few IAM calls a second, far below any "
        "throttling. Past that, split the organization between principals (or regions' "
        "STS endpoints) rather than adding workers.",
    ]
    return lines


def bitten_first(runs: list[Run]) -> str:
    """Which token bucket ran dry most in each throttled run, and whether any account
    ended in error."""
    parts = []
    for run in runs:
        name, count = max(run.throttled_by or (), key=lambda bucket: bucket[1])
        parts.append(
            f"at `--workers {run.workers}`, {name} ({count} of {run.throttled} throttled "
            f"calls; accounts in error: {run.failed})"
        )
    return (
        "Which bucket ran dry most (one call can empty two): "
        + "; ".join(parts)
        + ". The CLI retries a throttled call with backoff, up to 6 times as often as "
        "another failure."
    )


def result_lines(
    runs: list[Run], args: argparse.Namespace, realism: Realism, accounts: int
) -> list[str]:
    workers = sorted({run.workers for run in runs})
    scale = "" if args.rate_scale == 1 else f" --rate-scale {args.rate_scale:g}"
    lines = [
        f"`python benchmarks/org_audit.py --accounts {accounts}{scale} --users {args.users} "
        f"--workers {' '.join(map(str, workers))} --latency {args.latency} "
        f"--report-delay {args.report_delay}` ({os.cpu_count()} cores; emulator, proxy and "
        "CLI on the same machine, shared with other agents' work: each row is one run, the "
        "rows of one table may come from different runs; a row whose report polling is "
        f"{OLD_POLLING} measured the initkeys before issue 13's defaults).",
        "",
        f"Proxy: {realism.latency * 1000:.0f} ms a call (±{realism.jitter:.0%}, seed "
        f"{realism.seed}); credential report COMPLETE {realism.report_delay:g} s after an "
        f"account's first GenerateCredentialReport; throttling (token buckets, per second / "
        f"burst): IAM {realism.iam_account.per_second:g}/{realism.iam_account.burst:g} per "
        f"account and {realism.iam_principal.per_second:g}/{realism.iam_principal.burst:g} "
        f"per principal, STS {realism.sts_account.per_second:g}/{realism.sts_account.burst:g} "
        f"per account and {realism.sts_principal.per_second:g}/"
        f"{realism.sts_principal.burst:g} per principal (AWS publishes no numbers; see "
        "`counting_proxy.Realism`).",
        "",
        "| accounts | --workers | report polling | wall (s) | s per account | calls per "
        "account | throttled: by bucket (all retried) | CLI peak RSS (MiB) | emulator's "
        "mean answer (ms) |",
        "|---:|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    lines += [run.row() for run in runs]
    bitten = [run for run in runs if run.throttled_by]
    if bitten:
        lines += ["", bitten_first(bitten)]
    return lines


if __name__ == "__main__":
    main()
