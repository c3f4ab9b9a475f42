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
from datetime import datetime, timedelta
from itertools import compress
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, overload

from initkeys.evaluate.verdicts import (
    judge_user_unchecked,
    key_message,
    key_verdict,
    user_message,
)
from initkeys.model import (
    STATUS_ORDER,
    Exemption,
    Finding,
    FindingView,
    IamUser,
    Reason,
    ReportRow,
    Settings,
    Status,
)

_Cells = tuple[
    str,  # user
    str,  # arn
    Status,
    Reason,
    int | None,  # key slot
    bool | None,  # active
    str,  # user created, as the report wrote it (2019-01-07T10:30:00+00:00)
    str | None,  # key created, as written
    str | None,  # last used, as written
    str | None,  # password created, as written
    timedelta | None,  # the key's creation less its user's
]


def _parsed(text: str | None) -> datetime | None:
    # The reader checked the text's form and parsed it once already (see ReportRow).
    return None if text is None else datetime.fromisoformat(text)


def _utc(text: str | None) -> str | None:
    # format_utc of the parsed time: AWS's form less "+00:00", plus "Z".
    return None if text is None else text[:19] + "Z"


class LightFinding(_Cells):
    """A :class:`~initkeys.model.FindingView` of a report row: a tuple (no evidence, no
    exemption: the light path is not taken with either)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the getters below give
        user: str
        arn: str
        status: Status
        reason: Reason
        key_slot: int | None
        active: bool | None
        setup_gap: timedelta | None
        access_key_id: str | None
        exemption: Exemption | None
        expired_exemption: Exemption | None
        created_by: str | None
        created_via: str | None
        created_from: str | None
        evidence_note: str | None
    else:
        # C-level getters and class constants: formats read these for every finding.
        user = property(itemgetter(0))
        arn = property(itemgetter(1))
        status = property(itemgetter(2))
        reason = property(itemgetter(3))
        key_slot = property(itemgetter(4))
        active = property(itemgetter(5))
        setup_gap = property(itemgetter(10))
        access_key_id = exemption = expired_exemption = None
        created_by = created_via = created_from = evidence_note = None

    @property
    def message(self) -> str:
        slot, active, gap = self[4], self[5], self[10]
        if slot is None or active is None or gap is None:
            return user_message(self[3], self[0])
        return key_message(self[3], self[0], slot, active, gap)

    @property
    def user_created(self) -> datetime | None:
        return _parsed(self[6])

    @property
    def key_created(self) -> datetime | None:
        return _parsed(self[7])

    @property
    def last_used(self) -> datetime | None:
        return _parsed(self[8])

    @property
    def password_created(self) -> datetime | None:
        return _parsed(self[9])

    @property
    def user_created_utc(self) -> str | None:
        return _utc(self[6])

    @property
    def key_created_utc(self) -> str | None:
        return _utc(self[7])

    @property
    def last_used_utc(self) -> str | None:
        return _utc(self[8])

    @property
    def password_created_utc(self) -> str | None:
        return _utc(self[9])

    def utc_times(self) -> tuple[str | None, str | None, str | None, str | None]:
        """The four ``*_utc`` texts (user and key created, last used, password created) in
        one call, for a format that writes them all."""
        return _utc(self[6]), _utc(self[7]), _utc(self[8]), _utc(self[9])

    def finding(self) -> Finding:
        """The same finding as a :class:`~initkeys.model.Finding`."""
        return Finding(
            self[0],
            self[1],
            self[2],
            self[3],
            self.message,
            key_slot=self[4],
            active=self[5],
            user_created=self.user_created,
            key_created=self.key_created,
            last_used=self.last_used,
            password_created=self.password_created,
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
