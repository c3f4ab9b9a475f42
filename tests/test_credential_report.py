"""The offline reader: every file of tests/data (see tests/data/README.md)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from initkeys.errors import InputError
from initkeys.evaluate import evaluate_report
from initkeys.model import (
    AccessKey,
    CredentialReport,
    IamUser,
    Reason,
    ReportLines,
    Settings,
    Status,
)
from initkeys.sources import parse_credential_report, read_credential_report

DATA = Path(__file__).parent / "data"
ACCOUNT = "123456789012"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def by_name(report: CredentialReport) -> dict[str, IamUser]:
    names = [u.name for u in report.users]
    assert len(names) == len(set(names)), names
    return {u.name: u for u in report.users}


def arn(name: str, account: str = ACCOUNT, partition: str = "aws", path: str = "") -> str:
    return f"arn:{partition}:iam::{account}:user/{path}{name}"


# The users of report_normal.csv, exactly as the reader must produce them.
NORMAL_USERS = (
    IamUser(
        name="<root_account>",
        arn=f"arn:aws:iam::{ACCOUNT}:root",
        created=None,
        console_password=False,
        is_root=True,
    ),
    IamUser(
        name="alice",
        arn=arn("alice"),
        created=utc("2026-03-02T09:00:00"),
        console_password=True,
        password_created=utc("2026-03-02T09:00:04"),
        keys=(AccessKey(1, utc("2026-03-02T09:00:05"), True, None),),
    ),
    IamUser(
        name="bob",
        arn=arn("bob", path="engineering/"),
        created=utc("2025-01-10T12:00:00"),
        console_password=True,
        password_created=utc("2025-01-10T12:00:02"),
        keys=(AccessKey(1, utc("2025-01-13T08:30:00"), True, utc("2026-11-26T22:10:00")),),
    ),
    IamUser(
        name="carol",
        arn=arn("carol"),
        created=utc("2024-06-01T00:00:00"),
        console_password=True,
        password_created=utc("2024-06-01T00:00:01"),
    ),
    IamUser(
        name="ci-deploy",
        arn=arn("ci-deploy"),
        created=utc("2023-05-05T05:05:05"),
        console_password=False,
        keys=(AccessKey(1, utc("2023-05-05T05:05:06"), True, utc("2026-11-27T09:00:00")),),
    ),
    IamUser(
        name="erin",
        arn=arn("erin"),
        created=utc("2025-07-01T14:00:00"),
        console_password=True,
        password_created=utc("2025-07-01T14:00:01"),
        keys=(
            AccessKey(1, utc("2025-07-01T14:00:30"), False, None),
            AccessKey(2, utc("2025-08-01T10:00:00"), True, None),
        ),
    ),
    IamUser(
        name="frank",
        arn=arn("frank"),
        created=utc("2013-02-14T16:20:00"),
        console_password=True,
        password_created=utc("2013-02-14T16:20:10"),
        keys=(AccessKey(1, utc("2013-02-14T16:21:00"), True, None),),
    ),
    IamUser(
        name="grace",
        arn=arn("grace"),
        created=utc("2026-01-05T10:00:00"),
        console_password=True,
        password_created=utc("2026-01-05T10:00:03"),
        keys=(AccessKey(1, utc("2026-01-05T10:00:07"), True, utc("2026-01-06T11:12:13")),),
    ),
    IamUser(
        name="heidi",
        arn=arn("heidi"),
        created=utc("2024-02-01T00:00:00"),
        console_password=True,
        password_created=utc("2024-02-01T00:00:05"),
        keys=(AccessKey(1, utc("2024-09-01T12:00:00"), False, None),),
    ),
)

# Setup mode, default window: (user, key slot) -> (status, reason).
NORMAL_VERDICTS = {
    ("<root_account>", None): (Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT),
    ("alice", 1): (Status.FAIL, Reason.SETUP_KEY_UNUSED),
    ("bob", 1): (Status.PASS, Reason.KEY_USED),
    ("carol", None): (Status.PASS, Reason.NO_ACCESS_KEYS),
    ("ci-deploy", None): (Status.NOT_APPLICABLE, Reason.NO_CONSOLE_PASSWORD),
    ("erin", 1): (Status.WARNING, Reason.SETUP_KEY_INACTIVE),
    ("erin", 2): (Status.WARNING, Reason.UNUSED_KEY),
    ("frank", 1): (Status.WARNING, Reason.USAGE_UNKNOWN),
    ("grace", 1): (Status.PASS, Reason.SETUP_KEY_USED),
    ("heidi", 1): (Status.PASS, Reason.INACTIVE_UNUSED_KEY),
}

SAME_AS_NORMAL = [
    "report_normal.csv",
    "report_bom_crlf.csv",
    "report_shuffled_columns.csv",
    "report_cli.json",
    "report_leading_blank_lines.csv",
]


def verdicts(report: CredentialReport) -> dict[tuple[str, int | None], tuple[Status, Reason]]:
    audit = evaluate_report(report, Settings())
    found = {(f.user, f.key_slot): (f.status, f.reason) for f in audit.findings}
    assert len(found) == len(audit.findings), "one finding per (user, key slot)"
    return found


# --- readable reports ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAME_AS_NORMAL)
def test_variants_read_as_the_normal_report(name: str) -> None:
    report = read_credential_report(DATA / name)
    assert report.account_id == ACCOUNT
    assert report.partition == "aws"
    assert report.source == name
    assert report.users == NORMAL_USERS


@pytest.mark.parametrize("name", SAME_AS_NORMAL)
def test_variants_are_judged_like_the_normal_report(name: str) -> None:
    report = read_credential_report(DATA / name)
    assert verdicts(report) == NORMAL_VERDICTS
    assert evaluate_report(report, Settings()).status is Status.FAIL


def test_path_may_be_a_string() -> None:
    report = read_credential_report(str(DATA / "report_normal.csv"))
    assert report.users == NORMAL_USERS
    assert report.source == "report_normal.csv"


def test_timestamps_are_aware_utc() -> None:
    report = read_credential_report(DATA / "report_normal.csv")
    stamps = [u.created for u in report.users if u.created is not None]
    stamps += [k.created for u in report.users for k in u.keys]
    stamps += [k.last_used for u in report.users for k in u.keys if k.last_used is not None]
    assert stamps
    for stamp in stamps:
        assert stamp.utcoffset() is not None
        assert stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_csv_has_no_generated_time() -> None:
    assert read_credential_report(DATA / "report_normal.csv").generated_at is None


def test_cli_json_generated_time() -> None:
    report = read_credential_report(DATA / "report_cli.json")
    assert report.generated_at == datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    assert report.generated_at.utcoffset() is not None
    assert evaluate_report(report, Settings()).report_generated_at == report.generated_at


def test_cli_json_content_is_the_normal_csv() -> None:
    """The fixture itself: Content decodes to report_normal.csv byte for byte."""
    document = json.loads((DATA / "report_cli.json").read_text())
    assert base64.b64decode(document["Content"]) == (DATA / "report_normal.csv").read_bytes()
    assert document["ReportFormat"] == "text/csv"


def test_root_row() -> None:
    root = by_name(read_credential_report(DATA / "report_normal.csv"))["<root_account>"]
    assert root.is_root
    assert root.arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert root.problem is None
    assert root.keys == ()


def test_user_without_password_has_no_password_date() -> None:
    """``password_last_changed`` is N/A for a user without a password."""
    user = by_name(read_credential_report(DATA / "report_normal.csv"))["ci-deploy"]
    assert not user.console_password
    assert user.password_created is None


def test_keys_in_both_slots() -> None:
    erin = by_name(read_credential_report(DATA / "report_normal.csv"))["erin"]
    assert [(k.slot, k.active, k.last_used) for k in erin.keys] == [
        (1, False, None),
        (2, True, None),
    ]
    # The report carries no key ids; only live reads do.
    assert all(k.access_key_id is None for k in erin.keys)


@pytest.mark.parametrize(
    ("name", "account", "partition"),
    [
        ("report_aws_cn.csv", "210987654321", "aws-cn"),
        ("report_aws_us_gov.csv", "345678901234", "aws-us-gov"),
    ],
)
def test_partitions(name: str, account: str, partition: str) -> None:
    report = read_credential_report(DATA / name)
    assert report.account_id == account
    assert report.partition == partition
    users = by_name(report)
    root = users["<root_account>"]
    assert root.is_root
    assert root.arn == f"arn:{partition}:iam::{account}:root"
    for user in report.users:
        assert user.arn.startswith(f"arn:{partition}:iam::{account}:")
        assert user.problem is None


def test_aws_cn_users() -> None:
    report = read_credential_report(DATA / "report_aws_cn.csv")
    users = by_name(report)
    assert users["wang"] == IamUser(
        name="wang",
        arn=arn("wang", "210987654321", "aws-cn"),
        created=utc("2026-05-01T01:00:00"),
        console_password=True,
        password_created=utc("2026-05-01T01:00:02"),
        keys=(AccessKey(1, utc("2026-05-01T01:00:09"), True, None),),
    )
    assert not users["li"].console_password
    assert verdicts(report) == {
        ("<root_account>", None): (Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT),
        ("wang", 1): (Status.FAIL, Reason.SETUP_KEY_UNUSED),
        ("li", None): (Status.NOT_APPLICABLE, Reason.NO_CONSOLE_PASSWORD),
    }


def test_aws_us_gov_users() -> None:
    report = read_credential_report(DATA / "report_aws_us_gov.csv")
    jones = by_name(report)["jones"]
    assert jones.keys == (
        AccessKey(1, utc("2026-04-01T15:00:03"), True, None),
        AccessKey(2, utc("2026-06-01T15:00:00"), True, utc("2026-11-25T15:00:00")),
    )
    assert verdicts(report) == {
        ("<root_account>", None): (Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT),
        ("jones", 1): (Status.FAIL, Reason.SETUP_KEY_UNUSED),
        ("jones", 2): (Status.PASS, Reason.KEY_USED),
    }


def test_bad_timestamp_row_is_an_error_and_the_rest_is_judged() -> None:
    report = read_credential_report(DATA / "report_bad_timestamp.csv")
    assert report.account_id == ACCOUNT
    mallory = by_name(report)["mallory"]
    assert mallory.problem is not None
    assert "user_creation_time" in mallory.problem
    assert "2025-13-45T99:00:00+00:00" in mallory.problem
    assert mallory.arn == arn("mallory")
    assert verdicts(report) == {
        ("<root_account>", None): (Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT),
        ("alice", 1): (Status.FAIL, Reason.SETUP_KEY_UNUSED),
        ("mallory", None): (Status.ERROR, Reason.INVALID_ROW),
        ("bob", 1): (Status.PASS, Reason.KEY_USED),
        ("carol", None): (Status.PASS, Reason.NO_ACCESS_KEYS),
    }
    (finding,) = [f for f in evaluate_report(report, Settings()).findings if f.user == "mallory"]
    assert "2025-13-45T99:00:00+00:00" in finding.message
    assert "\n" not in finding.message


def test_missing_field_row_is_an_error_and_the_rest_is_judged() -> None:
    report = read_credential_report(DATA / "report_missing_field.csv")
    frank = by_name(report)["frank"]
    assert frank.problem is not None
    assert "line 4" in frank.problem
    assert "21" in frank.problem and "22" in frank.problem
    assert frank.arn == arn("frank")
    assert verdicts(report) == {
        ("<root_account>", None): (Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT),
        ("alice", 1): (Status.FAIL, Reason.SETUP_KEY_UNUSED),
        ("frank", None): (Status.ERROR, Reason.INVALID_ROW),
        ("bob", 1): (Status.PASS, Reason.KEY_USED),
    }


def test_an_error_row_makes_the_account_at_least_error() -> None:
    """Roll-up: without alice's FAIL, the bad row decides the account's status."""
    report = read_credential_report(DATA / "report_bad_timestamp.csv")
    rest = CredentialReport(
        account_id=report.account_id,
        partition=report.partition,
        source=report.source,
        generated_at=report.generated_at,
        users=tuple(u for u in report.users if u.name != "alice"),
    )
    assert evaluate_report(report, Settings()).status is Status.FAIL
    assert evaluate_report(rest, Settings()).status is Status.ERROR


# --- malformed files ----------------------------------------------------------------------------

MALFORMED = {
    "bad_empty.csv": "empty",
    "bad_header_only.csv": "no users",
    "bad_png.csv": "UTF-8",
    "bad_random_text.txt": "missing column",
    "bad_missing_columns.csv": "access_key_2_last_rotated",
    "bad_json_no_content.json": "Content",
    "bad_json_content_not_base64.json": "base64",
    "bad_json_invalid.json": "JSON",
    "bad_json_report_format.json": "application/xml",
    "bad_json_generated_time.json": "GeneratedTime",
    "bad_not_utf8.csv": "UTF-8",
    "bad_two_accounts.csv": "999988887777",
}


def test_every_corpus_file_is_tested() -> None:
    files = {p.name for p in DATA.iterdir() if p.name.startswith(("report_", "bad_"))}
    assert files == set(MALFORMED) | set(SAME_AS_NORMAL) | {
        "report_aws_cn.csv",
        "report_aws_us_gov.csv",
        "report_bad_timestamp.csv",
        "report_missing_field.csv",
    }
    readme = (DATA / "README.md").read_text()
    for name in files:
        assert f"`{name}`" in readme, f"{name} is not described in tests/data/README.md"


@pytest.mark.parametrize(("name", "hint"), sorted(MALFORMED.items()))
def test_malformed_file_raises_input_error(name: str, hint: str) -> None:
    with pytest.raises(InputError) as raised:
        read_credential_report(DATA / name)
    message = str(raised.value)
    assert message.strip()
    assert "\n" not in message and "\r" not in message, message
    assert name in message
    assert hint.lower() in message.lower(), message
    assert raised.value.exit_code == 2


def test_two_accounts_names_both() -> None:
    with pytest.raises(InputError) as raised:
        read_credential_report(DATA / "bad_two_accounts.csv")
    assert ACCOUNT in str(raised.value)
    assert "999988887777" in str(raised.value)


def test_missing_columns_are_named() -> None:
    with pytest.raises(InputError) as raised:
        read_credential_report(DATA / "bad_missing_columns.csv")
    message = str(raised.value)
    for column in (
        "access_key_2_active",
        "access_key_2_last_rotated",
        "access_key_2_last_used_date",
    ):
        assert column in message
    assert "access_key_1_active" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        read_credential_report(tmp_path / "nope.csv")
    assert "nope.csv" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        read_credential_report(tmp_path)
    assert "\n" not in str(raised.value)


# --- more inputs, built in the test -------------------------------------------------------------


def normal_bytes() -> bytes:
    return (DATA / "report_normal.csv").read_bytes()


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbf",
        b"   \n\r\n\t\n",
        b"\n" * 200,
    ],
    ids=["bom-only", "whitespace-only", "many-newlines"],
)
def test_blank_files_are_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"blank\.csv: .*empty"):
        read_credential_report(path)


def test_json_after_much_blank_space(tmp_path: Path) -> None:
    """The JSON form is recognised however much white space comes first."""
    path = tmp_path / "pretty.json"
    document = {"Content": base64.b64encode(normal_bytes()).decode(), "ReportFormat": "text/csv"}
    path.write_bytes(b"\n" * 100 + b" " * 100 + json.dumps(document).encode())
    report = read_credential_report(path)
    assert report.users == NORMAL_USERS
    assert report.generated_at is None


def test_json_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    document = {
        "Content": base64.b64encode(normal_bytes()).decode(),
        "GeneratedTime": "2026-11-27T10:00:00Z",
    }
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode())
    report = read_credential_report(path)
    assert report.users == NORMAL_USERS
    assert report.generated_at == datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("document", "hint"),
    [
        ({"Content": ""}, "empty"),
        ({"Content": base64.b64encode(b"\x89PNG\r\n\x1a\n\x00").decode()}, "UTF-8"),
        ({"Content": 42}, "Content"),
        ([1, 2, 3], ""),
    ],
    ids=["empty-content", "binary-content", "content-not-string", "json-list"],
)
def test_more_bad_json(tmp_path: Path, document: object, hint: str) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError) as raised:
        read_credential_report(path)
    message = str(raised.value)
    assert "odd.json" in message
    assert "\n" not in message
    assert hint.lower() in message.lower()


def test_oversized_line_is_an_error_row_and_the_rest_is_judged(tmp_path: Path) -> None:
    """New contract (issue 10): a line over MAX_LINE (a 200 KB field) is one ERROR row, the
    rows after it are judged; it used to end the whole read with a CSV error (exit 2)."""
    lines = normal_bytes().split(b"\n")
    data = b"\n".join([*lines[:3], b'x,"' + b"a" * 200_000 + b'"', *lines[3:]])
    path = tmp_path / "huge.csv"
    path.write_bytes(data)
    for report in (read_credential_report(path), parse_credential_report(data, "live")):
        users = by_name(report)
        assert users["line 4"].problem == "line 4 is longer than 131,072 characters"
        assert len(report.users) == len(NORMAL_USERS) + 1
        assert report.lines == ReportLines(read=10, judged=9, unreadable=1)
        found = verdicts(report)
        assert found[("line 4", None)] == (Status.ERROR, Reason.INVALID_ROW)
        assert {k: v for k, v in found.items() if k[0] != "line 4"} == NORMAL_VERDICTS


def test_parse_credential_report_in_memory() -> None:
    """The live API's Content: bytes or str, with the caller's generated_at."""
    when = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
    from_bytes = parse_credential_report(normal_bytes(), "aws", when)
    from_text = parse_credential_report("\ufeff" + normal_bytes().decode(), "aws", when)
    for report in (from_bytes, from_text):
        assert report.users == NORMAL_USERS
        assert report.source == "aws"
        assert report.generated_at == when
        assert report.account_id == ACCOUNT


def test_parse_credential_report_not_utf8() -> None:
    with pytest.raises(InputError, match=r"^aws: "):
        parse_credential_report(b"user,arn\n\xff\xfe", "aws")


def test_uppercase_booleans_and_z_timestamps(tmp_path: Path) -> None:
    """``password_enabled`` is case-insensitive; ``Z`` and offsets become UTC."""
    text = normal_bytes().decode()
    text = text.replace(",true,", ",TRUE,").replace(",false,", ",False,")
    text = text.replace("2026-03-02T09:00:05+00:00", "2026-03-02T11:00:05+02:00")
    text = text.replace("2026-03-02T09:00:00+00:00", "2026-03-02T09:00:00Z")
    path = tmp_path / "case.csv"
    path.write_text(text)
    assert read_credential_report(path).users == NORMAL_USERS


def test_line_numbers_count_file_lines(tmp_path: Path) -> None:
    """A problem names the file's line, even after blank lines."""
    lines = normal_bytes().decode().splitlines()
    short = lines[3].rsplit(",", 1)[0]  # bob's row, one field short
    text = "\n".join(["", lines[0], lines[1], "", lines[2], short]) + "\n"
    path = tmp_path / "lines.csv"
    path.write_text(text)
    bob = by_name(read_credential_report(path))["bob"]
    assert bob.problem is not None
    assert bob.problem.startswith("line 6 has 21 fields, the header has 22")


