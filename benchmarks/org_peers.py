"""initkeys --org and Cloud Custodian's c7n-org side by side on one emulated organization.

    python benchmarks/org_peers.py [--accounts 100] [--users 20] [--workers 8]
        [--latency 0.060] [--report-delay 4] [--peers-dir .venv-peers] [--no-write]

`make bench-peers` installs c7n and c7n-org into `.venv-peers/custodian` and runs
this. For each run, in turn: start a fresh emulator and build the organization of
``org_audit.seed`` (N member accounts of USERS console users, every tenth with a
setup key never used; no credential report yet), put the latency proxy of
``org_audit.py`` in front of it (``counting_proxy.Realism``: 60 ms a call ±20 %,
the credential report in progress for 4 s, IAM/STS throttling), then run

- ``initkeys audit --org --workers W`` (it lists the accounts, assumes the role in
  each with STS);
- ``c7n-org run -c accounts.yml -u custodian-1.11.yml -s OUT -r us-east-1`` with the
  credential-report policy of ``peers.py``; ``accounts.yml`` lists each member
  account's role ARN, as ``c7n-org aws-accounts`` writes it, and c7n-org assumes
  each role itself. Its worker count is ``C7N_ORG_PARALLEL`` (processes; default 4
  per core): once at its default, once at each ``--workers``.

Both reach AWS only through the proxy (``AWS_ENDPOINT_URL``, which boto3 honours for
every client, STS included; ``HTTPS_PROXY`` catches the rest). Each tool's findings,
(account, user), are scored against ``org_audit.truth``. Prints a table and rewrites
the ``org-peers`` section of benchmarks/RESULTS.md (not with --no-write).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from counting_proxy import CountingProxy, Realism
from emulator_process import start_emulator
from org_audit import ROLE, seed, truth
from peers import child_env, installed, last_lines, venv_version
from results_file import write_section

from initkeys.sources.accounts import TargetAccount, role_arn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = HERE / "peers" / "custodian-1.11.yml"
POLICY_NAME = "cis-1-11-no-setup-access-keys"
REGION = "us-east-1"
# c7n-org's own default: ProcessPoolExecutor(4 x cores) unless C7N_ORG_PARALLEL says.
C7N_DEFAULT_WORKERS = 4 * (os.cpu_count() or 1)
# c7n-org's log lines that say an account's policy did not run, and where they name it:
# "Exception running policy:P account:NAME region:R", "Error running policy in NAME @ R",
# "unable to obtain credentials for account:NAME role:...", "Access denied ... account:NAME".
C7N_PROBLEM = re.compile(r":(?:ERROR|WARNING) ")
# "Ran account:NAME region:R policy:P matched:N time:T": T seconds since that account's
# run began (assuming the role, listing, the report's wait, filtering).
C7N_RAN = re.compile(r"Ran account:\S+ region:\S+ policy:\S+ .*?time:(\d+(?:\.\d+)?)")
C7N_ACCOUNT = re.compile(r"account:([^\s,]+)|running policy in (\S+) @")

Finding = tuple[str, str]  # (account id, user name)

# What the figures do not say by themselves, from c7n 0.9.53's and c7n-org 0.6.52's code
# (c7n/resources/iam.py, c7n_org/cli.py) and from runs of this script.
NOTES = [
    "How each tool met the proxy's credential report (in progress for the first 4 s): "
    "initkeys polls GenerateCredentialReport until COMPLETE, then reads the report once. "
    "c7n waits a fixed time instead (`CredentialReport.fetch_credential_report`): "
    "GetCredentialReport (ReportNotPresent on a fresh account), GenerateCredentialReport, "
    "sleep `report_delay` (a filter option, 10 s by default), one more GetCredentialReport. "
    "With a 4 s report that Get always finds it ready, so c7n neither failed nor retried "
    "here, but every account costs one of its workers at least 10 s however fast the report "
    "is. A report slower than `report_delay` would answer that second Get with "
    "ReportInProgress, which c7n does not retry after generating: the policy fails for that "
    "account (c7n-org logs `Exception running policy`, exits 1) and its users go unreported. "
    "Seen once by hand (3 accounts; a stub in front of the proxy answered GetCredentialReport "
    "with AWS's ReportInProgress, HTTP 404, until 12 s after GenerateCredentialReport): every "
    "account failed with `An error occurred (ReportInProgress) when calling the "
    "GetCredentialReport operation: Report generation in progress`, exit code 1, no user "
    "flagged. This script cannot show that case: the proxy delays only "
    "GenerateCredentialReport and lets GetCredentialReport through to the emulator, which "
    "has the report at once, so with `--report-delay` over 10 its c7n-org figures are too kind.",
    "",
    "c7n's `iam-user` resource lists the users, then calls GetUser once per user, one after "
    "another (its `DescribeUser.augment`), before any filter: its calls grow with the users "
    "of every account, whether they have keys or not.",
    "",
    "`-r us-east-1`: without it, c7n-org runs each account in its default regions, "
    "us-east-1 and us-west-2, and the global `iam-user` policy in both: on 2 accounts "
    "that was twice the calls (AssumeRole, ListUsers, every GetUser, the report) and each "
    "user flagged twice, once per region.",
    "",
    "The emulator's clock: `org_audit.seed` leaves it frozen days back, so the credentials "
    "AssumeRole returns are already expired by the real clock. initkeys signs with them as "
    "they are; c7n (botocore's refreshable credentials) failed every account with "
    "`Credentials were refreshed, but the refreshed credentials are still expired.` Each run "
    "here therefore moves the emulator's clock to the real time after seeding (AWS dates "
    "them from the real now); the scenario's keys are dated as before.",
    "",
    "Accounts: c7n-org audits the member accounts its accounts file lists (one role ARN "
    "each); initkeys `--org` lists the organization itself (ListAccounts) and audits the "
    "management account too (no users here), so its calls include that account's and the "
    "listing; per-account figures divide by the member accounts. Peak RSS is the largest "
    "sum over the tool's process tree: c7n-org forks one process per worker.",
]


@dataclass
class Outcome:
    """One tool's run on the organization: what it cost and what it flagged."""

    tool: str
    workers: int
    command: str
    code: int | None = None
    wall: float = 0.0
    cpu: float = 0.0  # user + system seconds of the tool and the workers it waited for
    peak_mib: float = 0.0  # the largest sum of RSS over the tool's process tree
    processes: int = 0  # the most processes of that tree seen at once
    calls: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    flagged: set[Finding] = field(default_factory=set)
    # The truth of the organization it ran on (each run builds its own: new account ids).
    wanted: frozenset[Finding] = frozenset()
    failed_accounts: int = 0
    error: str | None = None
    note: str = ""
    # c7n-org's own time per account and region, from its log (empty for initkeys).
    account_seconds: list[float] = field(default_factory=list)


