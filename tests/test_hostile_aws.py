"""The hostile corpus of tests/data/hostile/aws (see its README): exemption files and
Security Hub's stored findings, each with its exact expected result."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from fuzz_kit import run_main

from initkeys.sources.securityhub import _Unread

CORPUS = Path(__file__).parent / "data" / "hostile" / "aws"
REPORT = str(CORPUS / "report.csv")

# file -> (exit code, {user: pattern of the exemption, None: none}) or (2, message part)
EXPECTED: dict[str, tuple[int, Any]] = {
    "name-case.toml": (1, {"SVC-Legacy": "svc-legacy", "ops-bob": None}),
    "path-case-differs.toml": (1, {"SVC-Legacy": None, "ops-bob": None}),
    "path-exact-name-any-case.toml": (
        0,
        {"SVC-Legacy": "SVC-LEGACY", "ops-bob": "/Contractors/OPS-*"},
    ),
    "negated-class-case.toml": (1, {"SVC-Legacy": None, "ops-bob": None}),
    "unclosed-class.toml": (1, {"SVC-Legacy": None, "ops-bob": None}),
    "star-question-run.toml": (1, {"SVC-Legacy": None, "ops-bob": None}),
    "nul-in-pattern.toml": (1, {"SVC-Legacy": None, "ops-bob": None}),
    "pattern-too-long.toml": (
        2,
        "a user pattern of 1025 characters is longer than any IAM path and name",
    ),
    "control-characters.toml": (2, "(\\x1b]0;owned\\x07\\x1b[2J\\u202esvc): 'reason' is required"),
    "user-not-a-string.toml": (2, "'user' must be a user name or glob pattern"),
    "expires-datetime.toml": (2, "'expires' must be a date"),
    "expires-infinity.toml": (2, "'expires' must be a date"),
    "nested-arrays.toml": (2, "not valid TOML: nested too deeply"),
    "nested-tables.toml": (2, "not valid TOML: nested too deeply"),
    "not-utf8.toml": (2, "cannot read the config file: not UTF-8"),
}


def test_every_corpus_file_has_an_expectation() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix == ".toml"}
    assert files == set(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)


def audit(config: str, cwd: Path | None = None) -> tuple[int, str, str]:
    args = ["audit", "--credential-report", REPORT, "--format", "json"]
    if cwd is None:
        return run_main([*args, "--config", config])
    here = os.getcwd()
    os.chdir(cwd)
    try:
        return run_main(args)
    finally:
        os.chdir(here)


def assert_one_line(code: int, err: str, part: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("initkeys: error: "), err
    assert part in lines[0], err
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in lines[0])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_corpus(name: str) -> None:
    expected_code, expected = EXPECTED[name]
    started = time.monotonic()
    code, out, err = audit(str(CORPUS / name))
    assert time.monotonic() - started < 10  # no pattern or nesting makes matching crawl
    if expected_code == 2:
        assert_one_line(code, err, expected)
        assert out == ""
        return
    assert code == expected_code, err
    findings = json.loads(out)["accounts"][0]["findings"]
    assert {f["status"] for f in findings} == {"FAIL"}  # an exemption never changes a verdict
    got = {f["user"]: (f["exemption"] or {}).get("pattern") for f in findings}
    assert got == expected


def test_config_that_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero", str(tmp_path)):
        started = time.monotonic()
        code, _, err = audit(path)
        assert_one_line(code, err, "the config file must be a regular file")
        assert time.monotonic() - started < 10
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (1 << 20) + b"\n")
    code, _, err = audit(str(big))
    assert_one_line(code, err, "larger than 1 MiB")


def test_an_initkeys_toml_that_is_a_fifo_is_not_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "initkeys.toml")
    code, _, err = audit("", cwd=tmp_path)
    assert_one_line(code, err, "initkeys.toml: the config file must be a regular file")


def test_securityhub_stored_findings_corpus() -> None:
    doc = json.loads((CORPUS / "securityhub-stored.json").read_text())
    unread = _Unread()
    unread.note(
        {
            "ProductFields": {
                "initkeys/User": doc["unread_user"],
                "initkeys/Status": "ERROR",
                "initkeys/Reason": "live-read-failed",
            }
        }
    )
    assert not unread.whole_account
    for case in doc["stored"]:
        assert unread.covers(case["finding"]) is case["kept"], case["what"]
