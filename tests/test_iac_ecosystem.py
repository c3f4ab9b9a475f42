"""``initkeys iac`` where it runs for other people: the pre-commit hook
(.pre-commit-hooks.yaml, run end to end with ``pre-commit try-repo``), the composite
GitHub Action (action.yml and the example workflow against GitHub's schemas, and the
action's run step, action/run.sh, run here on real trees)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import fuzz_kit
import yaml
from cli_kit import subprocess_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
RUN_STEP = ROOT / "action" / "run.sh"
EXAMPLE = ROOT / "docs" / "examples" / "initkeys-iac.yml"

# A console user, its password and a key in one configuration: FAIL iac-setup-key at
# lines 1 (user), 5 (login profile) and 9 (key).
SETUP_KEY_TF = """\
resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user_login_profile" "alice" {
  user = aws_iam_user.alice.name
}

resource "aws_iam_access_key" "alice" {
  user = aws_iam_user.alice.name
}
"""
# A console user without a key: PASS iac-console-user-no-key.
CONSOLE_ONLY_TF = """\
resource "aws_iam_user" "bob" {
  name = "bob"
}

resource "aws_iam_user_login_profile" "bob" {
  user = aws_iam_user.bob.name
}
"""


def _git(cwd: Path, *args: str) -> None:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="initkeys tests",
        GIT_AUTHOR_EMAIL="tests@initkeys.invalid",
        GIT_COMMITTER_NAME="initkeys tests",
        GIT_COMMITTER_EMAIL="tests@initkeys.invalid",
    )
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# ---------------------------------------------------------------- pre-commit


def test_hook_manifest_is_what_pre_commit_accepts() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "initkeys-iac"
    assert hook["entry"] == "initkeys iac"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    # A configuration is a folder: its files must reach one process together.
    assert hook["require_serial"] is True
    files = re.compile(hook["files"])
    for name in ("main.tf", "a/b/users.tf.json", "t.yaml", "t.yml", "cdk.out/S.template.json"):
        assert files.search(name), name
    for name in ("main.py", "terraform.tfvars", "README.md", "tf", "x.yaml.bak"):
        assert not files.search(name), name
    exclude = re.compile(hook["exclude"])
    for name in (
        ".terraform/modules/x/main.tf",
        "a/node_modules/p/t.json",
        "cdk.out/asset.1/t.json",
    ):
        assert exclude.search(name), name
    for name in ("main.tf", "terraform/main.tf", "cdk.out/Stack.template.json"):
        assert not exclude.search(name), name


def test_pre_commit_try_repo_runs_the_hook_end_to_end(tmp_path: Path) -> None:
    """try-repo installs this repository as pre-commit does (a venv, ``pip install`` of a
    clone, dependencies from the package index) and runs the hook on a throwaway git
    repository: a setup key fails the hook with the finding, a clean tree passes.

    try-repo clones only what is committed (plus tracked changes), and keeps each run's
    hook environment in its own temporary store, so the hook repository here is a copy of
    this checkout's working files, committed; each run builds its environment afresh."""
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, hook_repo / name)
    shutil.copytree(
        ROOT / "src", hook_repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    _git(hook_repo, "init", "-q")
    _git(hook_repo, "add", "-A")
    _git(hook_repo, "commit", "-q", "-m", "hook repository")

    project = _tree(
        tmp_path / "project",
        {
            "infra/main.tf": SETUP_KEY_TF,
            "clean/main.tf": CONSOLE_ONLY_TF,
            # Matches the hook's files pattern; not IaC, so counted and left alone.
            "package.json": '{"name": "web", "version": "1.0.0"}\n',
        },
    )
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), NO_COLOR="1")

    def try_repo(*files: str) -> tuple[subprocess.CompletedProcess[str], float]:
        start = time.perf_counter()
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo)),
                *("initkeys-iac", "--color", "never", "--files", *files),
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        return proc, time.perf_counter() - start

    failed, first = try_repo("infra/main.tf", "clean/main.tf", "package.json")
    out = failed.stdout
    assert failed.returncode == 1, out + failed.stderr
    assert re.search(r"^initkeys iac \(setup keys.*\.+Failed$", out, re.MULTILINE), out
    assert "- exit code: 1" in out
    assert "FAIL iac-setup-key  alice" in out
    for what, line in (("user", 1), ("password", 5), ("key", 9)):
        assert re.search(rf"^\s+{what}:\s+infra/main\.tf:{line}$", out, re.MULTILINE), out
    assert re.search(r"PASS\s+iac-console-user-no-key\s+bob\s+clean/main\.tf:1", out), out
    assert "1 JSON/YAML files not IaC" in out or "1 JSON/YAML file not IaC" in out, out
    assert "Traceback" not in out + failed.stderr

    passed, second = try_repo("clean/main.tf")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"^initkeys iac \(setup keys.*\.+Passed$", passed.stdout, re.MULTILINE)
    # How long a hook install takes here (a fresh venv and pip from the index, each run).
    print(f"pre-commit try-repo: {first:.0f} s (failing tree), {second:.0f} s (clean tree)")


