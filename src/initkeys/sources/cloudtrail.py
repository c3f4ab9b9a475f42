"""Read IAM creation events from CloudTrail: ``--cloudtrail lookup``, ``s3://…`` or a directory.

Three readers behind one small interface (:class:`TrailReader`): each is asked
for the events of one account within some time ranges, and reads only what
can hold them.

- :class:`LookupTrail` calls ``LookupEvents`` (the event history: 90 days,
  at most 2 requests a second per account and region) once per event name and
  range, in the partition's home region, where IAM records its events.
- :class:`S3Trail` reads the log files a trail delivers to S3
  (``PREFIX/AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…json.gz``, or with
  ``o-ORGID/`` before the account for an organization trail): it lists only the
  days of the ranges, and reads only the files delivered while their events
  could be in them.
- :class:`DirectoryTrail` does the same for such files on disk, in any layout.

Every reader keeps ``CreateUser``, ``CreateLoginProfile`` and ``CreateAccessKey``
events of ``iam.amazonaws.com`` that succeeded, as :class:`CreationEvent` records.
"""

from __future__ import annotations

import bisect
import gzip
import io
import os
import re
import stat
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any, BinaryIO, Protocol

from initkeys.aws import AwsContext
from initkeys.errors import InputError
from initkeys.inputs import BadJson, load_json
from initkeys.model import CreationEvent, EventName, TimeRange, TrailEvidence
from initkeys.partitions import PARTITION_HOME_REGION
from initkeys.sources.aws import (
    LiveAccount,
    access_errors,
    error_code,
    with_throttle_retry,
)
from initkeys.timeutil import as_utc, parse_utc

IAM_SOURCE = "iam.amazonaws.com"
EVENT_NAMES = tuple(EventName)
_BY_NAME = {e.value: e for e in EventName}

# LookupEvents: the event history holds 90 days; 2 requests a second per account and region.
LOOKUP_DAYS = 90
LOOKUP_RATE = 2.0
_LOOKUP_PAGE = 50  # the API's largest page
LOOKUP_NEEDS_ACCOUNT = (
    "--cloudtrail lookup reads the signed-in account's event history; with "
    "--credential-report give the trail's s3://BUCKET/PREFIX or a directory of its log files"
)

# A log file holds events from before its delivery time (in its name, to the
# minute). CloudTrail delivers within about 5 minutes on average, without a
# guarantee: files delivered up to this long after a range are read too.
DELIVERY_LAG = timedelta(hours=1)

# AccountID_CloudTrail_RegionName_YYYYMMDDTHHmmZ_UniqueString.json.gz
_FILE_NAME = re.compile(
    r"^(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_(?P<stamp>\d{8}T\d{4}Z)_[^/]*$"
)
_DAY_FOLDER = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})$")
# Lower case since 2018; older buckets in us-east-1 may have capitals and underscores.
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$")
_LOG_SUFFIXES = (".json.gz", ".json")

# What one audit reads is bounded: a trail delivers a file per region every few
# minutes, of at most a few MB, and an event is at most 256 KB. The limits stop
# hostile or broken input; they are module constants, so that tests can lower them.
MAX_LOG_BYTES = 1 << 30
"""Largest log file read, once decompressed (1 GiB): a gzip bomb stops here."""
MAX_DOWNLOAD_BYTES = 1 << 30
"""Largest log object downloaded from S3, as stored (1 GiB, compressed)."""
MAX_RECORDS = 10_000_000
"""Records read for one account, all files together. A busy account logs a few
hundred thousand management events a day and only the days around the keys in
question are read, so ten million is far beyond real evidence, yet parsing that
many (10-20 GB of JSON) already takes several minutes: past it, reading stops and
the note says so, rather than an audit that never ends."""
MAX_EVENT_CHARS = 1 << 20
"""Longest ``CloudTrailEvent`` string read from ``LookupEvents`` (1 MiB)."""
_CHUNK = 1 << 20
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class TrailReader(Protocol):
    """Reads the creation events of one account that happened within ``ranges``."""

    source: str

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        """The events found, the ranges read, and what got in the way."""
        ...


