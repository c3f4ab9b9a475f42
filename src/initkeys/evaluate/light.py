"""Light findings: the verdicts of a report file's rows without a dataclass each.

A million-row report made a million :class:`~initkeys.model.IamUser`, more
:class:`~initkeys.model.AccessKey` and :class:`~initkeys.model.Finding` objects,
and formatted every timestamp back from a datetime: most of an offline run.
Here a readable row (:data:`~initkeys.model.ReportRow`, timestamps still the
report's text) is judged by the same functions as a user
(:func:`~initkeys.evaluate.verdicts.key_verdict`, ``key_message``, ``user_message``)
into :class:`LightFinding` tuples, which the formats read through
:class:`~initkeys.model.FindingView`. The message is worded when a format asks.
``tests/test_light_findings.py`` holds the two paths equal on generated rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import compress
from operator import attrgetter
from typing import overload

from initkeys.evaluate.verdicts import (
    judge_user_unchecked,
    key_verdict,
)
from initkeys.model import (
    STATUS_ORDER,
    Finding,
    FindingView,
    IamUser,
    LightFinding,
    Reason,
    ReportRow,
    Settings,
    Status,
)


def judge_row(row: ReportRow, settings: Settings) -> list[LightFinding]:
    """:func:`~initkeys.evaluate.verdicts.judge_user` for a readable report row of a user
    (not the root account), without exemptions (the caller's rules: none on this path)."""
    name, arn, created_text, created, password, password_text, keys = row
    new = tuple.__new__
    if not password:
        cells = (name, arn, Status.NOT_APPLICABLE, Reason.NO_CONSOLE_PASSWORD)
        return [new(LightFinding, (*cells, None, None, created_text, None, None, None, None))]
    if not keys:
        cells = (name, arn, Status.PASS, Reason.NO_ACCESS_KEYS)
        return [
            new(LightFinding, (*cells, None, None, created_text, None, None, password_text, None))
        ]
    findings = []
    for slot, key_text, key_created, active, used_text in keys:
        gap = key_created - created
        status, reason = key_verdict(gap, key_created, active, used_text is not None, settings)
        findings.append(
            new(
                LightFinding,
                (
                    name,
                    arn,
                    status,
                    reason,
                    slot,
                    active,
                    created_text,
                    key_text,
                    used_text,
                    password_text,
                    gap,
                ),
            )
        )
    return findings


def judge_records(records: Iterable[IamUser | ReportRow], settings: Settings) -> list[FindingView]:
    """Findings for a report reader's records, in order: light ones for its light rows
    (see ``ReportReader.records``), :class:`Finding` for the others."""
    findings: list[FindingView] = []
    add = findings.extend
    for record in records:
        if isinstance(record, tuple):
            add(judge_row(record, settings))
        else:
            add(judge_user_unchecked(record, settings))
    return findings


class ReportFindings(Sequence[Finding]):
    """An account's findings from a report file, kept light (see the module's note).

    Iterating gives :class:`Finding` objects (built on the way, for any caller); the
    formats read :meth:`views` instead. Counted once, when made (``model.tally_statuses``
    reads ``status_counts`` and ``open_counts``)."""

    __slots__ = ("_items", "open_counts", "status_counts")

    def __init__(self, items: Iterable[FindingView]) -> None:
        self._items = items if isinstance(items, list) else list(items)
        # Counted by C loops (a million findings): statuses, then the few exempt ones.
        statuses = Counter(map(_STATUS, self._items))
        counts = {status: statuses[status] for status in STATUS_ORDER}
        open_counts = dict(counts)
        for item in compress(self._items, map(_EXEMPTION, self._items)):
            open_counts[item.status] -= 1
        self.status_counts = counts
        self.open_counts = open_counts

    def views(self) -> Iterator[FindingView]:
        """The findings as they are held: no object built."""
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Finding]:
        for item in self._items:
            yield _full(item)

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if isinstance(index, slice):
            return tuple(_full(item) for item in self._items[index])
        return _full(self._items[index])

    def __repr__(self) -> str:
        return f"ReportFindings({len(self._items)} findings)"


_STATUS = attrgetter("status")
_EXEMPTION = attrgetter("exemption")


def _full(item: FindingView) -> Finding:
    if isinstance(item, Finding):
        return item
    assert isinstance(item, LightFinding), "a report's findings are light or full"
    return item.finding()
