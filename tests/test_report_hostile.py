"""The hostile credential report corpus (tests/data/hostile/report/README.md), run through
the CLI: exact exit code, every finding, and how every line was accounted for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_kit import assert_one_line_error, run
from fuzz_kit import run_main

CORPUS = Path(__file__).parent / "data" / "hostile" / "report"
ACCOUNT = "123456789012"

ROOT = ("<root_account>", None, "NOT_APPLICABLE", "root-account")
ALICE_FAIL = ("alice", 1, "FAIL", "setup-key-unused")
BOB_PASS = ("bob", 1, "PASS", "key-used")
CAROL_PASS = ("carol", None, "PASS", "no-access-keys")
REDACTED_NOTE = "is not a valid AWS account id (12 digits)"


def error(user: str) -> tuple[str, None, str, str]:
    return (user, None, "ERROR", "invalid-row")


def fail(user: str) -> tuple[str, int, str, str]:
    return (user, 1, "FAIL", "setup-key-unused")


@dataclass(frozen=True)
class Judged:
    """An audited file: exit code, findings in order, (read, judged, unreadable), and, per
    ERROR user, a piece of its message."""

    code: int
    findings: tuple[tuple[str, int | None, str, str], ...]
    lines: tuple[int, int, int]
    why: tuple[tuple[str, str], ...] = ()
    account: str = ACCOUNT
    redacted: bool = False


@dataclass(frozen=True)
class Refused:
    """A file refused whole: exit 2 with one line holding ``hint``."""

    hint: str


EXPECTED: dict[str, Judged | Refused] = {
    "stray_quote_before_50_setup_keys.csv": Judged(
        1,
        (ROOT, error("line 3"), *(fail(f"setup{i:02d}") for i in range(50))),
        (52, 51, 1),
        (("line 3", "line 3 opens a quoted field that does not end on the line"),),
    ),
    "quoted_field_spans_lines.csv": Judged(
        1,
        (ROOT, ALICE_FAIL, error("line 4"), error("line 5"), BOB_PASS),
        (5, 3, 2),
        (
            ("line 4", "line 4 opens a quoted field"),
            ("line 5", "line 5 holds a quote character inside a field"),
        ),
    ),
    "unterminated_quote_at_eof.csv": Judged(
        1,
        (ROOT, ALICE_FAIL, BOB_PASS, CAROL_PASS, error("line 6")),
        (5, 4, 1),
        (("line 6", "line 6 opens a quoted field"),),
    ),
    "short_and_long_rows.csv": Judged(
        1,
        (ROOT, ALICE_FAIL, error("short"), error("long"), BOB_PASS),
        (5, 3, 2),
        (
            ("short", "line 4 has 21 fields, the header has 22"),
            ("long", "line 5 has 23 fields, the header has 22"),
        ),
    ),
    "nul_byte.csv": Judged(
        1,
        (ROOT, ALICE_FAIL, error("line 4"), BOB_PASS),
        (4, 3, 1),
        (("line 4", "line 4 holds a NUL character"),),
    ),
    "field_200kb.csv": Judged(
        1,
        (ROOT, ALICE_FAIL, error("line 4"), BOB_PASS),
        (4, 3, 1),
        (("line 4", "line 4 is longer than 131,072 characters"),),
    ),
    "quote_inside_field.csv": Judged(
        1,
        (ROOT, error("line 3"), BOB_PASS),
        (3, 2, 1),
        (("line 3", "line 3 holds a quote character inside a field"),),
    ),
    "lone_cr_inside_row.csv": Judged(
        1,
        (ROOT, error("alice"), error("N/A"), BOB_PASS),
        (4, 2, 2),
        (("alice", "line 3 has 4 fields"), ("N/A", "line 4 has 18 fields")),
    ),
    "role_arn_row.csv": Judged(
        1,
        (ROOT, error("deployer"), ALICE_FAIL),
        (3, 2, 1),
        (("deployer", "'arn:aws:iam::123456789012:role/deployer' is not an IAM user ARN"),),
    ),
    "overflow_timestamps.csv": Judged(
        1,
        (
            ROOT,
            ALICE_FAIL,
            error("low-created"),
            error("high-created"),
            error("low-rotated"),
            error("high-rotated"),
            error("high-used"),
            error("low-used-2"),
            fail("high-changed"),
            BOB_PASS,
        ),
        (10, 4, 6),
        (
            ("low-created", "line 4: user_creation_time '0001-01-01T00:00:00+05:00' is not a"),
            ("high-created", "line 5: user_creation_time '9999-12-31T23:59:59-05:00' is not a"),
            ("low-rotated", "access_key_1_last_rotated '0001-01-01T00:00:00+05:00' is not a"),
            ("high-rotated", "access_key_1_last_rotated '9999-12-31T23:59:59-05:00' is not a"),
            ("high-used", "access_key_1_last_used_date '9999-12-31T23:59:59-05:00' is not a"),
            ("low-used-2", "access_key_2_last_used_date '0001-01-01T00:00:00+05:00' is not a"),
        ),
    ),
    "duplicate_header_column.csv": Refused("the header names column 'ARN' twice"),
    "header_unterminated_quote.csv": Refused("the header (line 1) opens a quoted field"),
    "only_broken_rows.csv": Refused("not a credential report: no row has an IAM user ARN"),
    "redacted_two_accounts.csv": Refused(
        "rows from more than one account (aws:XXXXXXXXXXXX and aws:ACCOUNT)"
    ),
    "redacted_x.csv": Judged(
        1, (ROOT, ALICE_FAIL, BOB_PASS), (3, 3, 0), account="XXXXXXXXXXXX", redacted=True
    ),
    "redacted_ten_digits.csv": Judged(
        1, (ROOT, ALICE_FAIL, BOB_PASS), (3, 3, 0), account="0123456789", redacted=True
    ),
    "redacted_word.csv": Judged(
        1, (ROOT, ALICE_FAIL, BOB_PASS), (3, 3, 0), account="<redacted>", redacted=True
    ),
    "root_name_user_arn.csv": Judged(1, (ROOT, fail("mallory"), BOB_PASS), (3, 3, 0)),
    "user_name_root_arn.csv": Judged(
        0, (ROOT, ("alice", None, "NOT_APPLICABLE", "root-account"), BOB_PASS), (3, 3, 0)
    ),
    "cr_line_ends.csv": Judged(1, (ROOT, ALICE_FAIL, BOB_PASS, CAROL_PASS), (4, 4, 0)),
    "blank_lines_between_rows.csv": Judged(1, (ROOT, ALICE_FAIL, BOB_PASS), (3, 3, 0)),
    "all_fields_quoted.csv": Judged(1, (ROOT, ALICE_FAIL, BOB_PASS, CAROL_PASS), (4, 4, 0)),
    "formula_and_escape_names.csv": Judged(
        1, (ROOT, fail("=HYPERLINK(1)"), fail("esc\x1b[31mred"), BOB_PASS), (4, 4, 0)
    ),
    "header_500_columns.csv": Judged(1, (ROOT, ALICE_FAIL), (2, 2, 0)),
    "cli_deep.json": Refused("JSON nested deeper than 200 levels"),
    "cli_huge_number.json": Refused("a number of 100000 digits"),
    "cli_nan.json": Refused("NaN is not a JSON number"),
    "cli_lone_surrogate.json": Refused("a string holds a lone UTF-16 surrogate"),
    "cli_generated_time_overflow.json": Refused(
        "GeneratedTime '9999-12-31T23:59:59-05:00' is not a timestamp"
    ),
    "cli_generated_time_number.json": Refused("GeneratedTime 1e+300 is not a timestamp"),
    "cli_content_overflow_row.json": Judged(
        1,
        (ROOT, ALICE_FAIL, error("old")),
        (3, 2, 1),
        (("old", "line 4: user_creation_time '0001-01-01T00:00:00+05:00' is not a timestamp"),),
    ),
}


def test_every_corpus_file_has_an_expectation_and_a_readme_entry() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.name != "README.md"}
    assert files == set(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    for name in files:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_report(name: str) -> None:
    expected = EXPECTED[name]
    code, out, err = run_main(
        ["audit", "--credential-report", str(CORPUS / name), "--format", "json"]
    )
    assert "Traceback" not in err
    if isinstance(expected, Refused):
        assert (code, out) == (2, ""), (code, err)
        (line,) = err.strip().splitlines()
        assert line.startswith(f"initkeys: error: {name}: "), line
        assert expected.hint in line, line
        return
    assert code == expected.code, err
    (account,) = json.loads(out)["accounts"]
    assert account["account_id"] == expected.account
    found = tuple((f["user"], f["key_slot"], f["status"], f["reason"]) for f in account["findings"])
    assert found == expected.findings
    read, judged, unreadable = expected.lines
    assert account["report_lines"] == {"read": read, "judged": judged, "unreadable": unreadable}
    # Every line accounted for: one ERROR finding per unreadable line, findings for the rest.
    assert sum(f["reason"] == "invalid-row" for f in account["findings"]) == unreadable
    messages = {f["user"]: f["message"] for f in account["findings"] if f["status"] == "ERROR"}
    assert {user for user, _ in expected.why} <= set(messages)
    for user, why in expected.why:
        assert why in messages[user], messages[user]
    if expected.redacted:
        (note,) = account["notes"]
        assert f"account id {expected.account!r} {REDACTED_NOTE}" in note
        assert account["findings"][1]["arn"].startswith(f"arn:aws:iam::{expected.account}:")
    else:
        assert account["notes"] == []


def test_the_stray_quote_report_fails_in_a_real_process() -> None:
    """The issue's reproduction, as a user runs it: the 50 keys are listed and the run fails."""
    proc = run(
        ["audit", "--credential-report", str(CORPUS / "stray_quote_before_50_setup_keys.csv")]
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count("setup-key-unused") == 50
    assert "report lines: 52 read · 51 judged · 1 unreadable" in proc.stdout
    assert "line 3 opens a quoted field" in proc.stdout


def test_deep_json_is_one_line_in_a_real_process() -> None:
    proc = run(["audit", "--credential-report", str(CORPUS / "cli_deep.json")])
    line = assert_one_line_error(proc, 2)
    assert "JSON nested deeper than 200 levels" in line


def test_redaction_note_in_text() -> None:
    code, out, _ = run_main(["audit", "--credential-report", str(CORPUS / "redacted_word.csv")])
    assert code == 1
    assert "Account <redacted>" in out
    assert "note: account id '<redacted>' is not a valid AWS account id (12 digits)" in out


def test_allow_errors_keeps_every_error_row() -> None:
    """--allow-errors: exit 0 when nothing FAILs, and the ERROR rows are still listed."""
    code, out, _ = run_main(
        [
            "audit",
            "--credential-report",
            str(CORPUS / "quote_inside_field.csv"),
            "--format",
            "json",
            "--allow-errors",
        ]
    )
    assert code == 0
    (account,) = json.loads(out)["accounts"]
    assert [f["user"] for f in account["findings"] if f["status"] == "ERROR"] == ["line 3"]


FORMATS = ["text", "json", "csv", "markdown", "html", "junit", "sarif", "asff", "ocsf"]


@pytest.mark.parametrize("output", FORMATS)
def test_every_format_ends_cleanly_on_every_hostile_report(output: str) -> None:
    """The same exit code in every format; a refused file is one line on stderr."""
    for name, expected in sorted(EXPECTED.items()):
        code, _, err = run_main(
            ["audit", "--credential-report", str(CORPUS / name), "--format", output]
        )
        assert "Traceback" not in err, (name, err)
        assert code == (2 if isinstance(expected, Refused) else expected.code), (name, err)
        if code == 2:
            assert len(err.strip().splitlines()) == 1, (name, err)