@dataclass(frozen=True)
class TrailSpec:
    """``--cloudtrail SOURCE``, parsed: ``lookup``, ``s3://BUCKET/PREFIX`` or a directory."""

    kind: str
    """``lookup``, ``s3`` or ``directory``."""
    bucket: str | None = None
    prefix: str = ""
    """The trail's S3 key prefix (what comes before ``AWSLogs/``), without slashes at its ends."""
    path: str | None = None


def parse_trail_source(text: str) -> TrailSpec:
    """``--cloudtrail``'s value; a bad one is an :class:`InputError` (exit 2)."""
    value = text.strip()
    if value == "lookup":
        return TrailSpec("lookup")
    if value.lower().startswith("s3://"):
        bucket, _, prefix = value[5:].partition("/")
        if not _BUCKET.match(bucket):
            raise InputError(f"--cloudtrail {text}: {bucket!r} is not an S3 bucket name")
        prefix = prefix.strip("/")
        # Accept the prefix with AWSLogs too: it is what the console shows.
        if prefix == "AWSLogs" or prefix.endswith("/AWSLogs"):
            prefix = prefix[: -len("AWSLogs")].rstrip("/")
        return TrailSpec("s3", bucket=bucket, prefix=prefix)
    if value and os.path.isdir(value):
        return TrailSpec("directory", path=value)
    if value and os.path.exists(value):
        raise InputError(f"--cloudtrail {text}: not a directory (give the folder of the log files)")
    raise InputError(
        f"--cloudtrail {text!r}: expected 'lookup', s3://BUCKET/PREFIX, or a directory "
        "of CloudTrail log files"
    )


def trail_readers(
    spec: TrailSpec, *, aws: AwsContext | None = None, policy: str = "audit"
) -> Callable[[LiveAccount | None], TrailReader]:
    """Which reader serves an audited account: LookupEvents in that account (through its
    own context), or the one bucket or directory every account's logs are in (an
    organization's trail bucket is read with ``aws``, the signed-in account's).

    A bucket is listed once here (``AWSLogs/``), so that a wrong name (InputError)
    or a denied list (AccessError) ends the run before the audit, not after it.
    A denial names ``initkeys policy POLICY --cloudtrail SOURCE`` (``audit``, or
    ``remediate`` for a remediation's own audit)."""
    if spec.kind == "directory":
        assert spec.path is not None
        directory = DirectoryTrail(spec.path)
        return lambda _account: directory
    if spec.kind == "s3":
        assert spec.bucket is not None and aws is not None
        client = aws.client("s3", workers=8)
        bucket = S3Trail(client, spec.bucket, spec.prefix, policy=policy)
        bucket.owners()  # fail now, not after the audit, on a wrong bucket or a denied list
        return lambda _account: bucket

    def lookup(account: LiveAccount | None) -> TrailReader:
        if account is None:
            raise InputError(LOOKUP_NEEDS_ACCOUNT)
        return LookupTrail(account.home_client("cloudtrail"), policy=policy)

    return lookup


# --------------------------------------------------------------------------- records


class BadRecord(ValueError):
    """A record of an event initkeys reads (a successful IAM creation) that cannot be
    read: a time that is none, a user name of the wrong shape, names that disagree.
    ``str(error)`` says which field, never the record's own text (it is hostile)."""


# The element of ``responseElements`` that names the user, per event.
_RESPONSE_ELEMENT = {
    EventName.CREATE_USER: "user",
    EventName.CREATE_LOGIN_PROFILE: "loginProfile",
    EventName.CREATE_ACCESS_KEY: "accessKey",
}
# IAM user names: 1 to 64 letters, digits and ``+=,.@_-`` (IAM API reference, CreateUser).
_USER_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")


