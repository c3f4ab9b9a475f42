"""initkeys, Prowler and Cloud Custodian side by side on one emulated account.

    python benchmarks/peers.py [--users 200] [--peers-dir .venv-peers] [--no-write]

`make bench-peers` installs the peers into their own venvs and runs this. For each
tool, in turn: start a fresh emulator, seed it with `live_audit.seed` (the same
fixed mix of users, so every tool sees the same account in the same state, no
credential report generated yet), put a counting proxy (`counting_proxy.py`) in
front of it, run the tool's CLI as a child process with `AWS_ENDPOINT_URL`
pointing at the proxy, then read the tool's own report and score its findings
against the scenario's ground truth, which we know per user because we made it:

- the control's intent (initkeys' default `setup` mode): a console user whose
  key was made with the user and never used (`setup-unused`);
- CIS's literal audit procedure: a console user with any active key that was
  never used (`setup-unused` and `later-unused`).

Prints a table and rewrites the generated section of benchmarks/RESULTS.md.
A peer that is not installed, or whose run fails, is a row that says so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from child_process import run_child
from counting_proxy import CountingProxy
from emulator_process import start_emulator
from live_audit import KINDS, kind_of, seed, user_name
from results_file import write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = HERE / "peers" / "custodian-1.11.yml"
RESULTS = HERE / "RESULTS.md"
PROWLER_CHECK = "iam_user_no_setup_initial_access_key"
UNIMPLEMENTED = re.compile(r"The (\w+) action has not been implemented")

# Which kinds of user (see live_audit.KINDS) each reading of control 1.11 flags.
TRUTH = {
    "setup": frozenset({"setup-unused"}),
    "cis": frozenset({"setup-unused", "later-unused"}),
}
# Every key the seeding makes is the user's first, so it sits in slot 1.
SEEDED_SLOT = 1


@dataclass
class Outcome:
    """One tool's run: what it cost and what it flagged."""

    tool: str
    command: list[str]
    error: str | None = None
    walls: list[float] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    # Requests per run: equal unless a tool retried something.
    call_totals: list[int] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    users: set[str] = field(default_factory=set)
    keys: set[tuple[str, int]] = field(default_factory=set)
    warnings: int = 0
    # Operations the tool asked for that the emulator does not implement.
    unimplemented: set[str] = field(default_factory=set)
    # What the tool said of its own timing, per run.
    notes: list[str] = field(default_factory=list)


@dataclass
class Tool:
    """How to run one tool and read its report."""

    name: str
    # The command line, given the directory the tool writes its report to.
    argv: Callable[[Path], list[str]]
    # Reads that report into outcome.users and outcome.keys.
    parse: Callable[[Path, Outcome], None]
    # Exit codes that mean "audited", with findings or without.
    ok_codes: frozenset[int]
    # Why the tool cannot run (not installed), or None.
    missing: str | None = None


# ---------------------------------------------------------------- running


