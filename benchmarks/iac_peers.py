"""initkeys iac and Checkov side by side: per-user precision and recall for CIS AWS 1.11
(a setup key made in infrastructure as code), and wall time.

    python benchmarks/iac_peers.py [--configurations 200] [--runs 1] [--no-write]

`make bench-peers` installs Checkov (pinned) into .venv-peers/checkov and runs this.
Both tools read the same trees:

- a generated Terraform tree (benchmarks/iac_tree.py) whose labels say which users get a
  setup key; scored per user. Checkov has no rule for this control; its nearest are
  CKV2_AWS_22 (an IAM user with console access) and CKV_AWS_273 (any IAM user): a user
  either flags counts as a positive of Checkov's;
- the corpus (tests/data/iac/, when there), whose README lists each case's expected
  findings; scored per configuration (a Terraform case folder, a template or a plan
  file): a case is positive when its README row expects a FAIL, and a tool flags it when
  it flags any user in it.

Checkov runs with --skip-download (nothing is fetched, nothing is sent). Prints a table
and rewrites the iac-peers section of benchmarks/RESULTS.md. Checkov not installed, or a
run that fails, is a row that says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from child_process import run_child
from iac_tree import child_env, generate
from results_file import write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "data" / "iac"
CHECKOV_RULES = ("CKV2_AWS_22", "CKV_AWS_273")
# One row of a corpus README table: its first cell (a case folder or a file, in
# backticks) and the rest of the row.
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)$")
_SECTION = re.compile(r"^##\s.*\(`([^`]+)/`\)")


@dataclass
class Score:
    tool: str
    error: str | None = None
    walls: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    flagged: set[str] = field(default_factory=set)

    def rates(self, truth: set[str]) -> tuple[float, float]:
        hits = len(self.flagged & truth)
        precision = hits / len(self.flagged) if self.flagged else 0.0
        return precision, hits / len(truth) if truth else 1.0


# ---------------------------------------------------------------- ground truth


def corpus_cases(corpus: Path) -> dict[str, bool]:
    """Each case the corpus README lists (path relative to the corpus) and whether a FAIL
    is expected for it."""
    cases: dict[str, bool] = {}
    section = ""
    for line in (corpus / "README.md").read_text(encoding="utf-8").splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1).strip("/") + "/"
            continue
        row = _ROW.match(line)
        if not row or not section:
            continue
        case = row.group(1).strip("/")
        if not case.startswith(section):
            case = section + case
        cells = [c.strip() for c in row.group(2).split("|")]
        fails = any(c == "FAIL" or c.startswith("FAIL ") for c in cells)
        cases[case] = cases.get(case, False) or fails
    return cases


def case_of(path: str, cases: dict[str, bool]) -> str | None:
    """The case (longest listed prefix) a path relative to the corpus is in."""
    path = path.strip("/")
    best = None
    for case in cases:
        if (path == case or path.startswith(case + "/")) and len(case) > len(best or ""):
            best = case
    return best


# ---------------------------------------------------------------- the tools


@dataclass(frozen=True)
class Tool:
    name: str
    argv: Callable[[Path, Path], list[str]]  # (tree, output folder) -> command line
    # (output folder, tree, mapper) -> flagged units
    parse: Callable[[Path, Path, Callable[[str, str, str | None], str | None]], set[str]]
    missing: str | None = None


def initkeys_tool() -> Tool:
    def argv(tree: Path, out: Path) -> list[str]:
        report = out / "initkeys.json"
        return [
            sys.executable,
            "-m",
            "initkeys",
            "iac",
            str(tree),
            "--format",
            "json",
            "-o",
            str(report),
        ]

    def parse(
        out: Path, tree: Path, unit: Callable[[str, str, str | None], str | None]
    ) -> set[str]:
        findings = json.loads((out / "initkeys.json").read_text())["findings"]
        flagged = set()
        for f in findings:
            if f["reason"] == "iac-setup-key":
                where = os.path.relpath(
                    f["user_at"]["path"] if f["user_at"] else f["configuration"], tree
                )
                name = unit(where, f["user"], os.path.relpath(f["configuration"], tree))
                if name:
                    flagged.add(name)
        return flagged

    return Tool("initkeys iac", argv, parse)


def checkov_tool(venv: Path) -> Tool:
    exe = venv / "bin" / "checkov"
    log = venv.parent / f"{venv.name}-install.log"
    missing = None
    if not exe.exists():
        missing = "not installed (make bench-peers installs it)"
        if log.exists():
            missing += ": " + " ".join(log.read_text(errors="replace").split()[-30:])

    def argv(tree: Path, out: Path) -> list[str]:
        return [
            str(exe), "-d", str(tree), "--check", ",".join(CHECKOV_RULES),
            "--framework", "terraform", "terraform_plan", "cloudformation",
            "-o", "json", "--output-file-path", str(out), "--skip-download", "--compact",
        ]  # fmt: skip

    def parse(
        out: Path, tree: Path, unit: Callable[[str, str, str | None], str | None]
    ) -> set[str]:
        data = json.loads((out / "results_json.json").read_text())
        flagged = set()
        for report in data if isinstance(data, list) else [data]:
            for check in report["results"]["failed_checks"]:
                if check["check_id"] not in CHECKOV_RULES:
                    continue
                caller = check.get("caller_file_path") or _module_caller(check, tree)
                name = unit(check["file_path"], check["resource"], caller)
                if name:
                    flagged.add(name)
        return flagged

    return Tool(f"checkov (rules {', '.join(CHECKOV_RULES)})", argv, parse, missing)


def _module_caller(check: dict[str, Any], tree: Path) -> str | None:
    """The file that calls the module a Checkov result is in, when Checkov gives no
    caller_file_path (its graph rules, such as CKV2_AWS_22, do not)."""
    calls = (check.get("breadcrumbs") or {}).get("source_module_") or []
    if not calls or not calls[0].get("path"):
        return None
    return "/" + os.path.relpath(calls[0]["path"], tree)


# ---------------------------------------------------------------- matching


def tree_user(path: str, resource: str, caller: str | None) -> str | None:
    """A generated tree's user from where a tool found it: initkeys names the user; a
    Checkov resource is ``aws_iam_user.LABEL`` (user ``<stack>-LABEL``),
    ``aws_iam_user.staff["NAME"]`` or ``module.M.aws_iam_user.this`` (``<stack>-M``, the
    stack is the calling file's folder)."""
    if not resource.startswith(("aws_iam_user.", "module.")):
        return resource  # initkeys: the user's name
    stack = Path((caller or path).strip("/")).parent.name
    keyed = re.fullmatch(r'aws_iam_user\.\w+\["([^"]+)"\]', resource)
    if keyed:
        return keyed.group(1)
    called = re.fullmatch(r"module\.([\w-]+)\.aws_iam_user\.this", resource)
    if called:
        return f"{stack}-{called.group(1)}"
    plain = re.fullmatch(r"aws_iam_user\.([\w-]+)", resource)
    return f"{stack}-{plain.group(1)}" if plain else None


def corpus_unit(cases: dict[str, bool]) -> Callable[[str, str, str | None], str | None]:
    def unit(path: str, resource: str, caller: str | None) -> str | None:
        return case_of(caller or path, cases)

    return unit


# ---------------------------------------------------------------- running


def measure(tool: Tool, tree: Path, runs: int, unit: Callable[..., str | None]) -> Score:
    score = Score(tool.name, tool.missing)
    if tool.missing:
        return score
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="iac-peer-") as scratch:
            out = Path(scratch)
            with (out / "run.log").open("wb") as log:
                run = run_child(tool.argv(tree, out), log, env=child_env(), cwd=tree, timeout=3600)
            if run.returncode is None or run.returncode not in (0, 1):
                tail = " ".join((out / "run.log").read_text(errors="replace").split()[-30:])
                score.error = f"exit code {run.returncode}: {tail}"
                return score
            score.walls.append(run.wall)
            score.peak_mib = max(score.peak_mib, run.peak_mib)
            try:
                score.flagged = tool.parse(out, tree, unit)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                score.error = f"could not read its report: {exc}"
                return score
    return score