def creation_event(record: Mapping[str, Any]) -> CreationEvent | None:
    """The record as a :class:`CreationEvent`, or None when it is not one we want
    (another service or event, a failed call, the root user's own key) or cannot
    be read (see :func:`read_record`, which says why)."""
    try:
        return read_record(record)
    except BadRecord:
        return None


def read_record(record: Any) -> CreationEvent | None:
    """The record as a :class:`CreationEvent`; None when it is not one we want (another
    service or event, a failed call, the root user's own key or password).

    Raises :class:`BadRecord` for a creation record that cannot be read. The user acted
    on is ``requestParameters.userName``, else the response's ``userName``, else (when
    neither is there at all: a call without ``UserName`` acts on its caller) the calling
    IAM user. Names that disagree, or are not IAM user names, are a BadRecord: never a
    guess, since "the user made its own key" turns on that name.
    """
    if not isinstance(record, Mapping):
        return None
    if record.get("eventSource") != IAM_SOURCE or record.get("errorCode"):
        return None
    event_name = record.get("eventName")
    name = _BY_NAME.get(event_name) if isinstance(event_name, str) else None
    if name is None:
        return None
    moment = _event_time(record.get("eventTime"))
    if moment is None:
        raise BadRecord("eventTime is not a time")
    identity = _mapping(record.get("userIdentity"))
    kind = _text(identity.get("type"))
    arn = _text(identity.get("arn"))
    principal_name = _text(identity.get("userName"))
    if principal_name is None and arn and kind in ("AssumedRole", "FederatedUser"):
        principal_name = arn.rsplit("/", 1)[-1]  # the session's name
    request = _object(record.get("requestParameters"), "requestParameters")
    response = _object(record.get("responseElements"), "responseElements")
    element_name = _RESPONSE_ELEMENT[name]
    element = _object(response.get(element_name), f"responseElements.{element_name}")
    target = _target_user(
        _user_name(request, "requestParameters.userName"),
        _user_name(element, f"responseElements.{element_name}.userName"),
        kind,
        principal_name,
    )
    if target is None:
        return None
    key_id = _text(element.get("accessKeyId")) if name is EventName.CREATE_ACCESS_KEY else None
    account = _text(record.get("recipientAccountId")) or _text(identity.get("accountId")) or ""
    agent = _text(record.get("userAgent"))
    console = "true" in (
        _lower(record.get("sessionCredentialFromConsole")),
        _lower(identity.get("sessionCredentialFromConsole")),
    )
    return CreationEvent(
        name=name,
        time=moment,
        account_id=account,
        target_user=target,
        principal_arn=arn,
        principal_type=kind,
        principal_name=principal_name,
        access_key_id=key_id,
        source_ip=_text(record.get("sourceIPAddress")),
        via=created_via(agent, console=console, invoked_by=_text(identity.get("invokedBy"))),
        event_id=_text(record.get("eventID")),
    )


def _target_user(
    requested: str | None, answered: str | None, kind: str | None, caller: str | None
) -> str | None:
    """The user an event acted on, from the request's and the response's names (see
    :func:`read_record`); None for the root user acting on itself."""
    if (
        requested is not None
        and answered is not None
        and requested.casefold() != answered.casefold()
    ):
        raise BadRecord("requestParameters.userName and the response's userName disagree")
    if requested is not None:
        return requested
    if kind == "Root":
        return None  # the root user's own key or password: not an IAM user's
    caller = caller if kind == "IAMUser" else None
    if answered is not None:
        if caller is not None and caller.casefold() != answered.casefold():
            # Without UserName, IAM acts on the caller: a response naming another user lies.
            raise BadRecord("the response names another user than the caller")
        return answered
    if caller is None:
        return None
    if not _USER_NAME.fullmatch(caller):
        raise BadRecord("userIdentity.userName is not an IAM user name")
    return caller


