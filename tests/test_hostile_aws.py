"""The hostile corpus of tests/data/hostile/aws (see its README): exemption files and
Security Hub's stored findings, each with its exact expected result."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from fuzz_kit import assert_clean_end, run_main, tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.sinks.securityhub import _Unread

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


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_PATTERN = st.one_of(
    _TEXT,
    st.text(alphabet="svcSVC-legacyLEGACYopsbOPSB/*?[]!Contractors", max_size=30),
)
_EXPIRES = st.one_of(
    st.none(),
    st.sampled_from(["2020-01-01", "2999-12-31", "0001-01-01", "9999-12-31", "soon", "inf"]),
    st.dates().map(str),
)


def _entry(user: str, reason: str, expires: str | None, bare: bool) -> str:
    lines = ["[[exempt]]", f"user = {json.dumps(user)}", f"reason = {json.dumps(reason)}"]
    if expires is not None:
        lines.append(f"expires = {expires if bare else json.dumps(expires)}")
    return "\n".join(lines) + "\n"


_CONFIG = st.one_of(
    st.text(max_size=200),  # anything at all
    st.lists(st.builds(_entry, _PATTERN, _TEXT, _EXPIRES, st.booleans()), max_size=4).map(
        "\n".join
    ),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_CONFIG)
def test_fuzz_exemption_config(text: str) -> None:
    """Any initkeys.toml: exit 0/1 with both users judged FAIL (an exemption never changes
    a verdict, and exit 0 only when both are exempt), or exit 2 with one line."""
    tried("exemption-config")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "initkeys.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, out, err = audit(str(path))
    assert_clean_end(code, err)
    if code == 2:
        return
    findings = json.loads(out)["accounts"][0]["findings"]
    assert sorted(f["user"] for f in findings) == ["SVC-Legacy", "ops-bob"]
    assert {f["status"] for f in findings} == {"FAIL"}
    assert (code == 0) is all(f["exemption"] is not None for f in findings)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_STORED = st.fixed_dictionaries(
    {},
    optional={
        "ProductFields": st.one_of(
            _JSON, st.dictionaries(st.sampled_from(["initkeys/User", "initkeys/Status"]), _JSON)
        ),
        "Resources": st.one_of(
            _JSON,
            st.lists(
                st.fixed_dictionaries(
                    {"Type": st.sampled_from(["AwsIamUser", "AwsIamAccessKey"]), "Id": _JSON}
                ),
                max_size=3,
            ),
        ),
    },
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_STORED, st.text(min_size=1, max_size=10))
def test_fuzz_securityhub_stored_findings(stored: dict[str, Any], user: str) -> None:
    """Any shape Security Hub may hand back: deciding whether to keep it never fails, a
    finding of the unread user (in any case) is kept, and nothing is kept when no user
    ended in ERROR."""
    tried("securityhub-stored")
    assert _Unread().covers(stored) is False
    unread = _Unread()
    unread.note({"ProductFields": {"initkeys/User": user, "initkeys/Status": "ERROR"}})
    unread.covers(stored)
    fields = stored.get("ProductFields")
    if isinstance(fields, dict) and fields.get("initkeys/User") == user.swapcase():
        assert unread.covers(stored)