# ---------------------------------------------------------------- reading the outputs


def initkeys_findings(report: dict[str, Any]) -> tuple[set[Finding], int]:
    """(account, user) of every FAIL in initkeys' JSON report, and the accounts in error."""
    flagged: set[Finding] = set()
    failed = 0
    for account in report["accounts"]:
        if account.get("error") is not None:
            failed += 1
        for finding in account["findings"]:
            if finding["status"] == "FAIL":
                flagged.add((account["account_id"], finding["user"]))
    return flagged, failed


def c7n_org_findings(out_dir: Path, ids: dict[str, str]) -> set[Finding]:
    """(account, user) of every resource c7n-org's policy matched.

    c7n-org writes OUT/<account name>/<region>/<policy>/resources.json, a JSON list of
    the matched iam-user resources; ``ids`` maps its account names to account ids.
    """
    flagged: set[Finding] = set()
    for resources in sorted(out_dir.glob(f"*/*/{POLICY_NAME}/resources.json")):
        name = resources.parent.parent.parent.name
        for user in json.loads(resources.read_text()):
            flagged.add((ids[name], user["UserName"]))
    return flagged


def c7n_org_failed(log: str) -> set[str]:
    """Names of the accounts c7n-org's log reports an error or warning for."""
    names: set[str] = set()
    for line in log.splitlines():
        if C7N_PROBLEM.search(line):
            names.update(a or b for a, b in C7N_ACCOUNT.findall(line))
    return names