def test_row_of_empty_fields_is_not_skipped(tmp_path: Path) -> None:
    """Only blank lines are skipped; a row of empty fields is judged (ERROR)."""
    text = normal_bytes().decode() + "," * 21 + "\n"
    path = tmp_path / "commas.csv"
    path.write_text(text)
    report = read_credential_report(path)
    assert len(report.users) == len(NORMAL_USERS) + 1
    assert report.users[-1].problem is not None
    assert evaluate_report(report, Settings()).findings[-1].reason is Reason.INVALID_ROW


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("access_key_1_last_rotated", "last tuesday"),
        ("access_key_1_active", "maybe"),
        ("access_key_1_last_used_date", "2026-02-30T00:00:00+00:00"),
        ("password_enabled", "yes"),
        ("arn", "arn:aws:s3:::bucket"),
        ("user_creation_time", ""),
    ],
)
def test_unreadable_values_make_the_row_an_error(tmp_path: Path, column: str, value: str) -> None:
    lines = normal_bytes().decode().splitlines()
    header = lines[0].split(",")
    alice = lines[2].split(",")
    alice[header.index(column)] = value
    path = tmp_path / "value.csv"
    path.write_text("\n".join([lines[0], lines[1], ",".join(alice), lines[3]]) + "\n")
    report = read_credential_report(path)
    users = by_name(report)
    assert users["alice"].problem is not None
    assert column in users["alice"].problem
    assert users["bob"].problem is None
    found = verdicts(report)
    assert found[("alice", None)] == (Status.ERROR, Reason.INVALID_ROW)
    assert found[("bob", 1)] == (Status.PASS, Reason.KEY_USED)