def _user_name(element: Mapping[str, Any], where: str) -> str | None:
    """``element.userName``: None when absent (or null, as CloudTrail writes absent
    elements); an IAM user name; anything else (a list, a number, "") is a BadRecord."""
    value = element.get("userName")
    if value is None:
        return None
    if isinstance(value, str) and _USER_NAME.fullmatch(value):
        return value
    raise BadRecord(f"{where} is not an IAM user name")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadRecord(f"{where} is not an object")
    return value


def _lower(value: Any) -> str:
    return str(value).lower() if isinstance(value, (str, bool)) else ""


def created_via(
    user_agent: str | None, *, console: bool = False, invoked_by: str | None = None
) -> str | None:
    """``console``, ``cli``, ``sdk``, ``terraform``, ``cloudformation`` or ``other``, from
    what the event says about the caller; None when it says nothing.

    Tools that embed an SDK name it in their user agent too (the AWS CLI is built
    on botocore, Terraform on the Go SDK), so the tools are recognised first.
    """
    agent = (user_agent or "").lower()
    if "cloudformation" in agent or invoked_by == "cloudformation.amazonaws.com":
        return "cloudformation"
    if "terraform" in agent:
        return "terraform"
    if console or agent.startswith(
        ("console.", "signin.amazonaws.com", "awsconsole", "aws internal")
    ):
        return "console"
    if agent.startswith("aws-cli/") or "awspowershell" in agent:
        return "cli"
    if agent.startswith(("boto3/", "botocore/")) or "aws-sdk-" in agent:
        return "sdk"
    return "other" if agent else None


def read_log_file(data: bytes, name: str) -> list[Any]:
    """The records of one log file held in memory (gzipped or plain JSON,
    ``{"Records": […]}``), read as :func:`read_log_stream` reads a file.

    Raises ValueError when it is not a CloudTrail log file initkeys can read.
    """
    return read_log_stream(io.BytesIO(data), name)


def read_log_stream(stream: BinaryIO, name: str) -> list[Any]:
    """The records of one log file (gzipped or not), read from ``stream`` in chunks.

    Raises ValueError when it is not a log file initkeys reads: more than
    :data:`MAX_LOG_BYTES` once decompressed (a gzip bomb stops there, having
    held at most that much), not gzip, not JSON (:func:`~initkeys.inputs.load_json`:
    deep, huge numbers, NaN…), or without a ``Records`` list. ``name`` is for
    people only. Records are returned as found, objects or not.
    """
    head = stream.read(2)
    stream.seek(0)
    if head == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
                data = read_capped(unzipped.read, MAX_LOG_BYTES, "uncompressed")
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"not a readable gzip file ({e})") from None
    else:
        data = read_capped(stream.read, MAX_LOG_BYTES, "")
    try:
        document = load_json(data)
    except BadJson as e:
        raise ValueError(f"not JSON ({e})") from None
    finally:
        del data  # the text can be as large as the cap: let it go before the records live on
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise ValueError("no CloudTrail 'Records' list")
    return records


def read_capped(read: Callable[[int], bytes], limit: int, what: str) -> bytes:
    """Everything ``read`` gives, in chunks, or ValueError once past ``limit`` bytes:
    what is read is never more than the limit and a chunk."""
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            size = f"{what} " if what else ""
            raise ValueError(f"more than {describe_size(limit)} {size}(initkeys' limit); not read")


