"""The hostile corpus of tests/data/hostile/cli (see its README.md): every file's exact
exit code and findings, with and without --allow-errors, in every format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fuzz_kit import assert_clean_end, run_main

from initkeys.formats import FORMAT_NAMES, unsafe_pattern

CORPUS = Path(__file__).parent / "data" / "hostile" / "cli"
# Layout line breaks are ours; anything else unsafe in the output came from the data.
RAW = unsafe_pattern()

# file → (summary without --allow-errors, exit code, exit code with --allow-errors)
EXPECTED: dict[str, tuple[dict[str, int], int, int]] = {
    "error-only.csv": ({"ERROR": 1}, 1, 0),
    "error-and-warning.csv": ({"ERROR": 1, "WARNING": 1}, 1, 0),
    "error-and-fail.csv": ({"FAIL": 1, "ERROR": 1}, 1, 1),
    "error-with-escapes.csv": ({"ERROR": 1}, 1, 0),
    "terminal-escapes.csv": ({"FAIL": 8}, 1, 1),
}


def _audit(name: str, *args: str) -> tuple[int, str, str]:
    return run_main(["audit", "--credential-report", str(CORPUS / name), *args])


def test_every_corpus_file_has_an_expectation_and_a_readme_row() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.csv"))
    assert files == sorted(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("allow_errors", [False, True])
def test_exit_code_and_findings(name: str, allow_errors: bool) -> None:
    counts, code, allowed_code = EXPECTED[name]
    args = ["--format", "json", *(["--allow-errors"] if allow_errors else [])]
    exit_code, out, err = _audit(name, *args)
    assert_clean_end(exit_code, err)
    assert exit_code == (allowed_code if allow_errors else code), err
    doc = json.loads(out)
    assert {k: v for k, v in doc["summary"].items() if v} == counts
    assert doc["complete"] is ("ERROR" not in counts)
    assert doc["allow_errors"] is allow_errors
    for finding in doc["accounts"][0]["findings"]:
        if finding["status"] == "ERROR":
            assert finding["reason"] == "invalid-row"


@pytest.mark.parametrize("allow_errors", [False, True])
def test_error_only_report_says_incomplete_not_no_setup_keys(allow_errors: bool) -> None:
    code, out, _ = _audit("error-only.csv", *(["--allow-errors"] if allow_errors else []))
    assert code == (0 if allow_errors else 1)
    lines = out.splitlines()
    note = "INCOMPLETE: 1 finding is ERROR: what was not seen is not a pass"
    if allow_errors:
        note += " (--allow-errors: the exit code ignores it)"
    assert lines[2] == lines[-1] == note
    assert "No setup keys found" not in out
    assert "1 finding could not be judged (ERROR, below): no verdict on those users." in out


@pytest.mark.parametrize("allow_errors", [False, True])
def test_junit_of_error_and_warning_fails_as_the_exit_code(allow_errors: bool) -> None:
    args = ["--format", "junit", *(["--allow-errors"] if allow_errors else [])]
    code, out, _ = _audit("error-and-warning.csv", *args)
    failing = 'errors="0"' not in out.split("\n")[1] or 'failures="0"' not in out.split("\n")[1]
    assert failing is (code == 1)
    assert code == (0 if allow_errors else 1)


@pytest.mark.parametrize("name", ["terminal-escapes.csv", "error-with-escapes.csv"])
@pytest.mark.parametrize("output_format", FORMAT_NAMES)
def test_no_format_writes_control_characters_raw(name: str, output_format: str) -> None:
    code, out, err = _audit(name, "--format", output_format)
    assert code == 1, err
    assert out
    assert {c for c in RAW.findall(out) if c != "\n"} == set()


def test_csv_cells_are_visible_escapes_and_inert() -> None:
    code, out, _ = _audit("terminal-escapes.csv", "--format", "csv")
    assert code == 1
    users = [r["user"] for r in csv.DictReader(io.StringIO(out))]
    assert users == [
        "esc\\x1b]0;owned\\x07title",
        "clear\\x1b[2J\\x1b[Hscreen",
        "c1\\x9b31mred\\x85nel",
        "bidi\\u202etxt.exe\\u202c",
        "iso\\u2067late\\u2069",
        "zero\\u200bwidth\\u200d\\ufeff",
        "tag\\U000e0041\\U000e0042hidden",
        "'=cmd|'/C calc'!A0",
    ]
    assert len(out.splitlines()) == 1 + 8  # the header and one line per record


def test_error_message_escapes_in_text() -> None:
    _, out, _ = _audit("error-with-escapes.csv")
    assert "'\\x1b]0;owned\\x07\\x1b[2J\\u202eetad' is not a timestamp" in out