def child_env(endpoint: str, home: Path) -> dict[str, str]:
    """The environment of a tool under test: fake credentials, loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        env.pop(name, None)
        env.pop(name.upper(), None)
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        # No profile or config file of the person running this may leak in.
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        # Whatever goes around AWS_ENDPOINT_URL asks the proxy, which refuses it.
        HTTP_PROXY=endpoint,
        HTTPS_PROXY=endpoint,
        NO_PROXY="127.0.0.1,localhost",
        # Caches (Custodian's ~/.cache) start empty for every tool.
        HOME=str(home),
        PYTHONWARNINGS="ignore",
    )
    return env


def last_lines(path: Path, n: int = 3) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])[-300:]


def measure(tool: Tool, users: int, work: Path, timeout: float, runs: int) -> Outcome:
    """Run the tool ``runs`` times, each on a freshly seeded emulator."""
    base = work / re.sub(r"\W+", "-", tool.name).strip("-")
    outcome = Outcome(tool.name, [a.replace(str(base), "OUT") for a in tool.argv(base)])
    if tool.missing:
        outcome.error = tool.missing
        return outcome
    for run in range(runs):
        out_dir = base / f"run-{run + 1}"
        out_dir.mkdir(parents=True)
        outcome.error = run_once(tool, users, out_dir, timeout, outcome)
        if outcome.error:
            break
    return outcome


def run_once(tool: Tool, users: int, out_dir: Path, timeout: float, outcome: Outcome) -> str | None:
    """One run into ``outcome``; returns why it failed, or None."""
    emulator_log = out_dir / "emulator.log"
    with emulator_log.open("wb") as errors, start_emulator(stderr=errors) as emulator:
        seed(emulator, users)
        with CountingProxy(emulator.url) as proxy:
            env = child_env(proxy.url, out_dir)
            log = out_dir / "run.log"
            with log.open("wb") as output:
                run = run_child(tool.argv(out_dir), output, env=env, cwd=ROOT, timeout=timeout)
    code, wall, peak = run.returncode, run.wall, run.peak_mib
    # moto answers an operation it lacks with an error (and a traceback in its log).
    outcome.unimplemented = set(UNIMPLEMENTED.findall(emulator_log.read_text(errors="replace")))
    outcome.walls.append(wall)
    outcome.peak_rss_mib = max(outcome.peak_rss_mib, peak)
    outcome.call_totals.append(sum(proxy.calls.values()))
    # The last run's calls and findings are the ones shown; the runs agree on them.
    outcome.calls, outcome.blocked = proxy.calls, proxy.blocked
    if code is None:
        return f"timed out after {timeout:.0f} s: {last_lines(log)}"
    if code not in tool.ok_codes:
        return f"exit code {code}: {last_lines(log)}"
    before = (set(outcome.users), set(outcome.keys))
    outcome.users.clear()
    outcome.keys.clear()
    outcome.warnings = 0
    try:
        tool.parse(out_dir, outcome)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"could not read its report: {exc}; log: {last_lines(log)}"
    if len(outcome.walls) > 1 and before != (outcome.users, outcome.keys):
        return "its findings differ from one run to the next"
    return None


# ---------------------------------------------------------------- the tools


def initkeys_tool(mode: str) -> Tool:
    def argv(out: Path) -> list[str]:
        report = out / "initkeys.json"
        args = f"-m initkeys audit --mode {mode} --format json -o".split()
        return [sys.executable, *args, str(report)]

    def parse(out: Path, outcome: Outcome) -> None:
        report = json.loads((out / "initkeys.json").read_text())
        for account in report["accounts"]:
            for finding in account["findings"]:
                if finding["status"] == "FAIL":
                    outcome.users.add(finding["user"])
                    outcome.keys.add((finding["user"], finding["key_slot"]))
                elif finding["status"] == "WARNING":
                    outcome.warnings += 1

    # 1: audited and something failed, as expected here.
    return Tool(f"initkeys --mode {mode}", argv, parse, frozenset({0, 1}))


def prowler_tool(venv: Path) -> Tool:
    exe = venv / "bin" / "prowler"

    def argv(out: Path) -> list[str]:
        args = f"aws --checks {PROWLER_CHECK} -f us-east-1 -M csv json-ocsf -F prowler".split()
        return [str(exe), *args, "--no-banner", "-o", str(out)]

    def parse(out: Path, outcome: Outcome) -> None:
        # The OCSF file is a JSON array of findings; the CSV says the same.
        findings = json.loads((out / "prowler.ocsf.json").read_text())
        for finding in findings:
            if finding.get("status_code") != "FAIL":
                continue
            user = finding["resources"][0]["name"]
            outcome.users.add(user)
            # "User x has never used access key 1": the slot is only in the sentence.
            slot = re.search(r"access key (\d)", finding.get("status_detail", ""))
            outcome.keys.add((user, int(slot.group(1)) if slot else 0))
        # Its progress bar times the checks, the IAM service's reads included
        # (the check's first use of iam_client makes them); the rest of the wall
        # time is start-up and writing the outputs.
        log = (out / "run.log").read_text(errors="replace")
        scan = re.search(r"\[100%\] in (?:(\d+):)?(\d+(?:\.\d+)?)", log)
        if scan:
            seconds = 60 * int(scan.group(1) or 0) + float(scan.group(2))
            outcome.notes.append(f"{seconds:.0f} s")
        rows = list(csv.DictReader((out / "prowler.csv").open(), delimiter=";"))
        fails = {r["RESOURCE_NAME"] for r in rows if r.get("STATUS") == "FAIL"}
        if fails != outcome.users:
            raise ValueError("Prowler's CSV and OCSF outputs disagree")

    # 3: Prowler ran and some check failed.
    return Tool("Prowler", argv, parse, frozenset({0, 3}), installed(venv))


def custodian_tool(venv: Path) -> Tool:
    exe = venv / "bin" / "custodian"

    def argv(out: Path) -> list[str]:
        # Custodian's defaults: its cache (in HOME, empty for each run) lets the three
        # credential filters share one credential report.
        args = ["run", "--region", "us-east-1", "-s"]
        return [str(exe), *args, str(out), str(POLICY)]

    def parse(out: Path, outcome: Outcome) -> None:
        (resources,) = out.glob("*/resources.json")
        for user in json.loads(resources.read_text()):
            name = user["UserName"]
            outcome.users.add(name)
            present = user.get("c7n:credential-report", {}).get("access_keys", [])
            for key in user.get("c7n:matched-keys", []):
                # Custodian lists a user's keys in slot order without slot numbers,
                # leaving out empty slots: the position is the slot when no key was
                # ever deleted, as here.
                slot = present.index(key) + 1 if key in present else 0
                outcome.keys.add((name, slot))

    return Tool("Cloud Custodian", argv, parse, frozenset({0}), installed(venv))


def installed(venv: Path) -> str | None:
    """None when `make bench-peers` installed this peer, else why it is missing."""
    stamps = list(venv.glob(".installed-*"))
    if stamps:
        return None
    log = venv.with_name(venv.name + "-install.log")
    if log.exists():
        lines = log.read_text(errors="replace").splitlines()
        errors = [ln for ln in lines if ln.startswith("ERROR")] or lines[-1:]
        return f"install failed: {errors[-1][:200] if errors else 'see ' + log.name}"
    return f"not installed in {venv} (run `make bench-peers`)"


# ---------------------------------------------------------------- scoring


def truth(users: int) -> dict[str, str]:
    """User name -> kind, for every seeded user."""
    return {user_name(i): kind_of(i) for i in range(users)}


def score(flagged: set[str], kinds: dict[str, str], reading: str) -> tuple[str, str]:
    """(precision, recall) of flagged users against one reading of the control."""
    wanted = {u for u, k in kinds.items() if k in TRUTH[reading]}
    hits = len(flagged & wanted)
    precision = f"{hits / len(flagged):.2f}" if flagged else "n/a"
    recall = f"{hits / len(wanted):.2f}" if wanted else "n/a"
    return precision, recall


def key_score(keys: set[tuple[str, int]], kinds: dict[str, str], reading: str) -> str:
    wanted = {(u, SEEDED_SLOT) for u, k in kinds.items() if k in TRUTH[reading]}
    hits = len(keys & wanted)
    return f"{hits}/{len(keys)} right, {hits}/{len(wanted)} found"


def false_positives(flagged: set[str], kinds: dict[str, str], reading: str) -> str:
    by_kind = Counter(
        kinds.get(u, "unknown") for u in flagged if kinds.get(u) not in TRUTH[reading]
    )
    return ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items())) or "none"


# ---------------------------------------------------------------- reporting


def machine(peers_dir: Path) -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "unknown"
    os_name = platform.platform()
    try:
        release = dict(
            line.split("=", 1)
            for line in Path("/etc/os-release").read_text().splitlines()
            if "=" in line
        )
        os_name = release.get("PRETTY_NAME", os_name).strip('"')
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"- machine: {os.cpu_count()} cores ({cpu}), {memory} memory, {os_name}",
        f"- load average when the run started: {load}",
        f"- Python {platform.python_version()}; initkeys {version('initkeys')}, "
        f"boto3 {version('boto3')}, moto {version('moto')} (the emulator)",
    ]
    for name, package in (("prowler", "prowler"), ("custodian", "c7n")):
        venv = peers_dir / name
        lines.append(
            f"- {package} {venv_version(venv, package)}, botocore {venv_version(venv, 'botocore')}"
            f" in `{venv.relative_to(ROOT) if venv.is_relative_to(ROOT) else venv}`"
            f" ({disk_usage(venv)})"
        )
    return lines


def venv_version(venv: Path, package: str) -> str:
    python = venv / "bin" / "python"
    if not python.exists():
        return "(not installed)"
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return result.stdout.strip() or "(unknown)"


def disk_usage(path: Path) -> str:
    if not path.exists():
        return "absent"
    # Allocated blocks, as `du` counts them.
    total = sum(p.lstat().st_blocks * 512 for p in path.rglob("*"))
    return f"{total / 2**30:.1f} GiB" if total >= 2**30 else f"{total / 2**20:.0f} MiB"


def table(outcomes: list[Outcome], kinds: dict[str, str]) -> list[str]:
    rows = [
        "| tool | wall time | peak RSS | API calls | users flagged | precision / recall (intent) "
        "| precision / recall (CIS literal) |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        if o.error:
            rows.append(f"| {o.tool} | — | — | — | not run: {o.error} | — | — |")
            continue
        p1, r1 = score(o.users, kinds, "setup")
        p2, r2 = score(o.users, kinds, "cis")
        rows.append(
            f"| {o.tool} | {statistics.median(o.walls):.1f} s | {o.peak_rss_mib:.0f} MiB "
            f"| {calls_range(o.call_totals)} "
            f"| {len(o.users)} | {p1} / {r1} | {p2} / {r2} |"
        )
    return rows


def calls_range(totals: list[int]) -> str:
    low, high = min(totals), max(totals)
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def details(outcomes: list[Outcome], kinds: dict[str, str]) -> list[str]:
    lines = []
    for o in outcomes:
        lines.append(f"**{o.tool}**: `{' '.join(shorten(a) for a in o.command)}`")
        lines.append("")
        if o.error:
            lines.append(f"- not run: {o.error}")
            lines.append("")
            continue
        lines.append(
            f"- false positives against the intent: {false_positives(o.users, kinds, 'setup')}"
            f"; against CIS literal: {false_positives(o.users, kinds, 'cis')}"
        )
        lines.append(
            f"- per key (user, slot), intent: {key_score(o.keys, kinds, 'setup')}; "
            f"CIS literal: {key_score(o.keys, kinds, 'cis')}"
        )
        walls = ", ".join(f"{w:.1f}" for w in o.walls)
        lines.append(f"- wall time of each run: {walls} s")
        if o.notes:
            lines.append(f"- of which checks, by its own progress bar: {', '.join(o.notes)}")
        if o.warnings:
            lines.append(f"- WARNING findings (not counted as flagged): {o.warnings}")
        calls = ", ".join(f"{k} {v}" for k, v in sorted(o.calls.items()))
        lines.append(f"- API calls by operation: {calls or 'none'}")
        if o.unimplemented:
            lacking = ", ".join(sorted(o.unimplemented))
            lines.append(f"- asked the emulator for what it does not implement: {lacking}")
        blocked = ", ".join(f"{k} {v}" for k, v in sorted(o.blocked.items()))
        lines.append(f"- requests refused (not to the emulator): {blocked or 'none'}")
        lines.append("")
    return lines


def shorten(arg: str) -> str:
    """Paths of this run's temporary directory and checkout, as a reader would type them."""
    if arg == sys.executable:
        return "python"
    arg = re.sub(r"^/tmp/[^/]+/[^/]+", "OUT", arg)
    return arg.replace(str(ROOT) + "/", "")