def describe_size(size: int) -> str:
    """``1 GiB``, ``64 KiB``, ``300 bytes``: a size for people."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size:,} bytes"


class _Collector:
    """Events of one account, without repeats: the same event can be in an account
    trail and an organization trail, or in two copies of a file. Every file that
    could not be read and every record skipped is counted, for the evidence note."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.events: dict[object, CreationEvent] = {}
        self.problems: list[str] = []
        self.files: list[str] = []
        self.records = 0
        self.skipped: Counter[str] = Counter()
        self.capped = False
        self.unread_files = 0

    def add_records(self, records: Iterable[Any]) -> None:
        for record in records:
            if self.records >= MAX_RECORDS:
                self.capped = True
                return
            self.records += 1
            if isinstance(record, BadRecord):  # a LookupEvents string that is not a record
                self.skipped[str(record)] += 1
                continue
            if not isinstance(record, Mapping):
                self.skipped["a record is not a JSON object"] += 1
                continue
            try:
                event = read_record(record)
            except BadRecord as e:
                self.skipped[str(e)] += 1
                continue
            if event is None or (event.account_id and event.account_id != self.account_id):
                continue
            same = event.event_id or (event.name, event.time, event.target_user)
            self.events.setdefault(same, event)

    def add_file(self, name: str, read: Callable[[], list[Any]]) -> None:
        """Read one log file; one that cannot be read is a problem, not the end of the audit."""
        self.files.append(name)
        if self.records >= MAX_RECORDS:
            self.capped = True
            self.unread_files += 1
            return
        try:
            self.add_records(read())
        except MemoryError:  # a log file within the size limit, on a machine with less
            self.problems.append(f"{shown(name)}: too large to read in this machine's memory")
        except (OSError, ValueError) as e:
            self.problems.append(f"{shown(name)}: {shown(getattr(e, 'strerror', None) or str(e))}")

    def evidence(
        self, source: str, searched: Sequence[TimeRange], *, log_files: bool = True, **extra: Any
    ) -> TrailEvidence:
        problems = list(self.problems)
        if len(problems) > 3:
            problems = [*problems[:3], f"and {len(problems) - 3} more unreadable log files"]
        if self.skipped:
            total = sum(self.skipped.values())
            why = "; ".join(f"{reason}: {n:,}" for reason, n in self.skipped.most_common(3))
            more = "" if len(self.skipped) <= 3 else "; …"
            problems.append(
                f"{total:,} CloudTrail record{'s' if total != 1 else ''} could not be read "
                f"and {'were' if total != 1 else 'was'} skipped ({why}{more})"
            )
        if self.capped:
            unread = self.unread_files
            problems.append(
                f"reading stopped after {MAX_RECORDS:,} records (initkeys' limit)"
                + (
                    f"; {unread:,} more log file{'s were' if unread != 1 else ' was'} not read"
                    if unread
                    else ""
                )
            )
        return TrailEvidence(
            source=source,
            events=tuple(sorted(self.events.values(), key=lambda e: (e.time, e.event_id or ""))),
            searched=tuple(searched),
            unlogged=_unlogged(searched, self.files) if log_files else (),
            problems=tuple(problems),
            **extra,
        )


def _unlogged(ranges: Sequence[TimeRange], files: Sequence[str]) -> tuple[TimeRange, ...]:
    """The ranges no log file read could hold events of (the trail was not logging)."""
    times = [delivered_at(name) for name in files]
    if any(t is None for t in times):
        return ()  # a file without a time in its name could hold any range
    delivered = sorted(t for t in times if t is not None)
    empty = []
    for r in ranges:
        first = bisect.bisect_left(delivered, r.start - timedelta(minutes=1))
        if first == len(delivered) or delivered[first] > r.end + DELIVERY_LAG:
            empty.append(r)
    return tuple(empty)


# --------------------------------------------------------------------------- log files


def delivered_at(name: str) -> datetime | None:
    """The delivery time in a CloudTrail log file's name (to the minute), if it has one."""
    match = _FILE_NAME.match(os.path.basename(name))
    if match is None:
        return None
    try:
        moment = datetime.strptime(match["stamp"], "%Y%m%dT%H%MZ")
    except ValueError:  # digits that are no time (month 13): a name to read, not to trust
        return None
    return moment.replace(tzinfo=timezone.utc)


