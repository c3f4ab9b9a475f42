"""CloudTrail log files: their names (account, delivery time, day folders) and their
content, read in chunks within :mod:`~initkeys.sources.cloudtrail.limits`."""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, BinaryIO

from initkeys.inputs import BadJson, load_json
from initkeys.model import TimeRange
from initkeys.sources.cloudtrail import limits
from initkeys.sources.cloudtrail.limits import describe_size
from initkeys.timeutil import as_utc

# A log file holds events from before its delivery time (in its name, to the
# minute). CloudTrail delivers within about 5 minutes on average, without a
# guarantee: files delivered up to this long after a range are read too.
DELIVERY_LAG = timedelta(hours=1)

# AccountID_CloudTrail_RegionName_YYYYMMDDTHHmmZ_UniqueString.json.gz
_FILE_NAME = re.compile(
    r"^(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_(?P<stamp>\d{8}T\d{4}Z)_[^/]*$"
)
DAY_FOLDER = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})$")
LOG_SUFFIXES = (".json.gz", ".json")

_CHUNK = 1 << 20


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
                data = read_capped(unzipped.read, limits.MAX_LOG_BYTES, "uncompressed")
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"not a readable gzip file ({e})") from None
    else:
        data = read_capped(stream.read, limits.MAX_LOG_BYTES, "")
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