def write_results(section: list[str]) -> None:
    write_section("bench-peers", "Compared with peers", section, script="peers")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--peers-dir", type=Path, default=ROOT / ".venv-peers")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median wall time)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per tool run")
    parser.add_argument("--keep", action="store_true", help="keep the tools' outputs")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args()
    peers = args.peers_dir.resolve()
    kinds = truth(args.users)
    tools = [
        initkeys_tool("setup"),
        initkeys_tool("cis"),
        prowler_tool(peers / "prowler"),
        custodian_tool(peers / "custodian"),
    ]
    header = machine(peers)
    started = datetime.now(timezone.utc)
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    outcomes = []
    try:
        for tool in tools:
            print(f"{tool.name} ...", flush=True)
            outcomes.append(measure(tool, args.users, work, args.timeout, args.runs))
    finally:
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    mix = ", ".join(f"{kind} {sum(1 for k in kinds.values() if k == kind)}" for kind, _ in KINDS)
    section = [
        f"Run {started:%Y-%m-%d %H:%M} UTC with `make bench-peers` "
        f"(`python benchmarks/peers.py --users {args.users}`).",
        "",
        *header,
        f"- account: {args.users} users ({mix})",
        "",
        *table(outcomes, kinds),
        "",
        *details(outcomes, kinds),
    ]
    print("\n".join(section))
    if not args.no_write:
        write_results(section)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
