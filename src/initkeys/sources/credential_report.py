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

The file is read one physical line at a time, and each line is parsed alone.
AWS never writes a field that spans lines (user names and ARNs hold neither
quotes nor line breaks), so a stray quote, a quoted field left open, a wrong
number of fields, a NUL character or an over-long line costs that one line
(an ERROR row naming it) and never swallows the lines after it. Every
non-blank line after the header is either judged or reported
(:class:`~initkeys.model.ReportLines`).

The root account is recognised by its ARN (``arn:PARTITION:iam::ACCOUNT:root``),
not by the name ``<root_account>``. A redacted report (an account id that is not
12 digits) is judged, with a note.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any, NamedTuple

from initkeys.errors import InputError
from initkeys.inputs import BadJson, load_json
from initkeys.model import (
    AccessKey,
    CredentialReport,
    IamUser,
    ReportKeyCells,
    ReportLines,
    ReportRow,
)
from initkeys.timeutil import parse_utc

ROOT_USER = "<root_account>"

MAX_LINE = 131_072
"""The longest line read, in characters (the csv module's own field limit). An AWS row
is under 3,000 (a user name is at most 64, an ARN at most 2,048); a longer line is an
ERROR row, and is skipped piece by piece, never held whole."""
MAX_SKIPPED_LINE = 64 * 1024 * 1024
"""An over-long line is skipped (one ERROR row) up to this length; past it, the file is refused."""
MAX_JSON_CHARS = 256 * 1024 * 1024
"""The AWS CLI's JSON holds one account's report in base64 (an account has at most 5,000
users, a report of a few MB): 256 Mi characters is far past any."""

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

# A physical line as read: its text (line end included), or None for a line over MAX_LINE.
Line = str | None


