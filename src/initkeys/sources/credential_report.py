"""Read an IAM credential report: the CSV as AWS delivers it, or the AWS CLI's JSON.

Accepted input:

- the CSV (UTF-8, with or without a BOM, LF or CRLF line ends, columns in any
  order, extra columns ignored);
- the JSON that ``aws iam get-credential-report`` prints, whose ``Content`` is
  the CSV in base64 and whose ``GeneratedTime`` says when AWS made it.

A file that is not a credential report raises :class:`InputError` with one
line saying why. A single row that cannot be read becomes an :class:`IamUser`
with ``problem`` set, which the evaluator judges ERROR ``invalid-row``: one
bad row must not hide the rest of the account.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import itertools
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Protocol

from initkeys.errors import InputError
from initkeys.model import AccessKey, CredentialReport, IamUser
from initkeys.timeutil import EARLIEST, LATEST, parse_utc

ROOT_USER = "<root_account>"


class _CsvReader(Protocol):
    """What :func:`csv.reader` returns (``_csv.reader`` is not importable for typing)."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


REQUIRED_COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
)

# What AWS writes for "nothing here" in key and password columns.
_NOT_SET = frozenset({"n/a", "not_supported", "no_information"})
_BOOL = {"true": True, "false": False, "TRUE": True, "FALSE": False}


class ReportReader:
    """A credential report read row by row, so a huge file is never held whole.

    ``users()`` yields the rows as :class:`IamUser`; ``account_id`` and
    ``partition`` are known once the rows have been read (they come from the
    ARNs, and every row must agree).
    """

    def __init__(
        self,
        lines: Iterable[str],
        source: str,
        generated_at: datetime | None = None,
        skipped_lines: int = 0,
    ) -> None:
        self.source = source
        self._skipped_lines = skipped_lines
        self.generated_at = generated_at
        self._lines = lines
        self._account: tuple[str, str] | None = None
        self._prefix: str | None = None
        self._count = 0

    @property
    def account_id(self) -> str:
        return self._finished()[0]

    @property
    def partition(self) -> str:
        return self._finished()[1]

    def _finished(self) -> tuple[str, str]:
        if self._count == 0:
            raise InputError(f"{self.source}: not a credential report: it lists no users")
        if self._account is None:
            raise InputError(f"{self.source}: not a credential report: no row has an IAM ARN")
        return self._account

    def users(self) -> Iterator[IamUser]:
        name = self.source
        try:
            rows = csv.reader(self._lines)
            # Blank lines before the header are skipped, not taken for the header.
            header = next((row for row in rows if not _blank(row)), None)
            if header is None:
                raise InputError(f"{name}: not a credential report: the file is empty")
            columns = {column.strip().lower(): i for i, column in enumerate(header)}
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise InputError(
                    f"{name}: not a credential report: missing column(s) {', '.join(missing)}"
                )
            for user in _users(rows, columns, len(header), self._skipped_lines):
                self._count += 1
                self._check_account(user)
                yield user
        except csv.Error as e:
            raise InputError(f"{name}: not a credential report: CSV error: {e}") from None
        except UnicodeDecodeError:
            raise InputError(f"{name}: not a credential report: not UTF-8 text") from None

    def _check_account(self, user: IamUser) -> None:
        if self._prefix is not None and user.arn.startswith(self._prefix):
            return  # the common case: the same account as the rows before
        parsed = parse_iam_arn(user.arn)
        if parsed is None:
            return
        if self._account is None:
            self._account = parsed
            self._prefix = f"arn:{parsed[1]}:iam::{parsed[0]}:"
        elif parsed != self._account:
            found = self._account
            raise InputError(
                f"{self.source}: rows from more than one account ({found[1]}:{found[0]} and "
                f"{parsed[1]}:{parsed[0]}); a credential report covers one account"
            )

    def read(self, *, allow_empty: bool = False) -> CredentialReport:
        """Every row, held in memory.

        ``allow_empty``: a report with a header and no rows is an account without
        users (the live API; AWS itself always adds the root row, emulators may not).
        """
        users = tuple(self.users())
        if allow_empty and not users:
            return CredentialReport("", "", self.source, self.generated_at, ())
        return CredentialReport(
            account_id=self.account_id,
            partition=self.partition,
            source=self.source,
            generated_at=self.generated_at,
            users=users,
        )


@contextmanager
def open_credential_report(path: str | os.PathLike[str]) -> Iterator[ReportReader]:
    """Open a credential report file (``-`` is standard input) for reading row by row."""
    name = "<stdin>" if str(path) == "-" else os.path.basename(os.fspath(path))
    try:
        if str(path) == "-":
            stream: IO[str] = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
            yield _reader(stream, name)
            return
        with open(path, encoding="utf-8-sig", newline="") as stream:
            yield _reader(stream, name)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a credential report") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except UnicodeDecodeError:
        raise InputError(f"{name}: not a credential report: the file is not UTF-8 text") from None