# ---------------------------------------------------------------- GitHub Action


def _check_jsonschema(schema: str, path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_is_valid_against_the_github_actions_schema() -> None:
    _check_jsonschema("vendor.github-actions", ACTION)
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {
        "command",
        "paths",
        "args",
        "sarif-file",
        "fail-on-findings",
        "python-version",
        "version",
    }
    assert set(action["outputs"]) == {"exit-code", "sarif-file"}
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    # No input is pasted into a script (a path like $(rm -rf ~) would run): inputs reach
    # the shell only through env.
    for step in steps:
        assert "inputs." not in step.get("run", ""), step
    assert steps[-1]["run"] == 'bash "$GITHUB_ACTION_PATH/action/run.sh"'


def test_example_workflow_is_valid_and_uploads_the_sarif() -> None:
    _check_jsonschema("vendor.github-workflows", EXAMPLE)
    workflow = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    assert workflow["permissions"]["security-events"] == "write"
    steps = {step.get("id") or step.get("name"): step for step in job["steps"]}
    ours = steps["initkeys"]
    inputs = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["inputs"]
    assert set(ours["with"]) <= set(inputs)
    upload = steps["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps.initkeys.outputs.sarif-file }}"
    assert "always()" in upload["if"]


def _run_step(tmp_path: Path, cwd: Path, **inputs: str) -> tuple[int, dict[str, str], str, str]:
    """action/run.sh as the runner runs it: inputs as INITKEYS_* variables, GitHub's output
    and summary files, and an ``initkeys`` on PATH that is this checkout's CLI."""
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "initkeys").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m initkeys "$@"\n')
    (shim / "initkeys").chmod(0o755)
    output, summary = tmp_path / "github-output", tmp_path / "step-summary"
    output.write_text("")
    summary.write_text("")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env = subprocess_env(
        PATH=f"{shim}{os.pathsep}{os.environ['PATH']}",
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        RUNNER_TEMP=str(runner_temp),
    )
    env.update({"INITKEYS_" + k.upper(): v for k, v in inputs.items()})
    proc = subprocess.run(
        ["bash", str(RUN_STEP)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    # The scratch folder is gone: the runner's temp holds nothing of ours afterwards.
    assert list(runner_temp.iterdir()) == []
    return proc.returncode, outputs, proc.stdout + proc.stderr, summary.read_text()


def _sarif_results(path: Path) -> list[dict[str, Any]]:
    log = json.loads(path.read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0"
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


def test_action_step_writes_sarif_summary_and_outputs(tmp_path: Path) -> None:
    repo = _tree(tmp_path / "repo", {"infra/main.tf": SETUP_KEY_TF, "ok/main.tf": CONSOLE_ONLY_TF})
    code, outputs, log, summary = _run_step(
        tmp_path, repo, command="iac", paths="infra\nok", sarif_file="reports/iac.sarif"
    )
    assert code == 1, log
    assert outputs == {"exit-code": "1", "sarif-file": "reports/iac.sarif"}
    (result,) = [r for r in _sarif_results(repo / "reports/iac.sarif") if r["level"] == "error"]
    regions = {
        loc["physicalLocation"]["artifactLocation"]["uri"]: loc["physicalLocation"]["region"]
        for loc in result["locations"]
    }
    assert regions["infra/main.tf"]["startLine"] == 1
    assert "alice" in summary and "alice" in log
    assert "Traceback" not in log

    # fail-on-findings: false keeps the step green and still says 1.
    code, outputs, log, _ = _run_step(
        tmp_path, repo, paths="infra", sarif_file="again.sarif", fail_on_findings="false"
    )
    assert code == 0, log
    assert outputs == {"exit-code": "1", "sarif-file": "again.sarif"}

    # A clean tree passes; the SARIF is there with no error result.
    code, outputs, log, _ = _run_step(tmp_path, repo, paths="ok")
    assert code == 0, log
    assert outputs == {"exit-code": "0", "sarif-file": "initkeys.sarif"}
    assert not [r for r in _sarif_results(repo / "initkeys.sarif") if r["level"] == "error"]


def test_action_step_runs_the_audit_too(tmp_path: Path) -> None:
    """command: audit takes no paths; its options come in args (here an offline report)."""
    report = ROOT / "tests" / "data" / "report_normal.csv"
    code, outputs, log, summary = _run_step(
        tmp_path, tmp_path, command="audit", args=f"--credential-report {report}", paths="ignored"
    )
    assert code == 1, log
    assert outputs == {"exit-code": "1", "sarif-file": "initkeys.sarif"}
    assert [r for r in _sarif_results(tmp_path / "initkeys.sarif") if r["level"] == "error"]
    assert "FAIL" in summary


def test_action_step_fails_closed_on_bad_input(tmp_path: Path) -> None:
    repo = _tree(tmp_path / "repo", {"infra/main.tf": SETUP_KEY_TF})
    # A path that does not exist: exit 2 even with fail-on-findings false, no SARIF.
    code, outputs, log, _ = _run_step(tmp_path, repo, paths="nowhere", fail_on_findings="false")
    assert code == 2, log
    assert outputs == {"exit-code": "2", "sarif-file": ""}
    assert len([ln for ln in log.splitlines() if ln.startswith("initkeys: error:")]) == 1, log
    # An unknown command or a bad switch is refused before anything runs.
    code, outputs, log, _ = _run_step(tmp_path, repo, command="remediate")
    assert (code, outputs) == (2, {}), log
    code, outputs, log, _ = _run_step(tmp_path, repo, fail_on_findings="maybe")
    assert (code, outputs) == (2, {}), log


def test_action_step_takes_inputs_as_data(tmp_path: Path) -> None:
    """Shell syntax in paths or args is never run, a glob is never expanded, and a folder
    whose name starts with '-' is a path, not an option."""
    repo = _tree(tmp_path / "repo", {"-infra/main.tf": SETUP_KEY_TF, "x/main.tf": CONSOLE_ONLY_TF})
    code, outputs, log, _ = _run_step(tmp_path, repo, paths="-infra")
    assert (code, outputs["exit-code"]) == (1, "1"), log
    code, _, log, _ = _run_step(tmp_path, repo, paths="$(touch pwned) `touch pwned2` ;touch p3")
    assert code == 2, log
    code, _, log, _ = _run_step(tmp_path, repo, paths="x", args="$(touch pwned4)")
    assert code == 2, log
    code, _, log, _ = _run_step(tmp_path, repo, paths="*")
    assert code == 2 and "initkeys: error: *: no such file" in log, log
    # Nothing ran: only the first (good) run's SARIF was added.
    assert sorted(p.name for p in repo.iterdir()) == ["-infra", "initkeys.sarif", "x"]


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    paths=st.text(st.sampled_from("ab -*?$();`'\"\\\n\t|&<>x.~"), max_size=12),
    args=st.text(st.sampled_from("-- failon warning$();`'\"\\|&*"), max_size=12),
)
def test_fuzz_action_step_inputs(tmp_path: Path, paths: str, args: str) -> None:
    """Any paths and args: the step ends 0, 1 or 2, says the same in its outputs, writes
    nothing but its SARIF, and the tree is unchanged."""
    fuzz_kit.tried("action-step-inputs")
    case = tmp_path / f"case{len(list(tmp_path.glob('case*')))}"
    repo = _tree(case / "repo", {"a/main.tf": SETUP_KEY_TF, "b/main.tf": CONSOLE_ONLY_TF})
    code, outputs, log, _ = _run_step(case, repo, paths=paths, args=args, sarif_file="o.sarif")
    assert code in (0, 1, 2), log
    assert "Traceback" not in log
    if outputs:
        assert outputs["exit-code"] == str(code)
    assert {p.name for p in repo.iterdir()} <= {"a", "b", "o.sarif"}
    assert sorted(p.name for p in (repo / "a").iterdir()) == ["main.tf"]