class ReportReader:
    """A credential report read line by line, so a huge file is never held whole.

    ``users()`` yields the rows as :class:`IamUser`; ``account_id``, ``partition``,
    ``lines`` and ``notes`` are known once the rows have been read (the account
    comes from the ARNs, and every row must agree).
    """

    def __init__(
        self,
        lines: Iterable[Line],
        source: str,
        generated_at: datetime | None = None,
        first_line: int = 1,
        header: tuple[dict[str, int], int] | None = None,
    ) -> None:
        self.source = source
        self.generated_at = generated_at
        self._lines = lines
        self._first_line = first_line
        # Columns and width of a header read elsewhere: ``lines`` are data lines only (the
        # second part of a file split in two, see initkeys.split_report).
        self._header = header
        self._end = [0]  # the last line's number once every line is read
        self._account: tuple[str, str] | None = None
        self._prefix: str | None = None
        self._count = 0
        self._unreadable = 0

    @property
    def account_id(self) -> str:
        return self._finished()[0]

    @property
    def partition(self) -> str:
        return self._finished()[1]

    @property
    def lines(self) -> ReportLines:
        """How the data lines read so far were accounted for."""
        return ReportLines(
            read=self._count, judged=self._count - self._unreadable, unreadable=self._unreadable
        )

    @property
    def last_line(self) -> int:
        """The number of the last line read, once :meth:`records` has read them all."""
        return self._end[0]

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader of the result must know: a redacted account id."""
        account = self._finished()[0]
        if is_account_id(account):
            return ()
        return (
            f"account id {_shown(account)} is not a valid AWS account id (12 digits): the "
            "report looks redacted; its rows are judged and reported under the id as written",
        )

    def _finished(self) -> tuple[str, str]:
        if self._count == 0:
            raise InputError(f"{self.source}: not a credential report: it lists no users")
        if self._account is None:
            raise InputError(f"{self.source}: not a credential report: no row has an IAM user ARN")
        return self._account

    def users(self) -> Iterator[IamUser]:
        """Every row as an :class:`IamUser` (see :meth:`records` for the light ones)."""
        for record in self.records():
            yield record if isinstance(record, IamUser) else row_user(record)

    def records(self) -> Iterator[IamUser | ReportRow]:
        """Every row: a :data:`~initkeys.model.ReportRow` when it is a readable user's whose
        timestamps are all in AWS's own form (nearly every row), else an :class:`IamUser`
        (the root account, unreadable rows, other timestamp forms)."""
        name = self.source
        try:
            lines = iter(self._lines)
            number = self._first_line - 1
            header: str | None = None
            for line in () if self._header is not None else lines:
                number += 1
                if line is None:
                    raise InputError(
                        f"{name}: not a credential report: the header (line {number}) is "
                        f"longer than {MAX_LINE:,} characters"
                    )
                text = line.rstrip("\r\n")
                if text and not text.isspace():  # blank lines before the header are skipped
                    header = text
                    break
            if self._header is not None:
                columns, width = self._header
            elif header is None:
                raise InputError(f"{name}: not a credential report: the file is empty")
            else:
                columns, width = _columns(header, number, name)
            prefix = self._prefix  # the accounts' ARN prefix (see _check_account)
            for user in _users(lines, number, columns, width, self._end):
                self._count += 1
                if isinstance(user, tuple):
                    if prefix is None or not user[1].startswith(prefix):
                        self._check_account(user[1])
                        prefix = self._prefix
                else:
                    if user.problem is not None:
                        self._unreadable += 1
                    self._check_account(user.arn)
                yield user
        except UnicodeDecodeError:
            raise InputError(f"{name}: not a credential report: not UTF-8 text") from None

    def state(self) -> tuple[int, int, tuple[str, str] | None]:
        """Rows read, rows unreadable, and the account (None before a row names one)."""
        return self._count, self._unreadable, self._account

    def add_part(self, state: tuple[int, int, tuple[str, str] | None]) -> bool:
        """Count a later part of the file (its :meth:`state`) as read by this reader; False
        when it names another account (the caller then reads the file whole, so that the
        error names the first row in file order, as it always does)."""
        count, unreadable, account = state
        if account is not None:
            if self._account is None:
                self._account = account
                self._prefix = f"arn:{account[1]}:iam::{account[0]}:"
            elif account != self._account:
                return False
        self._count += count
        self._unreadable += unreadable
        return True

    def _check_account(self, arn: str) -> None:
        if self._prefix is not None and arn.startswith(self._prefix):
            return  # the common case: the same account as the rows before
        parsed = parse_iam_arn(arn)
        if parsed is None:
            return
        if self._account is None:
            self._account = parsed
            self._prefix = f"arn:{parsed[1]}:iam::{parsed[0]}:"
        elif parsed != self._account:
            found = self._account
            raise InputError(
                f"{self.source}: rows from more than one account "
                f"({_bare(found[1])}:{_bare(found[0])} and "
                f"{_bare(parsed[1])}:{_bare(parsed[0])}); a credential report covers one account"
            )

    def read(self, *, allow_empty: bool = False) -> CredentialReport:
        """Every row, held in memory.

        ``allow_empty``: a report with a header and no rows is an account without
        users (the live API; AWS itself always adds the root row, emulators may not).
        """
        users = tuple(self.users())
        if allow_empty and not users:
            return CredentialReport("", "", self.source, self.generated_at, (), self.lines)
        return self.report(users)

    def report(self, users: tuple[IamUser, ...] = ()) -> CredentialReport:
        """The report once its rows are read, holding ``users`` (none when they were judged
        as they came, so that only findings stay in memory)."""
        return CredentialReport(
            self.account_id,
            self.partition,
            self.source,
            self.generated_at,
            users,
            self.lines,
            self.notes,
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
    return ReportReader(
        _physical_lines(io.StringIO(text, newline=""), source), source, generated_at
    ).read(allow_empty=allow_empty)


def _physical_lines(stream: IO[str], name: str) -> Iterator[Line]:
    """The stream's lines as ``newline=""`` splits them (LF, CRLF or a lone CR), each
    with its line end; None for a line longer than :data:`MAX_LINE` (its text is skipped).
    A blank over-long line is skipped like any blank line."""
    readline = stream.readline
    while True:
        piece = readline(MAX_LINE)
        if not piece:
            return
        if len(piece) < MAX_LINE or piece[-1] in "\r\n":
            yield piece
            continue
        blank = _rest_of_line(piece, readline, name)
        if not blank:
            yield None


def _rest_of_line(piece: str, readline: Callable[[int], str], name: str) -> bool:
    """Read past the rest of an over-long line; True when all of it was blank.

    A line of more than :data:`MAX_SKIPPED_LINE` characters is no report's (``/dev/zero``
    is one endless line): the file is refused rather than read without end."""
    blank = piece.isspace()
    skipped = len(piece)
    while piece and piece[-1] not in "\r\n":
        if skipped > MAX_SKIPPED_LINE:
            raise InputError(
                f"{name}: not a credential report: a line longer than "
                f"{MAX_SKIPPED_LINE // (1024 * 1024)} MiB characters"
            )
        piece = readline(MAX_LINE)
        skipped += len(piece)
        blank = blank and (not piece or piece.isspace())
    return blank


def _reader(stream: IO[str], name: str) -> ReportReader:
    """CSV or the AWS CLI's JSON, told apart by the first character that is not blank."""
    readline = stream.readline
    number = 0
    while True:
        piece = readline(MAX_LINE)
        if not piece:
            raise InputError(f"{name}: not a credential report: the file is empty")
        number += 1
        if piece.isspace():
            if piece[-1] not in "\r\n":  # the start of a long blank line
                _rest_of_line(piece, readline, name)
            continue
        if piece.lstrip().startswith("{"):  # JSON may be one line of any length
            rest = stream.read(MAX_JSON_CHARS + 1)
            if len(rest) > MAX_JSON_CHARS:
                raise InputError(
                    f"{name}: not a credential report: JSON larger than "
                    f"{MAX_JSON_CHARS // (1024 * 1024)} MiB characters"
                )
            return _parse_cli_json(piece + rest, name)
        first: Line = piece
        if len(piece) == MAX_LINE and piece[-1] not in "\r\n":
            _rest_of_line(piece, readline, name)
            first = None
        return ReportReader(
            itertools.chain((first,), _physical_lines(stream, name)), name, first_line=number
        )


