"""What the package ships and pins: the emulator's real import error, the HTML page's
style and script as package files, and dependency pins that agree with each other."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from cli_kit import assert_one_line_error, subprocess_env

from initkeys.demo import emulator_unavailable
from initkeys.formats.html import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parent.parent

# A moto that is installed but cannot be imported (as under an incompatible
# release): every import of moto or its modules raises this ImportError.
_BROKEN_MOTO = """
import sys

class BrokenMoto:
    def find_spec(self, name, path=None, target=None):
        if name == "moto" or name.startswith("moto."):
            raise ImportError("boom: cannot import name 'utcnow'\\nfrom 'moto.core.utils'")
        return None

sys.meta_path.insert(0, BrokenMoto())
"""


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BROKEN_MOTO + code],
        env=subprocess_env(),
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- the emulator's import error ----------------------------------------------------


def test_demo_shows_the_real_import_error() -> None:
    proc = _run_python("from initkeys.cli import main\nmain(['audit', '--demo'])\n")
    line = assert_one_line_error(proc, 2)
    # The import's own reason, on one line, then the fix.
    assert "ImportError: boom: cannot import name 'utcnow' from 'moto.core.utils'" in line
    assert line.endswith("pip install 'initkeys[demo]' installs the tested moto")


def test_emulator_process_shows_the_real_import_error() -> None:
    proc = _run_python("from initkeys.demo.emulator import main\nsys.exit(main(['--port', '0']))\n")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "boom: cannot import name 'utcnow'" in lines[0], proc.stderr


def test_import_error_text_is_one_bounded_line() -> None:
    error = emulator_unavailable(ModuleNotFoundError("No module named 'moto'"))
    assert str(error) == (
        "the demo needs the AWS emulator, which cannot be imported "
        "(ModuleNotFoundError: No module named 'moto'): "
        "pip install 'initkeys[demo]' installs the tested moto"
    )
    long = str(emulator_unavailable(ImportError("x\r\n" * 1000)))
    assert "\n" not in long and "\r" not in long
    assert len(long) <= 300 + 120 and "...)" in long


# --- the HTML page's style and script -----------------------------------------------


def _static(name: str) -> str:
    return (resources.files("initkeys.formats") / "static" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@pytest.mark.parametrize(("name", "directive"), [("report.css", "style"), ("report.js", "script")])
def test_page_style_and_script_are_package_files(name: str, directive: str) -> None:
    text = _static(name)
    # The page is pure ASCII, so is what it inlines.
    assert text.isascii() and text.endswith("\n") and "\r" not in text
    # The CSP allows exactly the file's text, after the newline that follows its tag.
    assert f"{directive}-src 'sha256-{_sha256(chr(10) + text)}';" in CONTENT_SECURITY_POLICY


def test_guard_zip_leaves_out_the_html_report() -> None:
    # formats.html reads its files when imported; the Lambda zip carries only modules.
    from initkeys.guard.package import package_files

    names = {name for name, _ in package_files()}
    assert "initkeys/formats/html.py" not in names
    assert "initkeys/formats/json_format.py" in names


# --- the fuzz-count summary under pytest-xdist --------------------------------------

_COUNTING_TESTS = {
    "test_one.py": (
        "import fuzz_kit\n"
        "def test_a():\n    fuzz_kit.tried('alpha')\n    fuzz_kit.tried('alpha')\n"
        "def test_b():\n    fuzz_kit.tried('beta')\n"
    ),
    "test_two.py": (
        "import fuzz_kit\n"
        "def test_c():\n    fuzz_kit.tried('alpha')\n"
        "def test_d():\n    fuzz_kit.tried('beta')\n    fuzz_kit.tried('gamma')\n"
    ),
}


@pytest.mark.parametrize("workers", [["-n", "2", "--dist", "loadfile"], ["-p", "no:xdist"]])
def test_fuzz_counts_are_summed_over_workers(tmp_path: Path, workers: list[str]) -> None:
    """The summary line counts every worker's inputs (and still works without xdist)."""
    pytest.importorskip("xdist")
    here = Path(__file__).resolve().parent
    for name in ("conftest.py", "fuzz_kit.py"):
        shutil.copy(here / name, tmp_path / name)
    for name, text in _COUNTING_TESTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        # Without hypothesis's plugin (these tests do not use it): it costs each of the
        # run's processes a second of CPU at start.
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider"),
            *("-p", "no:hypothesispytest", *workers, str(tmp_path)),
        ],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fuzz inputs tried: 6 (alpha 3, beta 2, gamma 1)" in proc.stdout, proc.stdout


# --- dependency pins ----------------------------------------------------------------


def _pyproject() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    with (ROOT / "pyproject.toml").open("rb") as f:
        return dict(tomllib.load(f))


def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt pins exact versions only: {line!r}"
            pins[_canonical(name)] = version.strip()
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_demo_and_test_extras_pin_the_same_emulator() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    demo = [r for r in extras["demo"] if r.startswith("moto")]
    test = [r for r in extras["test"] if r.startswith("moto")]
    assert demo == test == ["moto[server]>=5.2.5,<5.3"]


def test_lint_and_type_tools_are_dev_only() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    names = {_canonical(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in extras["dev"]}
    assert names == {"ruff", "mypy"}
    assert not any(r.startswith(("ruff", "mypy")) for r in extras["test"])


def test_constraints_satisfy_every_declared_range() -> None:
    requirements = pytest.importorskip("packaging.requirements")
    project = _pyproject()["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared.extend(extra)
    pins = _constraints()
    checked = 0
    for text in declared:
        requirement = requirements.Requirement(text)
        pin = pins.get(_canonical(requirement.name))
        if pin is not None:
            assert requirement.specifier.contains(pin, prereleases=True), (text, pin)
            checked += 1
    # Every direct requirement (tomli only exists below Python 3.11) is pinned.
    unpinned = {
        requirements.Requirement(t).name
        for t in declared
        if _canonical(requirements.Requirement(t).name) not in pins
    }
    assert unpinned <= {"tomli"}, unpinned
    assert checked == sum(1 for t in declared if not t.startswith("tomli"))
