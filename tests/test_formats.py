"""The formats stage: text, JSON and CSV renderings of an AuditRun."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys._version import __version__
from initkeys.control import CONTROL
from initkeys.errors import InputError
from initkeys.evaluate import evaluate_report
from initkeys.formats import FORMAT_NAMES, get_formatter, unsafe_pattern, visible
from initkeys.formats.csv_format import COLUMNS, escape_formula
from initkeys.formats.text import DEFAULT_WIDTH
from initkeys.model import (
    AccountAudit,
    AuditRun,
    Finding,
    Mode,
    Reason,
    Settings,
    Status,
)
from initkeys.sources import parse_credential_report
from initkeys.timeutil import format_utc as iso_utc

UTC = timezone.utc
GENERATED = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
REPORT_TIME = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_changed,"
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date"
)
ACCOUNT = "123456789012"


def _row(user: str, created: str, password: str, changed: str, k1: str, k2: str) -> str:
    arn = (
        f"arn:aws:iam::{ACCOUNT}:user/{user}"
        if user != "<root_account>"
        else (f"arn:aws:iam::{ACCOUNT}:root")
    )
    return f"{user},{arn},{created},{password},{changed},{k1},{k2}"


NO_KEY = "false,N/A,N/A"
REPORT = "\n".join(
    [
        HEADER,
        _row("<root_account>", "2020-01-01T00:00:00+00:00", "not_supported", "N/A", NO_KEY, NO_KEY),
        # FAIL setup-key-unused: key 30 s after the user, active, never used.
        _row(
            "alice",
            "2022-01-01T00:00:00+00:00",
            "true",
            "2022-01-01T00:00:05+00:00",
            "true,2022-01-01T00:00:30+00:00,N/A",
            NO_KEY,
        ),
        # WARNING unused-key (key 1, 3 days later) and PASS key-used (key 2).
        _row(
            "bob",
            "2022-01-01T00:00:00+00:00",
            "true",
            "2022-01-01T00:00:00+00:00",
            "true,2022-01-04T00:00:00+00:00,N/A",
            "true,2022-01-01T00:01:00+00:00,2023-05-01T10:00:00+00:00",
        ),
        # A user name that a spreadsheet would run as a formula.
        _row(
            "=cmd+1",
            "2022-02-01T00:00:00+00:00",
            "true",
            "2022-02-01T00:00:00+00:00",
            "true,2022-01-31T23:59:30+00:00,N/A",
            NO_KEY,
        ),
        # PASS no-access-keys.
        _row("carol", "2022-01-01T00:00:00+00:00", "true", "N/A", NO_KEY, NO_KEY),
        # NOT_APPLICABLE no-console-password.
        _row(
            "svc-deploy",
            "2022-01-01T00:00:00+00:00",
            "false",
            "N/A",
            "true,2022-01-01T00:00:10+00:00,N/A",
            NO_KEY,
        ),
        # ERROR invalid-row.
        _row("broken", "yesterday", "true", "N/A", NO_KEY, NO_KEY),
    ]
)

ANSI = re.compile(r"\x1b\[")


def _run(*, with_error_account: bool = True, mode: Mode = Mode.SETUP) -> AuditRun:
    settings = Settings(mode=mode)
    report = parse_credential_report(REPORT, "report.csv", REPORT_TIME)
    accounts = [evaluate_report(report, settings)]
    if with_error_account:
        accounts.append(
            AccountAudit(
                account_id="210987654321",
                partition="aws",
                source="aws",
                report_generated_at=None,
                error="AccessDenied: not allowed to call iam:GenerateCredentialReport.",
            )
        )
    return AuditRun(settings=settings, generated_at=GENERATED, accounts=tuple(accounts))


def _render(name: str, run: AuditRun, **kwargs: Any) -> str:
    out = io.StringIO()
    get_formatter(name).render(run, out, **kwargs)
    return out.getvalue()


# --------------------------------------------------------------------------- interface


def test_format_names_and_lookup() -> None:
    assert FORMAT_NAMES == (
        "text",
        "json",
        "csv",
        "sarif",
        "asff",
        "ocsf",
        "junit",
        "html",
        "markdown",
    )
    for name in FORMAT_NAMES:
        formatter = get_formatter(name)
        assert formatter.name == name


def test_unknown_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown output format 'xml'"):
        get_formatter("xml")


def test_formats_package_does_not_import_rich() -> None:
    # `initkeys --version` must start fast; rich is imported only for text output.
    code = (
        "import sys, initkeys.formats\n"
        "assert 'rich' not in sys.modules, 'rich imported eagerly'\n"
        "initkeys.formats.get_formatter('json'); initkeys.formats.get_formatter('csv')\n"
        "assert 'rich' not in sys.modules, 'rich imported by json/csv'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (None, None),
        (datetime(2022, 1, 1, tzinfo=UTC), "2022-01-01T00:00:00Z"),
        (datetime(2022, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))), "2022-01-01T00:00:00Z"),
        (datetime(2022, 1, 1), "2022-01-01T00:00:00Z"),  # naive: AWS timestamps are UTC
        (datetime(2022, 1, 1, 0, 0, 0, 500, tzinfo=UTC), "2022-01-01T00:00:00.000500Z"),
    ],
)
def test_iso_utc(moment: datetime | None, expected: str | None) -> None:
    assert iso_utc(moment) == expected


# --------------------------------------------------------------------------- JSON

FINDING_KEYS: dict[str, type | tuple[type, ...]] = {
    "user": str,
    "arn": str,
    "key_slot": (int, type(None)),
    "access_key_id": (str, type(None)),
    "status": str,
    "reason": str,
    "active": (bool, type(None)),
    "user_created": (str, type(None)),
    "key_created": (str, type(None)),
    "last_used": (str, type(None)),
    "password_created": (str, type(None)),
    "message": str,
}
Z_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_json_contract() -> None:
    run = _run()
    text = _render("json", run, tool_version="9.9.9")
    assert text.endswith("}\n")
    doc = json.loads(text)

    assert doc["schema_version"] == 1
    assert doc["tool"] == {"name": "initkeys", "version": "9.9.9"}
    control = doc["control"]
    assert control["id"] == "1.11"
    for key in ("title", "information", "rationale", "solution", "category", "control_id"):
        assert control[key] == getattr(CONTROL, key)
    assert control["references"] == list(CONTROL.references)
    assert isinstance(control["references"], list)
    assert doc["mode"] == "setup"
    assert doc["setup_window_seconds"] == 600
    assert isinstance(doc["setup_window_seconds"], int)
    assert doc["generated_at"] == "2026-11-28T01:00:00Z"
    assert doc["summary"] == {"FAIL": 2, "ERROR": 1, "WARNING": 1, "PASS": 2, "NOT_APPLICABLE": 2}
    assert list(doc["summary"]) == ["FAIL", "ERROR", "WARNING", "PASS", "NOT_APPLICABLE"]

    ok, failed = doc["accounts"]
    assert set(ok) >= {
        "account_id",
        "partition",
        "source",
        "report_generated_at",
        "status",
        "error",
        "findings",
    }
    assert ok["account_id"] == ACCOUNT
    assert ok["partition"] == "aws"
    assert ok["source"] == "report.csv"
    assert ok["report_generated_at"] == "2026-11-28T00:30:00Z"
    assert ok["status"] == "FAIL"
    assert ok["error"] is None
    assert len(ok["findings"]) == 8  # root, alice, bob x2, =cmd+1, carol, svc-deploy, broken

    # An account that could not be audited: ERROR, a sentence, no findings.
    assert failed == {
        "account_id": "210987654321",
        "account_name": None,
        "partition": "aws",
        "source": "aws",
        "report_generated_at": None,
        "status": "ERROR",
        "error": "AccessDenied: not allowed to call iam:GenerateCredentialReport.",
        "report_lines": None,  # not read from a report file
        "notes": [],
        "findings": [],
    }
    # 7 data lines: 6 judged, "broken" reported ERROR.
    assert ok["report_lines"] == {"read": 7, "judged": 6, "unreadable": 1}
    assert ok["notes"] == []

    for finding in ok["findings"]:
        for key, types in FINDING_KEYS.items():
            assert key in finding, key
            assert isinstance(finding[key], types), (key, finding[key])
        for key in ("user_created", "key_created", "last_used", "password_created"):
            assert finding[key] is None or Z_TIMESTAMP.match(finding[key]), finding[key]
        assert finding["status"] in doc["summary"]
        if finding["key_slot"] is None:  # user-level findings carry no key data
            assert finding["access_key_id"] is None
            assert finding["active"] is None
            assert finding["setup_gap_seconds"] is None


def test_json_finding_values() -> None:
    doc = json.loads(_render("json", _run()))
    by_user = {(f["user"], f["key_slot"]): f for f in doc["accounts"][0]["findings"]}
    assert re.fullmatch(r"initkeys-1\.11-[0-9a-f]{24}", by_user["alice", 1].pop("id"))
    assert by_user["alice", 1] == {
        "user": "alice",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "key_slot": 1,
        "access_key_id": None,
        "status": "FAIL",
        "reason": "setup-key-unused",
        "active": True,
        "user_created": "2022-01-01T00:00:00Z",
        "key_created": "2022-01-01T00:00:30Z",
        "setup_gap_seconds": 30,
        "last_used": None,
        "password_created": "2022-01-01T00:00:05Z",
        "message": by_user["alice", 1]["message"],
        "exemption": None,
        "exemption_expired": None,
        "created_by": None,
        "created_via": None,
        "created_from": None,
        "evidence_note": None,
    }
    assert "alice" in by_user["alice", 1]["message"]
    assert by_user["bob", 2]["last_used"] == "2023-05-01T10:00:00Z"
    assert by_user["=cmd+1", 1]["setup_gap_seconds"] == -30
    assert by_user["<root_account>", None]["reason"] == "root-account"
    assert by_user["broken", None]["status"] == "ERROR"


def test_json_is_exactly_indented_json() -> None:
    # Streamed piece by piece, yet byte for byte what json.dumps(indent=2) gives.
    for run in (_run(), AuditRun(settings=Settings(), generated_at=GENERATED)):
        text = _render("json", run)
        assert text == json.dumps(json.loads(text), indent=2) + "\n"


def test_json_empty_run() -> None:
    doc = json.loads(_render("json", AuditRun(settings=Settings(), generated_at=GENERATED)))
    assert doc["accounts"] == []
    assert doc["summary"] == dict.fromkeys(
        ["FAIL", "ERROR", "WARNING", "PASS", "NOT_APPLICABLE"], 0
    )


def test_json_default_tool_version_and_cis_mode() -> None:
    run = AuditRun(
        settings=Settings(mode=Mode.CIS, setup_window=timedelta(seconds=90)),
        generated_at=GENERATED,
    )
    doc = json.loads(_render("json", run))
    assert doc["tool"]["version"] == __version__
    assert doc["mode"] == "cis"
    assert doc["setup_window_seconds"] == 90


def test_json_escapes_hostile_strings() -> None:
    finding = Finding(
        user='eve"},\n{',
        arn="arn:aws:iam::123456789012:user/eve",
        status=Status.FAIL,
        reason=Reason.SETUP_KEY_UNUSED,
        message="line one\nline two \u2028 é",
    )
    account = AccountAudit(ACCOUNT, "aws", "x.csv", None, findings=(finding,))
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))
    doc = json.loads(_render("json", run))
    assert doc["accounts"][0]["findings"][0]["user"] == 'eve"},\n{'
    assert doc["accounts"][0]["findings"][0]["message"] == "line one\nline two \u2028 é"


# --------------------------------------------------------------------------- CSV


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_rows_and_header() -> None:
    run = _run()
    text = _render("csv", run)
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == COLUMNS
    findings = sum(len(a.findings) for a in run.accounts)
    error_accounts = sum(1 for a in run.accounts if a.error is not None)
    assert len(lines) == 1 + findings + error_accounts

    run_ok = _run(with_error_account=False)
    assert len(list(csv.reader(io.StringIO(_render("csv", run_ok))))) == 1 + 8


def test_csv_values() -> None:
    rows = _csv_rows(_render("csv", _run()))
    alice = next(r for r in rows if r["user"] == "alice")
    json_alice = next(
        f
        for f in json.loads(_render("json", _run()))["accounts"][0]["findings"]
        if f["user"] == "alice"
    )
    assert alice.pop("id") == json_alice["id"]
    assert alice == {
        "account_id": ACCOUNT,
        "partition": "aws",
        "source": "report.csv",
        "user": "alice",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "key_slot": "1",
        "access_key_id": "",
        "status": "FAIL",
        "reason": "setup-key-unused",
        "active": "true",
        "user_created": "2022-01-01T00:00:00Z",
        "key_created": "2022-01-01T00:00:30Z",
        "setup_gap_seconds": "30",
        "last_used": "",
        "password_created": "2022-01-01T00:00:05Z",
        "message": alice["message"],
        "exemption": "",
        "exemption_source": "",
        "exemption_expires": "",
        "exemption_expired_on": "",
        "created_by": "",
        "created_via": "",
        "created_from": "",
        "evidence_note": "",
    }
    error = rows[-1]
    assert error["account_id"] == "210987654321"
    assert error["status"] == "ERROR"
    assert error["message"].startswith("AccessDenied")
    assert error["user"] == error["reason"] == error["key_slot"] == ""


def test_csv_formula_injection_is_escaped() -> None:
    rows = _csv_rows(_render("csv", _run()))
    hostile = next(r for r in rows if "cmd" in r["user"])
    assert hostile["user"] == "'=cmd+1"
    # Our own numbers stay numbers, even negative ones.
    assert hostile["setup_gap_seconds"] == "-30"
    for row in rows:
        for column, value in row.items():
            if column == "setup_gap_seconds":
                continue
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "\\x09x"),  # control characters are shown as escapes first: inert
        ("a=b", "a=b"),  # IAM allows these characters inside a name
        ("john.doe@example.com", "john.doe@example.com"),
        ("", ""),
    ],
)
def test_escape_formula(text: str, expected: str) -> None:
    assert escape_formula(text) == expected


# --------------------------------------------------------------------------- text


def test_text_contains_header_findings_and_counts() -> None:
    text = _render("text", _run(), tool_version="9.9.9")
    assert not ANSI.search(text)
    # The control header.
    assert "CIS AWS Foundations 1.11" in text
    assert "Do not setup access keys during initial user setup" in text
    for label in ("Information", "Rationale", "Solution", "References", "Category"):
        assert label in text
    assert CONTROL.control_id in text
    assert "800-53|AC-6(2)" in text
    assert "ACCESS CONTROL, MEDIA PROTECTION" in text
    assert "setup" in text and "10m" in text
    assert "initkeys 9.9.9" in text
    # Account verdict lines.
    assert f"Account {ACCOUNT}" in text
    assert "report.csv" in text
    assert "2026-11-28T00:30:00Z" in text
    # Failing and warning users, with evidence.
    assert "alice" in text and "bob" in text and "=cmd+1" in text
    assert "setup-key-unused" in text and "unused-key" in text
    assert "30s after" in text
    assert "30s before" in text
    assert "3 days after" in text
    assert "never" in text
    assert "key 1" in text
    # ERROR rows are explained.
    assert "broken" in text and "could not be read" in text
    # PASS and N/A findings are counted, not listed.
    assert "carol" not in text
    assert "svc-deploy" not in text
    assert "<root_account>" not in text
    # The account that could not be audited.
    assert "210987654321" in text and "AccessDenied" in text
    # Counts: per account and in total.
    assert "FAIL 2 · ERROR 1 · WARNING 1 · PASS 2 · N/A 2" in text
    assert re.search(r"Summary\s+FAIL 2 · ERROR 1 · WARNING 1 · PASS 2 · N/A 2", text)
    assert re.search(r"Result\s+FAIL", text)
    assert "2: 1 audited, 1 could not be audited" in text


def test_text_no_setup_keys() -> None:
    report = parse_credential_report("\n".join([HEADER, REPORT.splitlines()[5]]), "r.csv")
    account = evaluate_report(report, Settings())
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))
    text = _render("text", run)
    assert "No setup keys found." in text
    assert re.search(r"Result\s+PASS", text)
    assert "FAIL 0 · ERROR 0 · WARNING 0 · PASS 1 · N/A 0" in text


def test_text_colour_only_when_asked() -> None:
    run = _run()
    assert not ANSI.search(_render("text", run, color=False))
    assert ANSI.search(_render("text", run, color=True))


def test_text_ignores_force_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "40")
    text = _render("text", _run())
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= DEFAULT_WIDTH


def test_text_does_not_read_markup_from_data() -> None:
    finding = Finding(
        user="[bold red]mallory[/]",
        arn="arn:aws:iam::123456789012:user/mallory",
        status=Status.FAIL,
        reason=Reason.SETUP_KEY_UNUSED,
        message="m",
        key_slot=1,
    )
    account = AccountAudit(ACCOUNT, "aws", "[link]x.csv", None, findings=(finding,))
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))
    text = _render("text", run)
    assert "[bold red]mallory[/]" in text
    assert "[link]x.csv" in text


def test_text_cis_mode_wording() -> None:
    run = AuditRun(
        settings=Settings(mode=Mode.CIS),
        generated_at=GENERATED,
        accounts=(AccountAudit(ACCOUNT, "aws", "aws", None),),
    )
    text = _render("text", run)
    assert "cis" in text
    assert "No unused access keys of console users found." in text
    assert re.search(r"Result\s+NOT_APPLICABLE", text)


def test_text_empty_run() -> None:
    text = _render("text", AuditRun(settings=Settings(), generated_at=GENERATED))
    assert "no accounts audited" in text


def test_text_lists_every_listed_finding_in_batches() -> None:
    findings = tuple(
        Finding(
            user=f"user{i:05d}",
            arn=f"arn:aws:iam::{ACCOUNT}:user/user{i:05d}",
            status=Status.FAIL if i % 2 else Status.PASS,
            reason=Reason.SETUP_KEY_UNUSED if i % 2 else Reason.KEY_USED,
            message="m",
            key_slot=1,
            access_key_id=f"AKIA{i:016d}",
            active=True,
            user_created=datetime(2022, 1, 1, tzinfo=UTC),
            key_created=datetime(2022, 1, 1, 0, 0, 5, tzinfo=UTC),
        )
        for i in range(2400)
    )
    account = AccountAudit(ACCOUNT, "aws", "big.csv", None, findings=findings)
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))
    text = _render("text", run)
    listed = re.findall(r"^  FAIL +(user\d+) +(AKIA\d{16})", text, flags=re.MULTILINE)
    assert [user for user, _ in listed] == [f"user{i:05d}" for i in range(1, 2400, 2)]
    assert "user00000" not in text  # PASS: counted, not listed
    assert "FAIL 1200 · ERROR 0 · WARNING 0 · PASS 1200 · N/A 0" in text
    assert all(len(line) <= DEFAULT_WIDTH for line in text.splitlines())
    assert all(line == line.rstrip() for line in text.splitlines())


def test_text_one_line_timestamps_on_a_wide_terminal() -> None:
    from initkeys.formats.text import _layout

    findings = [f for f in _run().accounts[0].findings if f.status is Status.FAIL]
    wide, widths = _layout(200, findings)
    assert wide and widths[4] == len("2022-01-01T00:00:00Z")
    narrow, widths = _layout(120, findings)
    assert not narrow and widths[4] == len("2022-01-01")


def test_text_falls_back_to_ascii_for_narrow_encodings() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", newline="")
    get_formatter("text").render(_run(), out)
    out.flush()
    text = raw.getvalue().decode("ascii")
    assert "FAIL 2 | ERROR 1 | WARNING 1 | PASS 2 | N/A 2" in text


@settings(max_examples=50, deadline=None)
@given(user=st.text(min_size=1, max_size=40), message=st.text(max_size=80))
def test_any_text_stays_valid_json_and_inert_csv(user: str, message: str) -> None:
    finding = Finding(
        user=user,
        arn=f"arn:aws:iam::{ACCOUNT}:user/x",
        status=Status.WARNING,
        reason=Reason.UNUSED_KEY,
        message=message,
        key_slot=2,
    )
    account = AccountAudit(ACCOUNT, "aws", user, None, findings=(finding,))
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))

    text = _render("json", run)
    assert text == json.dumps(json.loads(text), indent=2) + "\n"
    assert json.loads(text)["accounts"][0]["findings"][0]["user"] == user

    (row,) = _csv_rows(_render("csv", run))
    for column in ("user", "source", "message"):
        assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert row["user"] in (visible(user), "'" + visible(user))  # terminal-safe, then inert
    assert not unsafe_pattern().search("".join(row.values()))

    plain = _render("text", run)
    assert "\x1b" not in plain


def test_csv_line_breaks_inside_cells_stay_inside_one_row() -> None:
    finding = Finding(
        user="eve",
        arn=f"arn:aws:iam::{ACCOUNT}:user/eve",
        status=Status.FAIL,
        reason=Reason.SETUP_KEY_UNUSED,
        message="one\rtwo\nthree\r\n-four",
    )
    account = AccountAudit(ACCOUNT, "aws", "x.csv", None, findings=(finding,))
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))
    text = _render("csv", run)
    assert len(text.splitlines()) == 2  # the header and the one record
    (row,) = _csv_rows(text)
    # Line breaks are control characters: shown as escapes, like in every format.
    assert row["message"] == "one\\x0dtwo\\x0athree\\x0d\\x0a-four"


def test_text_neutralises_terminal_escapes_in_data() -> None:
    finding = Finding(
        user="ev\x1b]0;pwn\x07il\nx",
        arn=f"arn:aws:iam::{ACCOUNT}:user/x",
        status=Status.ERROR,
        reason=Reason.INVALID_ROW,
        message="bad \x1b[2J row \u202e",
    )
    account = AccountAudit(ACCOUNT, "aws", "src\x1b[31m.csv", None, findings=(finding,))
    failed = AccountAudit("210987654321", "aws", "aws", None, error="denied\x1b[5m")
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account, failed))
    text = _render("text", run)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "ev\\x1b]0;pwn\\x07il\\x0ax" in text
    assert "src\\x1b[31m.csv" in text
    assert "bad \\x1b[2J row \\u202e" in text
    assert "denied\\x1b[5m" in text