def file_account(name: str) -> str | None:
    match = _FILE_NAME.match(os.path.basename(name))
    return match["account"] if match else None


def may_hold(name: str, ranges: Sequence[TimeRange]) -> bool:
    """True when a file with this name can hold events within ``ranges``: it was
    delivered after a range began (its name keeps only the minute) and not long
    after the range ended. A file whose name carries no time is read."""
    delivered = delivered_at(name)
    if delivered is None:
        return True
    return any(r.start - timedelta(minutes=1) <= delivered <= r.end + DELIVERY_LAG for r in ranges)


def days_of(ranges: Sequence[TimeRange]) -> list[date]:
    """The UTC days whose folders can hold files delivered for ``ranges``, in order."""
    days: set[date] = set()
    for r in ranges:
        day = as_utc(r.start).date()
        last = as_utc(r.end + DELIVERY_LAG).date()
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return sorted(days)


class DirectoryTrail:
    """CloudTrail log files on disk: a copy of a bucket (``aws s3 sync``) or any folder of them.

    Folders named ``YYYY/MM/DD`` outside the days that matter are not entered, and
    files whose names say they were delivered at another time, or for another
    account, are not opened. Only regular files are read (see :func:`open_log_file`):
    a FIFO, a device or a link out of the folder is named in the evidence note instead.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.source = f"directory {path}"

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        del partition  # a directory holds whatever regions were copied into it
        wanted_days = set(days_of(ranges))
        collector = _Collector(account_id)
        folder = os.path.realpath(self.path)
        for path in self._files(wanted_days, collector):
            name = os.path.basename(path)
            if file_account(name) in (None, account_id) and may_hold(name, ranges):
                collector.add_file(path, partial(_read_path, path, folder))
        return collector.evidence(self.source, ranges)

    def _files(self, wanted_days: set[date], collector: _Collector) -> Iterator[str]:
        def unlisted(error: OSError) -> None:
            collector.problems.append(
                f"{shown(str(error.filename))}: cannot be listed ({error.strerror})"
            )

        # Links to folders are not followed (os.walk's default): they could leave the
        # folder, or loop.
        for root, folders, files in os.walk(self.path, onerror=unlisted):
            folders.sort()
            relative = os.path.relpath(root, self.path).replace(os.sep, "/")
            day = _day_in_path(relative)
            if day is not None and day not in wanted_days:
                folders.clear()  # a day folder: nothing below it matters
                continue
            for name in sorted(files):
                if name.endswith(_LOG_SUFFIXES):
                    yield os.path.join(root, name)


def open_log_file(path: str, folder: str) -> BinaryIO:
    """``path`` (found in ``folder``, a real path) opened for reading, if it is a regular file.

    A symbolic link is followed only to a file inside ``folder``. The file is opened
    without following a link (``O_NOFOLLOW``) and without waiting (``O_NONBLOCK``: a
    FIFO would otherwise block the audit for ever), then checked with ``fstat``: a
    FIFO, device, socket or folder is refused (ValueError), never read.
    """
    if stat.S_ISLNK(os.lstat(path).st_mode):
        target = os.path.realpath(path)
        if os.path.commonpath([folder, target]) != folder:
            raise ValueError("a link to a file outside the folder; not read")
        path = target
    flags = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"not a regular file ({_file_kind(mode)}); not read")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _read_path(path: str, folder: str) -> list[Any]:
    with open_log_file(path, folder) as stream:
        return read_log_stream(stream, path)


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return kind
    return "not a file"


class S3Trail:
    """A trail's log files in S3, read only for the days and delivery times that matter."""

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, policy: str = "audit"
    ) -> None:
        self._s3 = client
        self._policy = policy
        self.bucket = bucket
        self.prefix = prefix
        self.source = f"s3://{bucket}/{prefix}".rstrip("/")
        self._lock = threading.Lock()
        self._owners: tuple[str, ...] | None = None

    @property
    def _logs(self) -> str:
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"

    def owners(self) -> tuple[str, ...]:
        """The folders under ``AWSLogs/``: account ids, and organization ids (``o-…``).
        Listed once (one request per 1,000), which also proves the bucket can be read."""
        with self._lock:
            if self._owners is None:
                found: list[str] = []
                for page in self._pages(Prefix=self._logs, Delimiter="/"):
                    for common in page.get("CommonPrefixes", []):
                        found.append(str(common["Prefix"])[len(self._logs) :].strip("/"))
                self._owners = tuple(found)
            return self._owners

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        region = PARTITION_HOME_REGION.get(partition, "us-east-1")
        owners = self.owners()
        bases = [f"{self._logs}{account_id}/CloudTrail/{region}/"] if account_id in owners else []
        bases += [
            f"{self._logs}{org}/{account_id}/CloudTrail/{region}/"
            for org in owners
            if org.startswith("o-")
        ]
        collector = _Collector(account_id)
        for base in bases:
            for day in days_of(ranges):
                day_prefix = f"{base}{day:%Y/%m/%d}/"
                for page in self._pages(Prefix=day_prefix):
                    for item in page.get("Contents", []):
                        key = str(item["Key"])
                        if key.endswith(_LOG_SUFFIXES) and may_hold(key, ranges):
                            collector.add_file(
                                f"s3://{self.bucket}/{key}", partial(self._read_object, key)
                            )
        if not bases:
            collector.problems.append(
                f"{self.source} has no log folder for account {account_id} "
                f"(AWSLogs/{account_id}/ or AWSLogs/o-…/{account_id}/)"
            )
        return collector.evidence(self.source, ranges)

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        with self._errors("s3:ListBucket"):
            paginator = self._s3.get_paginator("list_objects_v2")
            yield from paginator.paginate(Bucket=self.bucket, **kwargs)

    def _read_object(self, key: str) -> list[Any]:
        return read_log_file(self._get(key), key)

    def _get(self, key: str) -> bytes:
        """The object as stored (gzipped), at most :data:`MAX_DOWNLOAD_BYTES` of it."""
        from botocore.exceptions import BotoCoreError, ClientError

        with self._errors("s3:GetObject"):
            try:
                answer = with_throttle_retry(
                    lambda: self._s3.get_object(Bucket=self.bucket, Key=key)
                )
            except ClientError as exc:
                # A lifecycle rule moved it to Glacier: one unreadable file, not the end.
                if error_code(exc) == "InvalidObjectState":
                    raise ValueError("archived; restore it to read it") from None
                raise
            body = answer["Body"]
            try:
                size = answer.get("ContentLength")
                if isinstance(size, int) and size > MAX_DOWNLOAD_BYTES:
                    limit = describe_size(MAX_DOWNLOAD_BYTES)
                    raise ValueError(
                        f"{describe_size(size)} stored, more than {limit} (initkeys' limit); "
                        "not read"
                    )
                # The length S3 states is not trusted either: the download stops at the limit.
                return read_capped(body.read, MAX_DOWNLOAD_BYTES, "stored")
            except BotoCoreError as exc:
                # One object whose download broke off is a note, like an unreadable file:
                # the rest of the trail is still evidence.
                raise ValueError(f"the download broke off ({type(exc).__name__})") from None
            finally:
                body.close()

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return _s3_errors(self.source, action, self._policy)


