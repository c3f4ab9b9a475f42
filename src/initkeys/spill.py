"""Findings kept on disk until the report is written, so memory stays bounded.

An organization audit finishes accounts one after another but writes its
report only at the end (the text report opens with the table of accounts, the
JSON document with the overall result). Each account's findings go to a file
as soon as the account is done; the run keeps only their counts, and a
formatter reads them back one account at a time.

The files are pickles that this process wrote itself into a private (0700)
temporary directory, read back only by this process, and removed when the run
ends. They hold what the report holds (names, ARNs, key ids), never a secret.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from itertools import islice
from operator import attrgetter
from typing import overload

from initkeys.closing import Closing
from initkeys.model import STATUS_ORDER, Finding, Status

# Findings per pickle record: big enough for speed, small enough that reading
# back holds little at a time.
_CHUNK = 1000

# A finding is stored as the tuple of its fields: pickling a frozen, slotted
# dataclass goes through its generic state protocol, four times slower.
_FIELDS = attrgetter(*(f.name for f in fields(Finding)))


class SpilledFindings(Sequence[Finding]):
    """The findings of one account, in a file: iterable any number of times."""

    __slots__ = ("_length", "_path", "open_counts", "status_counts")

    def __init__(
        self,
        path: str,
        length: int,
        status_counts: dict[Status, int],
        open_counts: dict[Status, int],
    ) -> None:
        self._path = path
        self._length = length
        self.status_counts = status_counts
        """Findings per status, counted when written (see ``model.tally_statuses``)."""
        self.open_counts = open_counts
        """The same for findings without an exemption (see ``AuditRun.fails``)."""

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Finding]:
        with open(self._path, "rb") as handle:
            while True:
                try:
                    chunk: list[tuple[object, ...]] = pickle.load(handle)
                except EOFError:
                    return
                for values in chunk:
                    yield Finding(*values)  # type: ignore[arg-type]

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        # Rare (tests, the Python API): a linear read, never a full copy for one item.
        if isinstance(index, slice):
            return tuple(self)[index]
        position = index + self._length if index < 0 else index
        if not 0 <= position < self._length:
            raise IndexError("finding index out of range")
        return next(islice(iter(self), position, None))

    def __repr__(self) -> str:
        return f"SpilledFindings({self._length} findings)"


class FindingSpill(Closing):
    """A private temporary directory for spilled findings; removed on ``close``.

    ``keep`` is safe to call from several threads: each call writes its own file.
    """

    def __init__(self, directory: str | None = None) -> None:
        self._root = tempfile.mkdtemp(prefix="initkeys-findings-", dir=directory)

    def keep(self, findings: Iterable[Finding]) -> SpilledFindings:
        counts = dict.fromkeys(STATUS_ORDER, 0)
        open_counts = dict.fromkeys(STATUS_ORDER, 0)
        fd, path = tempfile.mkstemp(dir=self._root, suffix=".pickle")
        length = 0
        with os.fdopen(fd, "wb") as handle:
            iterator = iter(findings)
            while chunk := list(islice(iterator, _CHUNK)):
                for finding in chunk:
                    counts[finding.status] += 1
                    if finding.exemption is None:
                        open_counts[finding.status] += 1
                rows = [_FIELDS(finding) for finding in chunk]
                pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)
                length += len(chunk)
        return SpilledFindings(path, length, counts, open_counts)

    def close(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)