def c7n_org_account_seconds(log: str) -> list[float]:
    """c7n-org's own time for each account it ran, in the order of its log."""
    return [float(t) for t in C7N_RAN.findall(log)]


def accounts_file(targets: list[TargetAccount]) -> str:
    """c7n-org's accounts file (YAML is a superset of JSON): each member account's role
    ARN, the shape `c7n-org aws-accounts` writes."""
    accounts = [
        {"account_id": t.account_id, "name": t.name or t.account_id, "role": arn}
        for t in targets
        for arn in [role_arn(t.account_id, "aws", ROLE)]
    ]
    return json.dumps({"accounts": accounts}, indent=1)


def score(flagged: set[Finding], wanted: frozenset[Finding]) -> tuple[str, str]:
    """(precision, recall) of the flagged (account, user) pairs."""
    hits = len(flagged & wanted)
    precision = f"{hits / len(flagged):.2f}" if flagged else "n/a"
    recall = f"{hits / len(wanted):.2f}" if wanted else "n/a"
    return precision, recall


# ---------------------------------------------------------------- running


def tree_rss_kib(root: int) -> tuple[int, int]:
    """(total VmRSS in KiB, process count) of ``root`` and all its descendants."""
    total, count, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    count += 1
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue  # gone meanwhile
    return total, count


def run_tree(
    argv: list[str], log: Path, env: dict[str, str], timeout: float, outcome: Outcome
) -> None:
    """Run argv: its exit code, wall time, CPU time, and the peak of its whole process
    tree's RSS (c7n-org forks a process per worker, so one process's VmHWM would not do).
    The CPU time is what ``wait4`` reports: the child's and that of every descendant it
    waited for (c7n-org's workers, joined when its pool shuts down)."""
    start = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                outcome.cpu = usage.ru_utime + usage.ru_stime
                break
            if time.perf_counter() - start > timeout:
                process.kill()
                process.wait()
                outcome.error = f"timed out after {timeout:.0f} s: {last_lines(log)}"
                break
            rss, count = tree_rss_kib(process.pid)
            outcome.peak_mib = max(outcome.peak_mib, rss / 1024)
            outcome.processes = max(outcome.processes, count)
            time.sleep(0.1)
    outcome.wall = time.perf_counter() - start
    outcome.code = process.returncode


def initkeys_argv(url: str, workers: int, out: Path) -> list[str]:
    argv = [sys.executable, "-m", "initkeys", "audit", "--org", "--role-name", ROLE]
    argv += ["--endpoint-url", url, "--workers", str(workers)]
    return [*argv, "--format", "json", "--output", str(out)]


def c7n_org_argv(exe: Path, out: Path) -> list[str]:
    # -r: the policy's resource is global; without it c7n-org would run every account
    # in its default regions, us-east-1 and us-west-2.
    config, policy = out.parent / "accounts.yml", POLICY
    return [str(exe), "run", "-c", str(config), "-u", str(policy), "-s", str(out), "-r", REGION]