@contextmanager
def _s3_errors(source: str, action: str, policy: str = "audit") -> Iterator[None]:
    """A missing bucket is a bad ``--cloudtrail`` (exit 2); other AWS errors are access
    errors (exit 3) that name the call and the bucket."""
    with access_errors(
        f"{action} on {source}", policy=policy, policy_args=f" --cloudtrail {source}"
    ):
        try:
            yield
        except Exception as exc:
            if error_code(exc) == "NoSuchBucket":
                raise InputError(f"--cloudtrail {source}: no such bucket") from None
            raise


# --------------------------------------------------------------------------- LookupEvents


class RateLimiter:
    """At most ``rate`` requests a second, evenly spaced: a token bucket holding one
    token, so that no burst can exceed the rate in any one second. Threads wait
    their turn. ``clock`` and ``sleep`` are passed in for tests."""

    def __init__(
        self,
        rate: float = LOOKUP_RATE,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: float | None = None

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if self._next is not None and now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class LookupTrail:
    """``LookupEvents`` in one account's home region, one event name at a time.

    Every HTTP attempt, botocore's retries of a ``ThrottlingException`` included,
    first waits for the rate limiter, so the account's 2 requests a second are
    never exceeded by us.
    """

    source = "LookupEvents"

    def __init__(
        self,
        client: Any,
        *,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        policy: str = "audit",
    ) -> None:
        self._client = client
        self._policy = policy
        self._limiter = limiter or RateLimiter()
        self._now = now
        client.meta.events.register(
            "before-send.cloudtrail.LookupEvents", lambda **_: self._limiter.wait()
        )

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        del partition  # the client is already in the partition's home region
        now = as_utc(self._now())
        horizon = now - timedelta(days=LOOKUP_DAYS)
        reachable = [
            TimeRange(max(r.start, horizon), min(r.end, now))
            for r in ranges
            if r.end >= horizon and r.start <= now
        ]
        collector = _Collector(account_id)
        for span in reachable:
            for name in EVENT_NAMES:
                if collector.records < MAX_RECORDS:  # past the limit, no more pages are asked for
                    collector.add_records(self._records(name, span))
                else:
                    collector.capped = True
        return collector.evidence(self.source, reachable, log_files=False, horizon=horizon)

    def _records(self, name: EventName, span: TimeRange) -> Iterator[Any]:
        """The page's records, and a :class:`BadRecord` for each ``CloudTrailEvent``
        that is not one (counted in the evidence note, like a bad record in a file)."""
        request: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name.value}],
            "StartTime": span.start,
            "EndTime": span.end,
            "MaxResults": _LOOKUP_PAGE,
        }
        while True:
            with access_errors(
                "cloudtrail:LookupEvents", policy=self._policy, policy_args=" --cloudtrail lookup"
            ):
                page = with_throttle_retry(lambda: self._client.lookup_events(**request))
            for event in page.get("Events", []):
                yield lookup_record(event)
            token = page.get("NextToken")
            if not token:
                return
            request["NextToken"] = token


