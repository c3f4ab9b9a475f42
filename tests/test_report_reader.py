"""The credential report reader's line-by-line rules (issue 10): each physical line is
parsed alone, every line is accounted for, redacted reports are judged, the root is
known by its ARN, duplicate header columns are refused, and no bounded date can make
the evaluator's arithmetic overflow."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cli_kit import run
from fuzz_kit import run_main
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.durations import MAX_SETUP_WINDOW
from initkeys.errors import InputError
from initkeys.evaluate import evaluate_report, judge_user, search_ranges
from initkeys.humanize import describe_gap
from initkeys.model import AccessKey, IamUser, Mode, Reason, ReportLines, Settings, Status
from initkeys.sources import parse_credential_report, read_credential_report
from initkeys.sources.credential_report import MAX_LINE, is_account_id, parse_iam_arn
from initkeys.timeutil import EARLIEST, LATEST

ACCOUNT = "123456789012"
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_changed,"
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date"
)
NO_KEY = "false,N/A,N/A"


def row(name: str, arn: str | None = None, key: str | None = None) -> str:
    arn = arn or f"arn:aws:iam::{ACCOUNT}:user/{name}"
    key = key or "true,2026-03-02T09:00:05+00:00,N/A"  # an unused setup key
    return f"{name},{arn},2026-03-02T09:00:00+00:00,true,N/A,{key},{NO_KEY}"


ROOT = f"<root_account>,arn:aws:iam::{ACCOUNT}:root,N/A,not_supported,N/A,{NO_KEY},{NO_KEY}"


def report(*lines: str, end: str = "\n") -> str:
    return end.join((HEADER, *lines)) + end


def verdicts(text: str) -> list[tuple[str, int | None, Status, Reason]]:
    audit = evaluate_report(parse_credential_report(text, "r.csv"), Settings())
    return [(f.user, f.key_slot, f.status, f.reason) for f in audit.findings]


def fail(name: str) -> tuple[str, int, Status, Reason]:
    return (name, 1, Status.FAIL, Reason.SETUP_KEY_UNUSED)


def error(name: str) -> tuple[str, None, Status, Reason]:
    return (name, None, Status.ERROR, Reason.INVALID_ROW)


ROOT_NA = ("<root_account>", None, Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT)


# --- one line, one verdict ----------------------------------------------------------------------


def test_a_stray_quote_costs_its_line_only() -> None:
    text = report(ROOT, '"' + row("mallory"), *(row(f"u{i}") for i in range(5)))
    parsed = parse_credential_report(text, "r.csv")
    assert parsed.lines == ReportLines(read=7, judged=6, unreadable=1)
    assert parsed.users[1].problem == (
        "line 3 opens a quoted field that does not end on the line "
        "(a credential report field never spans lines)"
    )
    assert verdicts(text) == [ROOT_NA, error("line 3"), *(fail(f"u{i}") for i in range(5))]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_line_numbers_with_every_line_end(end: str) -> None:
    text = report(ROOT, row("alice"), "", row("x").replace(",", ",,", 1), row("bob"), end=end)
    parsed = parse_credential_report(text, "r.csv")
    (bad,) = [u for u in parsed.users if u.problem]
    assert bad.problem == "line 5 has 12 fields, the header has 11"
    assert parsed.lines == ReportLines(read=4, judged=3, unreadable=1)


def test_a_quoted_field_is_read_when_it_ends_on_its_line() -> None:
    quoted = ",".join(f'"{field}"' for field in row("alice").split(","))
    assert verdicts(report(ROOT, quoted)) == [ROOT_NA, fail("alice")]


def test_a_user_name_with_a_comma_quoted_is_read() -> None:
    """IAM allows ``,`` in user names; a quoted name is one field."""
    line = (
        f'"a,b","arn:aws:iam::{ACCOUNT}:user/a,b",2026-03-02T09:00:00+00:00,true,N/A,'
        f"true,2026-03-02T09:00:05+00:00,N/A,{NO_KEY}"
    )
    assert verdicts(report(ROOT, line)) == [ROOT_NA, fail("a,b")]


def test_blank_lines_are_not_data_lines() -> None:
    parsed = parse_credential_report(report("", ROOT, "  ", "\t", row("alice"), ""), "r.csv")
    assert parsed.lines == ReportLines(read=2, judged=2, unreadable=0)


def test_a_long_blank_line_is_skipped_like_a_short_one(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(report(ROOT, " " * (MAX_LINE * 2 + 7), row("alice")))
    assert read_credential_report(path).lines == ReportLines(read=2, judged=2, unreadable=0)


def test_a_long_line_is_skipped_piece_by_piece(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(report(ROOT, "x" * (MAX_LINE * 3 + 1), row("alice")))
    parsed = read_credential_report(path)
    assert [u.problem for u in parsed.users] == [
        None,
        "line 3 is longer than 131,072 characters",
        None,
    ]


def test_a_line_of_exactly_the_limit_is_read() -> None:
    line = row("alice")
    padded = line.replace("/alice,", "/alice" + "a" * (MAX_LINE - 1 - len(line)) + ",", 1)
    assert len(padded) == MAX_LINE - 1
    parsed = parse_credential_report(report(ROOT, padded), "r.csv")
    assert parsed.lines == ReportLines(read=2, judged=2, unreadable=0)


def test_an_over_long_header_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(HEADER + ",x" * MAX_LINE + "\n" + ROOT + "\n")
    with pytest.raises(InputError, match=r"^r\.csv: .*header \(line 1\) is longer than 131,072"):
        read_credential_report(path)


def test_cli_json_on_one_line_longer_than_the_line_limit(tmp_path: Path) -> None:
    """The JSON form is told apart before the line limit applies: one line of any length."""
    text = report(ROOT, *(row(f"user{i:05d}") for i in range(2_000)))
    document = {"Content": base64.b64encode(text.encode()).decode(), "ReportFormat": "text/csv"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document))
    assert path.stat().st_size > MAX_LINE
    parsed = read_credential_report(path)
    assert parsed.lines == ReportLines(read=2_001, judged=2_001, unreadable=0)


def test_stdin_is_read_line_by_line_too() -> None:
    text = report(ROOT, '"' + row("mallory"), row("alice"))
    proc = run(["audit", "--credential-report", "-", "--format", "json"], stdin=text)
    assert proc.returncode == 1, proc.stderr
    (account,) = json.loads(proc.stdout)["accounts"]
    assert account["source"] == "<stdin>"
    assert account["report_lines"] == {"read": 3, "judged": 2, "unreadable": 1}
    assert [f["user"] for f in account["findings"]] == ["<root_account>", "line 3", "alice"]


# --- the header ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (HEADER + ",ARN", "ARN"),
        (HEADER + ", user ", "user"),
        (HEADER + ",extra,Extra", "Extra"),
    ],
)
def test_a_column_named_twice_is_refused(header: str, column: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_credential_report(header + "\n" + ROOT + "\n", "r.csv")
    assert str(raised.value) == (
        f"r.csv: not a credential report: the header names column {column!r} twice"
    )
    assert raised.value.exit_code == 2


# --- redacted reports and the root --------------------------------------------------------------


@pytest.mark.parametrize("account", ["XXXXXXXXXXXX", "0123456789", "<redacted>", "ACCOUNT"])
def test_redacted_account_is_judged_with_a_note(account: str) -> None:
    text = report(
        f"<root_account>,arn:aws:iam::{account}:root,N/A,not_supported,N/A,{NO_KEY},{NO_KEY}",
        row("alice", arn=f"arn:aws:iam::{account}:user/alice"),
    )
    parsed = parse_credential_report(text, "r.csv")
    assert parsed.account_id == account
    assert not is_account_id(account)
    assert parsed.notes == (
        f"account id {account!r} is not a valid AWS account id (12 digits): the report looks "
        "redacted; its rows are judged and reported under the id as written",
    )
    audit = evaluate_report(parsed, Settings())
    assert audit.notes == parsed.notes and audit.account_id == account
    assert [(f.user, f.status) for f in audit.findings] == [
        ("<root_account>", Status.NOT_APPLICABLE),
        ("alice", Status.FAIL),
    ]


@pytest.mark.parametrize(
    ("arn", "parsed"),
    [
        (f"arn:aws:iam::{ACCOUNT}:user/a/b/c", (ACCOUNT, "aws")),
        (f"arn:aws-cn:iam::{ACCOUNT}:root", (ACCOUNT, "aws-cn")),
        ("arn:aws:iam::XXXXXXXXXXXX:user/x", ("XXXXXXXXXXXX", "aws")),
        (f"arn:aws:iam::{ACCOUNT}:role/x", None),
        (f"arn:aws:iam::{ACCOUNT}:user/", None),
        (f"arn:aws:iam:us-east-1:{ACCOUNT}:user/x", None),
        ("arn:aws:iam:::user/x", None),
        ("arn::iam::123456789012:user/x", None),
        ("arn:aws:s3:::bucket", None),
        ("", None),
    ],
)
def test_parse_iam_arn(arn: str, parsed: tuple[str, str] | None) -> None:
    assert parse_iam_arn(arn) == parsed


def test_is_account_id() -> None:
    assert is_account_id(ACCOUNT)
    for text in ("12345678901", "1234567890123", "XXXXXXXXXXXX", "١٢٣٤٥٦٧٨٩٠١٢", ""):
        assert not is_account_id(text)


def test_root_name_with_a_user_arn_is_that_user() -> None:
    line = row("<root_account>", arn=f"arn:aws:iam::{ACCOUNT}:user/ops/mallory")
    parsed = parse_credential_report(report(ROOT, line), "r.csv")
    mallory = parsed.users[1]
    assert (mallory.name, mallory.is_root, mallory.problem) == ("mallory", False, None)
    assert verdicts(report(ROOT, line)) == [ROOT_NA, fail("mallory")]


def test_root_arn_is_root_whatever_the_name() -> None:
    line = row("alice", arn=f"arn:aws:iam::{ACCOUNT}:root")
    parsed = parse_credential_report(report(line, row("bob")), "r.csv")
    assert parsed.users[0].is_root and parsed.users[0].name == "alice"
    assert verdicts(report(line)) == [("alice", None, Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT)]


def test_root_name_without_an_iam_arn_is_an_error() -> None:
    line = row("<root_account>", arn="not-an-arn")
    assert verdicts(report(ROOT, line)) == [ROOT_NA, error("<root_account>")]


# --- bounded dates: no overflow anywhere --------------------------------------------------------


@pytest.mark.parametrize(
    "stamp", ["1970-01-01T00:00:00+00:00", "8999-12-31T23:59:59+00:00", "8999-12-31T20:00:00-03:59"]
)
def test_extreme_readable_dates_are_judged_end_to_end(tmp_path: Path, stamp: str) -> None:
    key = f"true,{stamp},{stamp}"
    text = report(ROOT, row("alice", key=key).replace("2026-03-02T09:00:00+00:00", stamp))
    path = tmp_path / "r.csv"
    path.write_text(text)
    for extra in ([], ["--mode", "cis", "--setup-window", "30d"]):
        code, out, err = run_main(
            ["audit", "--credential-report", str(path), "--format", "json", *extra]
        )
        assert code == 0, err
        (account,) = json.loads(out)["accounts"]
        assert account["findings"][1]["reason"] == "setup-key-used"


moments = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None),
    max_value=(LATEST - timedelta(microseconds=1)).replace(tzinfo=None),
    timezones=st.just(timezone.utc),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    created=moments,
    key_created=moments,
    last_used=st.one_of(st.none(), moments),
    active=st.booleans(),
    window=st.timedeltas(min_value=timedelta(seconds=1), max_value=MAX_SETUP_WINDOW),
    mode=st.sampled_from(Mode),
)
def test_evaluator_arithmetic_cannot_overflow_with_bounded_dates(
    created: datetime,
    key_created: datetime,
    last_used: datetime | None,
    active: bool,
    window: timedelta,
    mode: Mode,
) -> None:
    """Any two instants the parser accepts (1970..9000), any window initkeys accepts
    (up to 30 days): judging, the gap's wording and CloudTrail's search ranges all work."""
    user = IamUser(
        "u",
        f"arn:aws:iam::{ACCOUNT}:user/u",
        created,
        True,
        created,
        (AccessKey(1, key_created, active, last_used),),
    )
    run = Settings(mode=mode, setup_window=window)
    findings = judge_user(user, run)
    assert len(findings) == 1
    assert describe_gap(key_created - created)
    for span in search_ranges(findings, run):
        assert span.start <= span.end


@pytest.mark.parametrize(
    "shell",
    [
        "exec python -m initkeys audit --credential-report /dev/zero",
        # A header, then one endless line: skipped piece by piece only up to 64 MiB.
        "head -n 1 {report} | cat - /dev/zero | python -m initkeys audit --credential-report -",
        '{{ printf \'{{"Content": "\'; cat /dev/zero; }}'
        " | python -m initkeys audit --credential-report -",
    ],
)
def test_an_endless_report_is_refused_not_read_forever(shell: str) -> None:
    """/dev/zero, or a header followed by an endless line: exit 2 in one line, quickly."""
    import subprocess
    import sys

    from cli_kit import assert_one_line_error, subprocess_env

    env = subprocess_env()
    command = shell.format(report=str(Path(__file__).parent / "data" / "report_normal.csv"))
    proc = subprocess.run(
        ["bash", "-c", command.replace("python", sys.executable)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line_error(proc, 2)
    assert "not a credential report" in proc.stderr