def measure(
    tool: str,
    workers: int | None,
    args: argparse.Namespace,
    realism: Realism,
    work: Path,
    c7n_org: Path,
) -> Outcome:
    """One run of ``tool`` ("initkeys" or "c7n-org") on a freshly built organization;
    ``workers`` None: c7n-org at its own default."""
    shown = workers or C7N_DEFAULT_WORKERS
    label = f"{tool}-{'default' if workers is None else workers}"
    run_dir = work / label
    run_dir.mkdir(parents=True)
    out = run_dir / ("initkeys.json" if tool == "initkeys" else "out")
    if tool == "initkeys":
        command = " ".join(initkeys_argv("PROXY", shown, Path("OUT.json"))[1:])
        command = "python " + command
    else:
        parallel = "" if workers is None else f"C7N_ORG_PARALLEL={workers} "
        command = f"{parallel}c7n-org " + " ".join(c7n_org_argv(c7n_org, Path("OUT"))[1:])
        command = command.replace(str(POLICY), "benchmarks/peers/custodian-1.11.yml")
    outcome = Outcome(tool, shown, command)
    with (run_dir / "emulator.log").open("wb") as errors, start_emulator(stderr=errors) as emu:
        targets = seed(emu, args.accounts, args.users)
        # seed() leaves the emulator's clock frozen days back, and so the Expiration of
        # the credentials AssumeRole returns: botocore's refreshable credentials, which
        # c7n uses, then fail every account ("Credentials were refreshed, but the
        # refreshed credentials are still expired"). AWS dates them from the real now.
        emu.set_time(datetime.now(timezone.utc))
        outcome.wanted = wanted = truth(targets, args.users)
        ids = {t.name or t.account_id: t.account_id for t in targets}
        (run_dir / "accounts.yml").write_text(accounts_file(targets))
        with CountingProxy(emu.url, realism) as proxy:
            env = child_env(proxy.url, run_dir)
            if tool == "initkeys":
                argv = initkeys_argv(proxy.url, shown, out)
            else:
                argv = c7n_org_argv(c7n_org, out)
                if workers is not None:
                    env["C7N_ORG_PARALLEL"] = str(workers)
            run_tree(argv, run_dir / "run.log", env, args.timeout, outcome)
            outcome.calls = Counter(proxy.calls)
            outcome.throttled = Counter(proxy.throttled)
            outcome.blocked = Counter(proxy.blocked)
    if outcome.error:
        return outcome
    try:
        if tool == "initkeys":
            report = json.loads(out.read_text())
            outcome.flagged, outcome.failed_accounts = initkeys_findings(report)
        else:
            outcome.flagged = c7n_org_findings(out, ids)
            log = (run_dir / "run.log").read_text(errors="replace")
            outcome.failed_accounts = len(c7n_org_failed(log))
            outcome.account_seconds = c7n_org_account_seconds(log)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        outcome.error = f"could not read its output: {exc}; log: {last_lines(run_dir / 'run.log')}"
    outcome.note = f"{len(outcome.flagged & wanted)} of {len(wanted)} setup keys"
    return outcome


# ---------------------------------------------------------------- reporting


def table(outcomes: list[Outcome], accounts: int) -> list[str]:
    rows = [
        "| tool | workers | exit code | wall (s) | CPU (s) | API calls (per account) | throttled "
        "| accounts in error | peak RSS, process tree (MiB) | users flagged | precision / recall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        if o.error:
            dashes = " — |" * 6
            rows.append(f"| {o.tool} | {o.workers} | {o.code} | —{dashes} {o.error} |")
            continue
        total = sum(o.calls.values())
        precision, recall = score(o.flagged, o.wanted)
        rows.append(
            f"| {o.tool} | {o.workers} | {o.code} | {o.wall:.1f} | {o.cpu:.1f} | {total:,} "
            f"({total / accounts:.1f}) | {sum(o.throttled.values())} | {o.failed_accounts} "
            f"| {o.peak_mib:.0f} ({o.processes} processes) | {len(o.flagged)} "
            f"| {precision} / {recall} |"
        )
    return rows


def details(outcomes: list[Outcome], accounts: int) -> list[str]:
    lines: list[str] = []
    for o in outcomes:
        lines.append(f"**{o.tool}, {o.workers} workers**: `{o.command}`")
        lines.append("")
        if o.error:
            lines += [f"- not run: {o.error}", ""]
            continue
        by_op = ", ".join(f"{op} {n} ({n / accounts:.2f})" for op, n in sorted(o.calls.items()))
        lines.append(f"- API calls by operation (per member account): {by_op or 'none'}")
        throttled = ", ".join(f"{op} {n}" for op, n in sorted(o.throttled.items()))
        lines.append(f"- throttled: {throttled or 'none'}")
        blocked = ", ".join(f"{host} {n}" for host, n in sorted(o.blocked.items()))
        lines.append(f"- requests refused (not to the emulator): {blocked or 'none'}")
        lines.append(f"- found {o.note}")
        if o.account_seconds:
            times = o.account_seconds
            lines.append(
                f"- c7n-org's own time per account (its log, {len(times)} accounts): median "
                f"{statistics.median(times):.1f} s, least {min(times):.1f} s, most "
                f"{max(times):.1f} s"
            )
        lines.append("")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[8], help="initkeys' (and c7n-org's) workers"
    )
    parser.add_argument("--latency", type=float, default=0.060)
    parser.add_argument("--report-delay", type=float, default=4.0)
    parser.add_argument("--peers-dir", type=Path, default=ROOT / ".venv-peers")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep the tools' outputs")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    return parser.parse_args(argv)