def _parse_cli_json(data: str, name: str) -> ReportReader:
    """The output of ``aws iam get-credential-report``."""
    try:
        document: Any = load_json(data)
    except BadJson as e:
        raise InputError(f"{name}: not a credential report: {e}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Content"), str):
        raise InputError(
            f"{name}: not a credential report: JSON without a 'Content' string "
            "(expected the output of 'aws iam get-credential-report')"
        )
    report_format = document.get("ReportFormat", "text/csv")
    if report_format != "text/csv":
        raise InputError(
            f"{name}: unsupported ReportFormat {_shown(report_format)} (expected text/csv)"
        )
    try:
        content = base64.b64decode(document["Content"], validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{name}: not a credential report: 'Content' is not base64") from None
    generated_at = None
    generated = document.get("GeneratedTime")
    if generated is not None:
        generated_at = parse_utc(generated) if isinstance(generated, str) else None
        if generated_at is None:
            raise InputError(
                f"{name}: not a credential report: GeneratedTime {_shown(generated)} is not a "
                "timestamp between 1970 and 9000"
            )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not a credential report: 'Content' is not UTF-8") from None
    if not text.strip():
        raise InputError(f"{name}: not a credential report: 'Content' is empty")
    return ReportReader(_physical_lines(io.StringIO(text, newline=""), name), name, generated_at)


def parse_iam_arn(arn: str) -> tuple[str, str] | None:
    """(account id, partition) of an IAM user's or the root account's ARN, or None.

    The account id is taken as written: a redacted report's ``XXXXXXXXXXXX`` or
    ``<redacted>`` is an account id here (see :func:`is_account_id`).
    """
    parsed = _iam_arn(arn)
    return None if parsed is None else (parsed[0], parsed[1])


def is_account_id(text: str) -> bool:
    """True for a real AWS account id: 12 ASCII digits."""
    return len(text) == 12 and text.isascii() and text.isdigit()


def _iam_arn(arn: str) -> tuple[str, str, str] | None:
    """(account id, partition, resource) of ``arn:PARTITION:iam::ACCOUNT:user/...`` or
    ``arn:PARTITION:iam::ACCOUNT:root``; None for anything else (a role, another service)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3]:
        return None
    partition, account, resource = parts[1], parts[4], parts[5]
    if not partition or not account or account.isspace():
        return None
    if resource != "root" and (not resource.startswith("user/") or resource.endswith("/")):
        return None
    return account, partition, resource


def _shown(value: object, limit: int = 64) -> str:
    """``value`` quoted for a one-line message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bare(text: str) -> str:
    """``text`` as it is when it is short and printable, else quoted and cut."""
    return text if len(text) <= 64 and text.isprintable() else _shown(text)


def _split(text: str) -> list[str] | str:
    """One line's fields, read by the csv rules; a str says why the line cannot be read.

    Only lines with a quote or a NUL come here: the others are split on commas.
    """
    if "\x00" in text:
        return "holds a NUL character"
    try:
        fields = next(csv.reader((text,), strict=True))
    except csv.Error as e:
        if "end of data" in str(e):
            return (
                "opens a quoted field that does not end on the line (a credential report "
                "field never spans lines)"
            )
        return f"is not valid CSV: {e}"
    if any('"' in field for field in fields):
        # No value AWS writes holds a quote: this is the tail of a field that was
        # opened on an earlier line, or an edit, and its columns cannot be trusted.
        return "holds a quote character inside a field (no credential report value does)"
    return fields


def _columns(header: str, number: int, name: str) -> tuple[dict[str, int], int]:
    """Column positions by name (lower case), and the header's width; InputError when the
    header cannot be read, lacks a column, or names a column twice."""
    fields = _split(header) if '"' in header or "\x00" in header else header.split(",")
    if isinstance(fields, str):
        raise InputError(f"{name}: not a credential report: the header (line {number}) {fields}")
    columns: dict[str, int] = {}
    twice: str | None = None
    for i, column in enumerate(fields):
        key = column.strip().lower()
        if key in columns:
            twice = twice or column.strip()
        else:
            columns[key] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{name}: not a credential report: missing column(s) {', '.join(missing)}")
    if twice is not None:
        # Which of the two would count is a guess: the report is refused, not guessed at.
        raise InputError(
            f"{name}: not a credential report: the header names column {_shown(twice)} twice"
        )
    return columns, len(fields)


def _unreadable(name: str, arn: str, problem: str) -> IamUser:
    return IamUser(name=name, arn=arn, created=None, console_password=False, problem=problem)


class _Columns(NamedTuple):
    """Where a row's fields are: the fast and the careful path read the same ones."""

    user: int
    arn: int
    created: int
    password: int
    changed: int | None  # optional: the password's creation
    slots: list[tuple[int, int, int, int]]  # (slot, active, last rotated, last used)


def _where(columns: dict[str, int]) -> _Columns:
    """The columns a row is read from, by their positions in the header (``columns``)."""
    return _Columns(
        columns["user"],
        columns["arn"],
        columns["user_creation_time"],
        columns["password_enabled"],
        columns.get("password_last_changed"),
        [
            (
                n,
                columns[f"access_key_{n}_active"],
                columns[f"access_key_{n}_last_rotated"],
                columns[f"access_key_{n}_last_used_date"],
            )
            for n in (1, 2)
        ],
    )


def _users(
    lines: Iterator[Line],
    number: int,
    columns: dict[str, int],
    header_width: int,
    end: list[int] | None = None,
) -> Iterator[IamUser | ReportRow]:
    """A user per non-blank line after the header (line ``number``): read, or unreadable."""
    where = _where(columns)
    c_user, c_arn = where.user, where.arn
    fast = _row_reader(where)
    known = [""]  # the ARN prefix of the rows so far (see _row_reader)
    for line in lines:
        number += 1
        if line is None:
            yield _unreadable(
                f"line {number}", "", f"line {number} is longer than {MAX_LINE:,} characters"
            )
            continue
        text = line.rstrip("\r\n")
        if not text or text.isspace():
            continue  # a blank line, e.g. a trailing newline
        if '"' in text or "\x00" in text:  # the fast path is a plain split
            row = _split(text)
            if isinstance(row, str):
                yield _unreadable(f"line {number}", "", f"line {number} {row}")
                continue
        else:
            row = text.split(",")
        if len(row) != header_width:
            yield _unreadable(
                row[c_user] if c_user < len(row) and row[c_user] else f"line {number}",
                row[c_arn] if c_arn < len(row) else "",
                f"line {number} has {len(row)} fields, the header has {header_width}",
            )
            continue
        yield fast(row, known) or _user(row, number, where)
    if end is not None:
        end[0] = number  # where a second part's numbering must go on (initkeys.split_report)


def row_user(row: ReportRow) -> IamUser:
    """The :class:`IamUser` of a light row: what :func:`_user` makes of the same cells."""
    name, arn, _, created, password, password_text, keys = row
    return IamUser(
        name,
        arn,
        created,
        password,
        None if password_text is None else datetime.fromisoformat(password_text),
        tuple(
            AccessKey(
                slot, key_created, active, None if used is None else datetime.fromisoformat(used)
            )
            for slot, _, key_created, active, used in keys
        ),
    )


def _row_reader(where: _Columns) -> Callable[[list[str], list[str]], ReportRow | None]:
    """The fast reader of rows laid out as ``where`` says: a row (its fields) and
    ``known`` → the common, well-formed row, read with few checks, its timestamps kept as
    written; None sends it to :func:`_user` (so does any timestamp not in AWS's own form).
    ``known[0]`` is the ARN prefix (``arn:PARTITION:iam::ACCOUNT:``) of an earlier row, or ''.
    """
    # Columns and helpers bound once, as the closure's own: this runs for every row.
    c_user, c_arn, c_created, c_password, c_changed, slots = where
    boolean = _BOOL.get
    stamp = _aws_timestamp
    root = ROOT_USER

    def read(row: list[str], known: list[str]) -> ReportRow | None:
        name = row[c_user]
        arn = row[c_arn]
        if not name or name == root:
            return None
        prefix = known[0]
        if prefix and arn.startswith(prefix):
            # The account and partition of the row before: only the resource is left.
            resource = arn[len(prefix) :]
            if not resource.startswith("user/") or resource.endswith("/"):
                return None
        else:
            parsed = _iam_arn(arn)
            if parsed is None or parsed[2] == "root":
                return None
            # The first five fields, colons and all: an ARN that starts with them splits to them.
            known[0] = f"arn:{parsed[1]}:iam::{parsed[0]}:"
        created_text = row[c_created]
        created = stamp(created_text)
        password = boolean(row[c_password])
        if created is None or password is None:
            return None
        keys: list[ReportKeyCells] = []
        for slot, c_active, c_rotated, c_used in slots:
            rotated = row[c_rotated]
            active = boolean(row[c_active])
            if rotated == "N/A":
                if active is not False:
                    return None
                continue
            key_created = stamp(rotated)
            used: str | None = row[c_used]
            if used == "N/A":
                used = None
            elif stamp(used) is None:  # type: ignore[arg-type]
                return None
            if key_created is None or active is None:
                return None
            keys.append((slot, rotated, key_created, active, used))
        password_text = None
        if password and c_changed is not None:
            password_text = row[c_changed]
            if password_text == "N/A":
                password_text = None
            elif stamp(password_text) is None:
                return None
        return (name, arn, created_text, created, password, password_text, tuple(keys))

    return read


def _aws_timestamp(text: str) -> datetime | None:
    """AWS's own form, ``2014-09-01T22:28:48+00:00`` (a year 1970..8999), as an aware UTC
    datetime whose ``format_utc`` is the text less ``+00:00``, plus ``Z``; None for any
    other text, whether a timestamp or not (the careful path then reads it)."""
    # Positions 4, 7, 10, 13, 16, 19 and 22 hold "--T::+:" (one slice): with them fixed,
    # fromisoformat reads only YYYY-MM-DDTHH:MM:SS, whose digits it checks itself.
    if (
        len(text) == 25
        and text[4:23:3] == "--T::+:"
        and text[19:] == "+00:00"
        and "1970" <= text[:4] < "9000"
    ):
        try:
            return datetime.fromisoformat(text)  # its tzinfo is timezone.utc
        except ValueError:
            return None
    return None


def _fast_timestamp(text: str) -> datetime | None:
    """:func:`~initkeys.timeutil.parse_utc`, AWS's own form first."""
    return _aws_timestamp(text) or parse_utc(text)


def _user(row: list[str], line: int, where: _Columns) -> IamUser:
    c_user, c_arn, c_created, c_password, c_changed, slots = where
    name = row[c_user]
    arn = row[c_arn]
    parsed = _iam_arn(arn)
    if parsed is not None and parsed[2] == "root":
        # Root by its ARN, whatever the name column says (root keys are control 1.4).
        return IamUser(
            name=name or ROOT_USER, arn=arn, created=None, console_password=False, is_root=True
        )
    if name == ROOT_USER and parsed is not None:
        # The name is not the root's ARN: judge the user the ARN names, so a key
        # cannot hide behind the root's name.
        name = parsed[2].rpartition("/")[2]
    problems: list[str] = []
    if not name:
        problems.append("user is empty")
    if parsed is None:
        problems.append(f"arn {_shown(arn)} is not an IAM user ARN")
    created = parse_utc(row[c_created])
    if created is None:
        problems.append(f"user_creation_time {_shown(row[c_created])} is not a timestamp")
    password = _BOOL.get(row[c_password].strip().lower())
    if password is None:
        problems.append(f"password_enabled {_shown(row[c_password])} is not true or false")
    password_created = None if c_changed is None else _optional_timestamp(row[c_changed])
    keys: list[AccessKey] = []
    for slot, c_active, c_rotated, c_used in slots:
        rotated = row[c_rotated]
        active = _BOOL.get(row[c_active].strip().lower())
        if active is None:
            problems.append(
                f"access_key_{slot}_active {_shown(row[c_active])} is not true or false"
            )
        if not rotated.strip():
            problems.append(f"access_key_{slot}_last_rotated is empty")
            continue
        if rotated.strip().lower() in _NOT_SET:
            if active:
                problems.append(
                    f"access_key_{slot}_active is true but access_key_{slot}_last_rotated "
                    f"is {_shown(rotated)}"
                )
            continue  # no key in this slot
        key_created = parse_utc(rotated)
        used_text = row[c_used]
        last_used = _optional_timestamp(used_text)
        if key_created is None:
            problems.append(f"access_key_{slot}_last_rotated {_shown(rotated)} is not a timestamp")
        if not used_text.strip():
            problems.append(f"access_key_{slot}_last_used_date is empty")
        elif last_used is None and used_text.strip().lower() not in _NOT_SET:
            problems.append(
                f"access_key_{slot}_last_used_date {_shown(used_text)} is not a timestamp"
            )
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
            problem=f"line {line}: " + "; ".join(problems),
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
    return parse_utc(text)
