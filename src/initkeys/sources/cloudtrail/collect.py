"""The evidence of one account, collected from the records its reader finds: without
repeats, within the record cap, and with a note of everything that could not be read."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from initkeys.model import CreationEvent, TimeRange, TrailEvidence
from initkeys.sources.cloudtrail import limits
from initkeys.sources.cloudtrail.logfiles import DELIVERY_LAG, delivered_at
from initkeys.sources.cloudtrail.records import BadRecord, read_record


class Collector:
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
            if self.records >= limits.MAX_RECORDS:
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
        if self.records >= limits.MAX_RECORDS:
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
            note = f"reading stopped after {limits.MAX_RECORDS:,} records (initkeys' limit)"
            unread = self.unread_files
            if unread:
                note += f"; {unread:,} more log file{'s were' if unread != 1 else ' was'} not read"
            problems.append(note)
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


def shown(text: str) -> str:
    """``text`` (a file name, an error) fit for a note: bytes that are not UTF-8 (a
    file name can hold any) as ``\\xNN``, control and format characters escaped, so
    that no output format or terminal is driven by a name found on disk."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
