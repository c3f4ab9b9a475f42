"""``initkeys iac --demo``: the sample tree shipped in the package (src/initkeys/demo_iac),
its findings pinned, every format, the refusal of PATHs with it, names shown as ``demo/``
wherever it is installed, and the sample shipped in the wheel but not in the guard's zip."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cli_kit import assert_one_line_error, run, subprocess_env
from fuzz_kit import run_main

from initkeys.formats.iac import IAC_FORMAT_NAMES, file_name
from initkeys.iac_cli import demo_tree

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "src" / "initkeys" / "demo_iac"
SARIF = jsonschema.Draft4Validator(
    json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
)
REPORT = jsonschema.Draft202012Validator(
    json.loads((ROOT / "src/initkeys/schemas/iac-report-v1.json").read_text(encoding="utf-8"))
)

# (status, reason, user, configuration, where the user (or the note) is), in the
# report's order: configurations in name order, users in their file's order.
EXPECTED = [
    (
        "NOT_APPLICABLE",
        "iac-programmatic-user",
        "backup-agent",
        "demo/cloudformation/backup-agent.json",
        "demo/cloudformation/backup-agent.json:5",
    ),
    (
        "FAIL",
        "iac-setup-key",
        "grace",
        "demo/cloudformation/helpdesk.yaml",
        "demo/cloudformation/helpdesk.yaml:10",
    ),
    (
        "PASS",
        "iac-console-user-no-key",
        "heidi",
        "demo/cloudformation/helpdesk.yaml",
        "demo/cloudformation/helpdesk.yaml:23",
    ),
    (
        "FAIL",
        "iac-setup-key",
        "contractor-carol",
        "demo/terraform/contractors",
        "demo/terraform/contractors/main.tf.json:9",
    ),
    (
        "FAIL",
        "iac-setup-key",
        "alice",
        "demo/terraform/onboarding",
        "demo/terraform/onboarding/main.tf:4",
    ),
    (
        "PASS",
        "iac-console-user-no-key",
        "bob",
        "demo/terraform/onboarding",
        "demo/terraform/onboarding/main.tf:20",
    ),
    (
        "NOT_APPLICABLE",
        "iac-programmatic-user",
        "ci-deploy",
        "demo/terraform/onboarding",
        "demo/terraform/onboarding/main.tf:30",
    ),
    (
        "WARNING",
        "iac-maybe-setup-key",
        "dave",
        "demo/terraform/onboarding",
        "demo/terraform/onboarding/variables.tf:8",
    ),
    (
        "WARNING",
        "iac-not-scanned",
        "",
        "demo/terraform/platform",
        None,
    ),
]


def _demo_json(*extra: str) -> dict[str, Any]:
    code, out, err = run_main(["iac", "--demo", "--format", "json", *extra])
    assert code == 1, err  # three FAILs
    report: dict[str, Any] = json.loads(out)
    return report


def _where(finding: dict[str, Any]) -> str | None:
    at = finding["user_at"]
    return None if at is None else f"{at['path']}:{at['line']}"


def test_demo_findings_are_pinned() -> None:
    report = _demo_json()
    REPORT.validate(report)
    found = [
        (f["status"], f["reason"], f["user"], f["configuration"], _where(f))
        for f in report["findings"]
    ]
    assert found == EXPECTED
    assert report["paths"] == ["demo"]
    assert report["files_read"] == 6 and report["skipped"] == 0
    assert report["summary"] == {
        "FAIL": 3,
        "ERROR": 0,
        "WARNING": 2,
        "PASS": 2,
        "NOT_APPLICABLE": 2,
    }
    assert report["complete"] is True  # the deliberate gap is a WARNING, not an ERROR
    by_user = {f["user"]: f for f in report["findings"]}
    assert by_user["dave"]["conditions"] == [
        "count = var.with_key ? 1 : 0 (var.with_key has no default)"
    ]
    assert by_user["alice"]["password_at"] == [
        {"path": "demo/terraform/onboarding/main.tf", "line": 10}
    ]
    assert by_user["alice"]["key_at"] == [{"path": "demo/terraform/onboarding/main.tf", "line": 15}]
    assert "git::https://git.example.com/infra/iam-team.git" in by_user[""]["note"]


def test_demo_fails_on_warning_and_passes_when_the_setup_keys_are_exempt() -> None:
    # The options of a real scan work on the demo as on any tree.
    assert run_main(["iac", "--demo", "--fail-on", "WARNING"])[0] == 1
    exempt = ["--exempt-user", "alice", "--exempt-user", "grace", "--exempt-user", "contractor-*"]
    assert run_main(["iac", "--demo", *exempt])[0] == 0
    assert run_main(["iac", "--demo", *exempt, "--fail-on", "WARNING"])[0] == 1


@pytest.mark.parametrize("name", IAC_FORMAT_NAMES)
def test_every_format_renders_the_demo(name: str) -> None:
    code, out, err = run_main(["iac", "--demo", "--format", name])
    assert code == 1, err
    assert "Traceback" not in err
    # The sample's names, never where it is installed.
    assert "demo/terraform/onboarding" in out
    assert str(demo_tree()) not in out and "demo_iac" not in out
    for user in ("alice", "grace", "contractor-carol"):
        assert user in out, name
    if name == "sarif":
        sarif = json.loads(out)
        SARIF.validate(sarif)
        uris = {
            loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in sarif["runs"][0]["results"]
            for loc in result["locations"]
        }
        assert "demo/terraform/onboarding/main.tf" in uris


def test_every_format_at_once_into_a_folder(tmp_path: Path) -> None:
    code, out, err = run_main(
        ["iac", "--demo", "--format", ",".join(IAC_FORMAT_NAMES), "--output-dir", str(tmp_path)]
    )
    assert code == 1, err
    assert out == ""
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(file_name(name) for name in IAC_FORMAT_NAMES)
    for path in tmp_path.iterdir():
        assert "demo/" in path.read_text(encoding="utf-8"), path.name


def test_the_demo_reads_the_same_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names (and so finding ids) do not depend on the working folder or the install."""
    first = _demo_json()
    monkeypatch.chdir(tmp_path)
    second = _demo_json()
    first.pop("generated_at"), second.pop("generated_at")
    assert first == second