def lookup_record(event: Any) -> Any:
    """One ``LookupEvents`` result's ``CloudTrailEvent``, decoded (:func:`load_json`), or
    a :class:`BadRecord` saying why it is not a record."""
    text = event.get("CloudTrailEvent") if isinstance(event, Mapping) else None
    if not isinstance(text, str):
        return BadRecord("CloudTrailEvent is not a JSON string")
    if len(text) > MAX_EVENT_CHARS:
        return BadRecord(f"CloudTrailEvent is longer than {describe_size(MAX_EVENT_CHARS)}")
    try:
        return load_json(text)
    except BadJson:
        return BadRecord("CloudTrailEvent is not JSON initkeys reads")


# --------------------------------------------------------------------------- helpers


def _event_time(value: Any) -> datetime | None:
    return parse_utc(value) if isinstance(value, str) else None


def _day_in_path(relative: str) -> date | None:
    """The day of a ``…/YYYY/MM/DD`` folder, else None (a year or month folder, or any other)."""
    match = _DAY_FOLDER.search(relative)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def shown(text: str) -> str:
    """``text`` (a file name, an error) fit for a note: bytes that are not UTF-8 (a
    file name can hold any) as ``\\xNN``, control and format characters escaped, so
    that no output format or terminal is driven by a name found on disk."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