def read_credential_report(path: str | os.PathLike[str]) -> CredentialReport:
    """Read a whole credential report file (``-`` reads standard input)."""
    with open_credential_report(path) as reader:
        return reader.read()


def parse_credential_report(
    content: bytes | str,
    source: str,
    generated_at: datetime | None = None,
    *,
    allow_empty: bool = False,
) -> CredentialReport:
    """Parse a credential report held in memory (the live API's ``Content``)."""
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{source}: not a credential report: not UTF-8 text") from None
    else:
        text = content.removeprefix("\ufeff")
    return ReportReader(io.StringIO(text, newline=""), source, generated_at).read(
        allow_empty=allow_empty
    )


def _reader(stream: IO[str], name: str) -> ReportReader:
    """CSV or the AWS CLI's JSON, told apart by the first character that is not blank."""
    skipped: list[str] = []
    for line in stream:
        if line.strip():
            if line.lstrip().startswith("{"):
                return _parse_cli_json("".join(skipped) + line + stream.read(), name)
            return ReportReader(itertools.chain((line,), stream), name, skipped_lines=len(skipped))
        skipped.append(line)
    raise InputError(f"{name}: not a credential report: the file is empty")


def _parse_cli_json(data: str, name: str) -> ReportReader:
    """The output of ``aws iam get-credential-report``."""
    try:
        document = json.loads(data)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: not a credential report: invalid JSON ({e})") from None
    if not isinstance(document, dict) or not isinstance(document.get("Content"), str):
        raise InputError(
            f"{name}: not a credential report: JSON without a 'Content' string "
            "(expected the output of 'aws iam get-credential-report')"
        )
    report_format = document.get("ReportFormat", "text/csv")
    if report_format != "text/csv":
        raise InputError(f"{name}: unsupported ReportFormat {report_format!r} (expected text/csv)")
    try:
        content = base64.b64decode(document["Content"], validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{name}: not a credential report: 'Content' is not base64") from None
    generated_at = None
    if document.get("GeneratedTime") is not None:
        generated_at = parse_timestamp(str(document["GeneratedTime"]))
        if generated_at is None:
            raise InputError(
                f"{name}: not a credential report: GeneratedTime "
                f"{document['GeneratedTime']!r} is not a timestamp"
            )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not a credential report: 'Content' is not UTF-8") from None
    if not text.strip():
        raise InputError(f"{name}: not a credential report: 'Content' is empty")
    return ReportReader(io.StringIO(text, newline=""), name, generated_at)


def parse_iam_arn(arn: str) -> tuple[str, str] | None:
    """(account id, partition) of ``arn:<partition>:iam::<account>:...``, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[1]:
        return None
    account = parts[4]
    if len(account) != 12 or not account.isdigit():
        return None
    return account, parts[1]


def _blank(row: list[str]) -> bool:
    """An empty or all-space line (a row of empty fields, ``,,,``, is not blank)."""
    return len(row) <= 1 and not "".join(row).strip()


def _users(
    rows: _CsvReader, columns: dict[str, int], header_width: int, offset: int = 0
) -> Iterator[IamUser]:
    width = max(columns.values()) + 1
    c_user = columns["user"]
    c_arn = columns["arn"]
    c_created = columns["user_creation_time"]
    c_password = columns["password_enabled"]
    c_changed = columns.get("password_last_changed")  # optional: the password's creation
    slots = [
        (
            n,
            columns[f"access_key_{n}_active"],
            columns[f"access_key_{n}_last_rotated"],
            columns[f"access_key_{n}_last_used_date"],
        )
        for n in (1, 2)
    ]
    for row in rows:
        if len(row) < width:
            if _blank(row):
                continue  # blank line, e.g. a trailing newline
            line = rows.line_num + offset  # the file's line, not the record's index
            name = row[c_user] if c_user < len(row) else f"line {line}"
            arn = row[c_arn] if c_arn < len(row) else ""
            yield IamUser(
                name=name,
                arn=arn,
                created=None,
                console_password=False,
                problem=f"line {line} has {len(row)} fields, the header has {header_width}",
            )
            continue
        user = _fast_user(row, c_user, c_arn, c_created, c_password, c_changed, slots)
        if user is None:  # something unusual: the careful path says what
            user = _user(
                row, rows.line_num + offset, c_user, c_arn, c_created, c_password, c_changed, slots
            )
        yield user


def _fast_user(
    row: list[str],
    c_user: int,
    c_arn: int,
    c_created: int,
    c_password: int,
    c_changed: int | None,
    slots: list[tuple[int, int, int, int]],
) -> IamUser | None:
    """The common, well-formed row, parsed with few checks; None sends it to :func:`_user`."""
    name = row[c_user]
    arn = row[c_arn]
    if not name or name == ROOT_USER or parse_iam_arn(arn) is None:
        return None
    created = _fast_timestamp(row[c_created])
    password = _BOOL.get(row[c_password])
    if created is None or password is None:
        return None
    keys: list[AccessKey] = []
    for slot, c_active, c_rotated, c_used in slots:
        rotated = row[c_rotated]
        active = _BOOL.get(row[c_active])
        if rotated == "N/A":
            if active is not False:
                return None
            continue
        key_created = _fast_timestamp(rotated)
        used_text = row[c_used]
        last_used = None if used_text == "N/A" else _fast_timestamp(used_text)
        if key_created is None or active is None or (last_used is None and used_text != "N/A"):
            return None
        keys.append(AccessKey(slot, key_created, active, last_used))
    password_created = None
    if password and c_changed is not None:
        changed = row[c_changed]
        if changed != "N/A":
            password_created = _fast_timestamp(changed)
            if password_created is None:
                return None
    return IamUser(name, arn, created, password, password_created, tuple(keys))


def _fast_timestamp(text: str) -> datetime | None:
    """AWS's own form, ``2014-09-01T22:28:48+00:00``, straight to an aware UTC datetime."""
    if len(text) == 25 and text[10] == "T" and text.endswith("+00:00"):
        try:
            value = datetime.fromisoformat(text)  # its tzinfo is timezone.utc
        except ValueError:
            return None
        return value if EARLIEST <= value < LATEST else None
    return parse_utc(text)


def _user(
    row: list[str],
    line: int,
    c_user: int,
    c_arn: int,
    c_created: int,
    c_password: int,
    c_changed: int | None,
    slots: list[tuple[int, int, int, int]],
) -> IamUser:
    name = row[c_user]
    arn = row[c_arn]
    if name == ROOT_USER:
        return IamUser(name=name, arn=arn, created=None, console_password=False, is_root=True)
    problems: list[str] = []
    if not name:
        problems.append("user is empty")
    if parse_iam_arn(arn) is None:
        problems.append(f"arn {arn!r} is not an IAM ARN")
    created = parse_timestamp(row[c_created])
    if created is None:
        problems.append(f"user_creation_time {row[c_created]!r} is not a timestamp")
    password = _BOOL.get(row[c_password].strip().lower())
    if password is None:
        problems.append(f"password_enabled {row[c_password]!r} is not true or false")
    password_created = None
    if c_changed is not None and c_changed < len(row):
        password_created = _optional_timestamp(row[c_changed])
    keys: list[AccessKey] = []
    for slot, c_active, c_rotated, c_used in slots:
        rotated = row[c_rotated]
        active = _BOOL.get(row[c_active].strip().lower())
        if active is None:
            problems.append(f"access_key_{slot}_active {row[c_active]!r} is not true or false")
        if not rotated.strip():
            problems.append(f"access_key_{slot}_last_rotated is empty")
            continue
        if rotated.strip().lower() in _NOT_SET:
            if active:
                problems.append(
                    f"access_key_{slot}_active is true but access_key_{slot}_last_rotated "
                    f"is {rotated!r}"
                )
            continue  # no key in this slot
        key_created = parse_timestamp(rotated)
        used_text = row[c_used]
        last_used = _optional_timestamp(used_text)
        if key_created is None:
            problems.append(f"access_key_{slot}_last_rotated {rotated!r} is not a timestamp")
        if not used_text.strip():
            problems.append(f"access_key_{slot}_last_used_date is empty")
        elif last_used is None and used_text.strip().lower() not in _NOT_SET:
            problems.append(f"access_key_{slot}_last_used_date {used_text!r} is not a timestamp")
        if key_created is not None and active is not None:
            keys.append(
                AccessKey(slot=slot, created=key_created, active=active, last_used=last_used)
            )
    if problems:
        return IamUser(
            name=name or f"line {line}",
            arn=arn,
            created=created,
            console_password=bool(password),
            problem="; ".join(problems),
        )
    return IamUser(
        name=name,
        arn=arn,
        created=created,
        console_password=bool(password),
        password_created=password_created if password else None,
        keys=tuple(keys),
    )


def _optional_timestamp(text: str) -> datetime | None:
    if text.strip().lower() in _NOT_SET or not text.strip():
        return None
    return parse_timestamp(text)


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 date and time as an aware UTC datetime; None when it is not one
    (see :func:`initkeys.timeutil.parse_utc`, which this is)."""
    return parse_utc(text)