def test_the_note_says_where_the_sample_is() -> None:
    code, _, err = run_main(["iac", "--demo"])
    assert code == 1
    assert err == f"initkeys: note: demo/ is the sample tree at {demo_tree()}\n"


def test_demo_with_paths_is_refused() -> None:
    proc = run(["iac", "--demo", "."])
    line = assert_one_line_error(proc, 2)
    assert line == (
        "initkeys: error: --demo scans the sample tree shipped with initkeys: give no PATH with it"
    )
    assert proc.stdout == ""


def test_without_demo_a_path_is_still_required() -> None:
    # The message click gave when PATH was a required argument, unchanged.
    line = assert_one_line_error(run(["iac"]), 2)
    assert line == "initkeys: error: Missing argument 'PATH...'. (see 'initkeys iac --help')"


def test_the_sample_readme_lists_every_finding() -> None:
    """src/initkeys/demo_iac/README.md's table is what the scan finds (users and verdicts)."""
    rows = re.findall(
        r"^\| `[^`]+` \| (?:`([^`]+)`|a module)[^|]*\| (\w+) `([a-z-]+)` \|$",
        (SAMPLE / "README.md").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    documented = sorted((status, reason, user) for user, status, reason in rows)
    assert documented == sorted((status, reason, user) for status, reason, user, *_ in EXPECTED)


def test_the_sample_is_package_data() -> None:
    """Found through importlib.resources, as an installed initkeys finds it; every file of
    it is one the wheel takes (hatchling leaves out what .gitignore ignores)."""
    assert demo_tree() == SAMPLE
    files = sorted(p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "cloudformation/backup-agent.json",
        "cloudformation/helpdesk.yaml",
        "terraform/contractors/main.tf.json",
        "terraform/onboarding/main.tf",
        "terraform/onboarding/variables.tf",
        "terraform/platform/main.tf",
    ]
    pathspec = pytest.importorskip("pathspec")
    ignored = pathspec.GitIgnoreSpec.from_lines(
        (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    )
    assert not [f for f in files if ignored.match_file(f"src/initkeys/demo_iac/{f}")]


def test_the_wheel_carries_the_sample(tmp_path: Path) -> None:
    """Built as `pip wheel` would build it, where the build backend is installed."""
    backend = pytest.importorskip("hatchling.build")
    wheel = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import {backend.__name__} as b; print(b.build_wheel({str(tmp_path)!r}))",
        ],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wheel.returncode == 0, wheel.stderr
    names = zipfile.ZipFile(tmp_path / wheel.stdout.strip().splitlines()[-1]).namelist()
    assert "initkeys/demo_iac/terraform/onboarding/main.tf" in names
    assert "initkeys/demo_iac/cloudformation/helpdesk.yaml" in names


def test_the_guard_zip_leaves_the_sample_out(tmp_path: Path) -> None:
    from initkeys.guard.package import EXCLUDED_DIRECTORIES, package_files

    assert "demo_iac/" in EXCLUDED_DIRECTORIES
    assert not [name for name, _ in package_files() if name.startswith("initkeys/demo_iac/")]
    # Even a module someone adds to the sample folder stays out of the Lambda zip.
    (tmp_path / "demo_iac").mkdir()
    (tmp_path / "demo_iac" / "helper.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "model.py").write_text("x = 1\n", encoding="utf-8")
    assert [name for name, _ in package_files(tmp_path)] == ["initkeys/model.py"]
