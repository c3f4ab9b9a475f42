"""Timestamps: one bounded, aware-UTC parser and one ISO 8601 ``Z`` formatter.

A timestamp in a credential report, journal, approved audit report, CloudTrail
record or guard event is hostile until parsed. Python's ``datetime`` overflows
near years 1 and 9999 (``0001-01-01T00:00:00+05:00`` has no UTC value), and
every later step adds or subtracts windows and horizons of days, so only
instants between :data:`EARLIEST` and :data:`LATEST` are accepted: anything
outside is "not a timestamp", the same as text that is not one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal, overload

# Far wider than any real AWS timestamp (AWS began in 2006) and far enough from
# datetime's own limits that adding a setup window, clock skew or a CloudTrail
# horizon can never overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


def parse_utc(text: str) -> datetime | None:
    """An ISO 8601 date and time as an aware UTC datetime; None when it is not one.

    AWS writes ``2014-09-01T22:28:48+00:00``; ``Z``, other offsets and fractions
    are accepted, and a timestamp without an offset is taken as UTC. A date
    without a time is not a timestamp, and neither is an instant outside
    1970..9000 (see the module's note).
    """
    text = text.strip()
    if len(text) < 16 or not text[:4].isdigit() or text[4] != "-" or text[10] not in "Tt ":
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = as_utc(datetime.fromisoformat(text))  # an offset near year 1 overflows here
    except (ValueError, OverflowError):
        return None
    if not EARLIEST <= value < LATEST:
        return None
    return value


Timespec = Literal["auto", "seconds", "milliseconds"]


@overload
def format_utc(moment: datetime, timespec: Timespec = "auto") -> str: ...
@overload
def format_utc(moment: None, timespec: Timespec = "auto") -> None: ...
@overload
def format_utc(moment: datetime | None, timespec: Timespec = "auto") -> str | None: ...


def format_utc(moment: datetime | None, timespec: Timespec = "auto") -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix (``2026-11-28T02:57:33Z``); None for None.

    Every timestamp initkeys writes goes through here: reports and plans with
    ``auto`` (microseconds only when there are some), the journal with
    ``milliseconds`` (several lines within one second), evidence notes with
    ``seconds`` (as CloudTrail shows event times; a fraction is cut, not
    rounded). A naive datetime is taken to be UTC already: every source parses
    AWS timestamps, which are UTC.
    """
    if moment is None:
        return None
    if moment.tzinfo is not timezone.utc:  # aware UTC, the common case, skips the call
        moment = as_utc(moment)
    # isoformat of a timezone.utc datetime always ends in "+00:00". The argument-free
    # call is the fastest, and reports make five of these a finding.
    text = moment.isoformat() if timespec == "auto" else moment.isoformat(timespec=timespec)
    return text[:-6] + "Z"


def as_utc(value: Any) -> datetime:
    """A datetime botocore parsed (AWS times are UTC; a naive one is taken as UTC) as aware UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    raise TypeError(f"expected a datetime, got {value!r}")


def require_aware(moment: datetime | None, what: str) -> None:
    """TypeError when ``moment`` is a naive datetime; None and aware ones pass.

    The evaluator compares instants with aware constants (``TRACKING_START``), so
    a naive one would fail deep inside with "can't compare offset-naive and
    offset-aware datetimes", or worse, on some rows only. The public API says so
    at the door instead.
    """
    if moment is not None and moment.tzinfo is None:
        raise TypeError(
            f"{what} is a naive datetime ({moment.isoformat()}): initkeys compares "
            "instants, so give it a time zone, e.g. tzinfo=timezone.utc"
        )