def runs(workers: list[int]) -> list[tuple[str, int | None]]:
    """The runs, in order: initkeys at each worker count; c7n-org at its default (None),
    then at each of initkeys' worker counts that differs from that default."""
    plan: list[tuple[str, int | None]] = [("initkeys", w) for w in workers]
    plan.append(("c7n-org", None))
    return plan + [("c7n-org", w) for w in workers if w != C7N_DEFAULT_WORKERS]


def main() -> None:
    args = parse_args()
    venv = args.peers_dir.resolve() / "custodian"
    c7n_org = venv / "bin" / "c7n-org"
    missing = installed(venv) or (None if c7n_org.exists() else f"no c7n-org in {venv}")
    realism = Realism(latency=args.latency, report_delay=args.report_delay)
    plan = runs(args.workers)
    started = datetime.now(timezone.utc)
    # The machine is shared: the load when the run started says how quiet it was.
    args.load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="bench-org-peers-"))
    outcomes: list[Outcome] = []
    try:
        for tool, workers in plan:
            print(f"{tool} workers {workers or 'default'} ...", flush=True)
            if tool == "c7n-org" and missing:
                shown = workers or C7N_DEFAULT_WORKERS
                outcomes.append(Outcome(tool, shown, "c7n-org run", error=missing))
                continue
            outcomes.append(measure(tool, workers, args, realism, work, c7n_org))
            print("\n".join(table(outcomes[-1:], args.accounts)[2:]), flush=True)
    finally:
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    wanted = truth([TargetAccount(f"{n:012d}") for n in range(args.accounts)], args.users)
    section = result_lines(args, realism, started, venv, outcomes, len(wanted))
    print("\n".join(section))
    if not args.no_write:
        write_section("org-peers", "Compared with c7n-org on an organization", section)
        print("\nwritten to benchmarks/RESULTS.md")


def result_lines(
    args: argparse.Namespace,
    realism: Realism,
    started: datetime,
    venv: Path,
    outcomes: list[Outcome],
    setup_keys: int,
) -> list[str]:
    workers = " ".join(map(str, args.workers))
    return [
        f"Run {started:%Y-%m-%d %H:%M} UTC with `make bench-peers` (`python benchmarks/"
        f"org_peers.py --accounts {args.accounts} --users {args.users} --workers {workers} "
        f"--latency {args.latency} --report-delay {args.report_delay}`), "
        f"{os.cpu_count()} cores (load average {args.load} when it started); emulator, proxy "
        "and tool on the same machine.",
        "",
        f"- organization: {args.accounts} member accounts of {args.users} console users, "
        f"{setup_keys} of them with a setup key never used (the truth); a fresh emulator "
        "for each run, no credential report made yet",
        f"- proxy: {realism.latency * 1000:.0f} ms a call (±{realism.jitter:.0%}), credential "
        f"report COMPLETE {realism.report_delay:g} s after an account's first "
        "GenerateCredentialReport, IAM/STS throttling as in `counting_proxy.Realism`",
        f"- c7n {venv_version(venv, 'c7n')}, c7n-org {venv_version(venv, 'c7n-org')}, "
        f"botocore {venv_version(venv, 'botocore')}; c7n-org's default workers here: "
        f"{C7N_DEFAULT_WORKERS} processes (4 per core)",
        "",
        *table(outcomes, args.accounts),
        "",
        *details(outcomes, args.accounts),
        *NOTES,
    ]


if __name__ == "__main__":
    main()
