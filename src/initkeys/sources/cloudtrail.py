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
import json
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any, Protocol

from initkeys.errors import InputError
from initkeys.model import CreationEvent, EventName, TimeRange, TrailEvidence
from initkeys.partitions import PARTITION_HOME_REGION
from initkeys.sources.aws import (
    CLIENT_LOCK,
    LiveAccount,
    access_errors,
    as_utc,
    error_code,
    make_client_config,
    with_throttle_retry,
)
from initkeys.sources.credential_report import parse_timestamp

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
    spec: TrailSpec, *, session: Any = None, endpoint_url: str | None = None, policy: str = "audit"
) -> Callable[[LiveAccount | None], TrailReader]:
    """Which reader serves an audited account: LookupEvents in that account (through its
    own session), or the one bucket or directory every account's logs are in (an
    organization's trail bucket is read with ``session``, the signed-in account's).

    A bucket is listed once here (``AWSLogs/``), so that a wrong name (InputError)
    or a denied list (AccessError) ends the run before the audit, not after it.
    A denial names ``initkeys policy POLICY --cloudtrail SOURCE`` (``audit``, or
    ``remediate`` for a remediation's own audit)."""
    if spec.kind == "directory":
        assert spec.path is not None
        directory = DirectoryTrail(spec.path)
        return lambda _account: directory
    if spec.kind == "s3":
        assert spec.bucket is not None and session is not None
        kwargs: dict[str, Any] = {
            "region_name": session.region_name or "us-east-1",
            "config": make_client_config(8, session),
        }
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        with CLIENT_LOCK:
            client = session.client("s3", **kwargs)
        bucket = S3Trail(client, spec.bucket, spec.prefix, policy=policy)
        bucket.owners()  # fail now, not after the audit, on a wrong bucket or a denied list
        return lambda _account: bucket

    def lookup(account: LiveAccount | None) -> TrailReader:
        if account is None:
            raise InputError(LOOKUP_NEEDS_ACCOUNT)
        return LookupTrail(account.home_client("cloudtrail"), policy=policy)

    return lookup


# --------------------------------------------------------------------------- records


def creation_event(record: Mapping[str, Any]) -> CreationEvent | None:
    """The record as a :class:`CreationEvent`, or None when it is not one we want
    (another service or event, a failed call, a record without a time or user)."""
    if record.get("eventSource") != IAM_SOURCE or record.get("errorCode"):
        return None
    name = _BY_NAME.get(str(record.get("eventName")))
    moment = _event_time(record.get("eventTime"))
    if name is None or moment is None:
        return None
    identity = _mapping(record.get("userIdentity"))
    kind = _text(identity.get("type"))
    arn = _text(identity.get("arn"))
    principal_name = _text(identity.get("userName"))
    if principal_name is None and arn and kind in ("AssumedRole", "FederatedUser"):
        principal_name = arn.rsplit("/", 1)[-1]  # the session's name
    request = _mapping(record.get("requestParameters"))
    target = _text(request.get("userName"))
    if target is None and kind == "IAMUser":
        target = principal_name  # a user acting on itself may leave userName out
    if target is None:
        return None  # the root user's own key or password: not an IAM user's
    response = _mapping(record.get("responseElements"))
    key_id = _text(_mapping(response.get("accessKey")).get("accessKeyId"))
    account = _text(record.get("recipientAccountId")) or _text(identity.get("accountId")) or ""
    agent = _text(record.get("userAgent"))
    console = "true" in (
        str(record.get("sessionCredentialFromConsole", "")).lower(),
        str(identity.get("sessionCredentialFromConsole", "")).lower(),
    )
    return CreationEvent(
        name=name,
        time=moment,
        account_id=account,
        target_user=target,
        principal_arn=arn,
        principal_type=kind,
        principal_name=principal_name,
        access_key_id=key_id if name is EventName.CREATE_ACCESS_KEY else None,
        source_ip=_text(record.get("sourceIPAddress")),
        via=created_via(agent, console=console, invoked_by=_text(identity.get("invokedBy"))),
        event_id=_text(record.get("eventID")),
    )


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


def read_log_file(data: bytes, name: str) -> list[Mapping[str, Any]]:
    """The records of one log file (gzipped or plain JSON, ``{"Records": […]}``).

    Raises ValueError when it is not a CloudTrail log file.
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{name}: not a readable gzip file ({e})") from None
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{name}: not JSON ({e})") from None
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise ValueError(f"{name}: no CloudTrail 'Records' list")
    return [r for r in records if isinstance(r, dict)]


class _Collector:
    """Events of one account, without repeats: the same event can be in an account
    trail and an organization trail, or in two copies of a file."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.events: dict[object, CreationEvent] = {}
        self.problems: list[str] = []
        self.files: list[str] = []

    def add_records(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            event = creation_event(record)
            if event is None or (event.account_id and event.account_id != self.account_id):
                continue
            same = event.event_id or (event.name, event.time, event.target_user)
            self.events.setdefault(same, event)

    def add_file(self, name: str, load: Callable[[], bytes]) -> None:
        """Read one log file; one that cannot be read is a problem, not the end of the audit."""
        self.files.append(name)
        try:
            self.add_records(read_log_file(load(), name))
        except (OSError, ValueError) as e:
            self.problems.append(f"{name}: {getattr(e, 'strerror', None) or e}")

    def evidence(
        self, source: str, searched: Sequence[TimeRange], *, log_files: bool = True, **extra: Any
    ) -> TrailEvidence:
        problems = self.problems
        if len(problems) > 3:
            problems = [*problems[:3], f"and {len(problems) - 3} more unreadable log files"]
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
    account, are not opened.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.source = f"directory {path}"

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        del partition  # a directory holds whatever regions were copied into it
        wanted_days = set(days_of(ranges))
        collector = _Collector(account_id)
        for path in self._files(wanted_days):
            name = os.path.basename(path)
            if file_account(name) in (None, account_id) and may_hold(name, ranges):
                collector.add_file(path, partial(_read_bytes, path))
        return collector.evidence(self.source, ranges)

    def _files(self, wanted_days: set[date]) -> Iterator[str]:
        for root, folders, files in os.walk(self.path):
            folders.sort()
            relative = os.path.relpath(root, self.path).replace(os.sep, "/")
            day = _day_in_path(relative)
            if day is not None and day not in wanted_days:
                folders.clear()  # a day folder: nothing below it matters
                continue
            for name in sorted(files):
                if name.endswith(_LOG_SUFFIXES):
                    yield os.path.join(root, name)


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
                            collector.add_file(f"s3://{self.bucket}/{key}", partial(self._get, key))
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

    def _get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

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
            return bytes(answer["Body"].read())

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
                collector.add_records(self._records(name, span))
        return collector.evidence(self.source, reachable, log_files=False, horizon=horizon)

    def _records(self, name: EventName, span: TimeRange) -> Iterator[Mapping[str, Any]]:
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
                try:
                    record = json.loads(event.get("CloudTrailEvent") or "{}")
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    yield record
            token = page.get("NextToken")
            if not token:
                return
            request["NextToken"] = token


# --------------------------------------------------------------------------- helpers


def _event_time(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def _day_in_path(relative: str) -> date | None:
    """The day of a ``…/YYYY/MM/DD`` folder, else None (a year or month folder, or any other)."""
    match = _DAY_FOLDER.search(relative)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