def rows(title: str, scores: list[Score], truth: set[str], units: int) -> list[str]:
    lines = [
        f"**{title}** ({units:,} {'users' if 'tree' in title else 'cases'}, "
        f"{len(truth):,} positive)",
        "",
        "| tool | precision | recall | flagged | wall time (median) | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for s in scores:
        if s.error:
            lines.append(f"| {s.tool} | – | – | – | {s.error} | – |")
            continue
        precision, recall = s.rates(truth)
        lines.append(
            f"| {s.tool} | {precision:.2f} | {recall:.2f} | {len(s.flagged):,} "
            f"| {statistics.median(s.walls):.1f} s | {s.peak_mib:.0f} MiB |"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configurations", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--peers-dir", type=Path, default=ROOT / ".venv-peers")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args()
    tools = [initkeys_tool(), checkov_tool(args.peers_dir / "checkov")]
    section: list[str] = []
    with tempfile.TemporaryDirectory(prefix="initkeys-iac-peers-") as scratch:
        tree = generate(Path(scratch), args.configurations)
        title = (
            f"Generated tree: {tree.files:,} .tf files, {tree.resources:,} resources "
            f"(`--configurations {args.configurations}`)"
        )
        scores = [measure(t, tree.root, args.runs, tree_user) for t in tools]
        section += rows(title, scores, set(tree.positives), len(tree.labels))
    if (CORPUS / "README.md").exists():
        cases = corpus_cases(CORPUS)
        truth = {c for c, fails in cases.items() if fails}
        scores = [measure(t, CORPUS, args.runs, corpus_unit(cases)) for t in tools]
        section += rows("Corpus tests/data/iac/", scores, truth, len(cases))
    print("\n".join(section))
    if not args.no_write:
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        head = [
            f"Run on {when}, Python {platform.python_version()}, {os.cpu_count()} cores; "
            f"`python benchmarks/iac_peers.py --configurations {args.configurations} "
            f"--runs {args.runs}` (`make bench-peers`).",
            "",
        ]
        write_section("iac-peers", "IaC: initkeys iac and Checkov", head + section)
        print(f"written to {(HERE / 'RESULTS.md').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
