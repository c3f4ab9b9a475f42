"""The one timestamp formatter, against every output it replaced (byte for byte)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.timeutil import EARLIEST, LATEST, format_utc, parse_utc

CET = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("moment", "timespec", "expected"),
    [
        (None, "auto", None),
        (datetime(2022, 1, 1, tzinfo=UTC), "auto", "2022-01-01T00:00:00Z"),
        (datetime(2022, 1, 1, 1, tzinfo=CET), "auto", "2022-01-01T00:00:00Z"),
        (datetime(2022, 1, 1), "auto", "2022-01-01T00:00:00Z"),  # naive means UTC
        (datetime(2022, 1, 1, 0, 0, 0, 500, tzinfo=UTC), "auto", "2022-01-01T00:00:00.000500Z"),
        # The journal: milliseconds, always.
        (datetime(2026, 11, 28, 2, 57, 33, 25999, UTC), "milliseconds", "2026-11-28T02:57:33.025Z"),
        (datetime(2026, 11, 28, 2, 57, 33, tzinfo=UTC), "milliseconds", "2026-11-28T02:57:33.000Z"),
        # Evidence notes: to the second, a fraction cut (CloudTrail's precision).
        (datetime(2026, 11, 28, 2, 57, 33, 999_999, UTC), "seconds", "2026-11-28T02:57:33Z"),
        (datetime(2026, 11, 28, 3, 57, 33, tzinfo=CET), "seconds", "2026-11-28T02:57:33Z"),
    ],
)
def test_format_utc(moment: datetime | None, timespec: str, expected: str | None) -> None:
    assert format_utc(moment, timespec) == expected  # type: ignore[call-overload]


def _old_iso_utc(moment: datetime) -> str:
    """formats.iso_utc before it became format_utc."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().removesuffix("+00:00") + "Z"


def _old_journal_time(moment: datetime) -> str:
    stamp = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return stamp.removesuffix("+00:00") + "Z"


def _old_evidence_stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_instants = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None) + timedelta(days=1),
    max_value=LATEST.replace(tzinfo=None) - timedelta(days=1),
    timezones=st.sampled_from([UTC, CET, timezone(timedelta(hours=-9, minutes=-30))]),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_instants)
def test_format_utc_matches_every_formatter_it_replaced(moment: datetime) -> None:
    tried("format_utc")
    assert format_utc(moment) == _old_iso_utc(moment)
    assert format_utc(moment, "milliseconds") == _old_journal_time(moment)
    assert format_utc(moment, "seconds") == _old_evidence_stamp(moment)
    # What initkeys writes, it reads back as the same instant.
    assert parse_utc(format_utc(moment)) == moment
