"""``--cloudtrail DIRECTORY``: CloudTrail log files on disk, regular files only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from datetime import date
from functools import partial
from typing import Any, BinaryIO

from initkeys.model import TimeRange, TrailEvidence
from initkeys.sources.cloudtrail.collect import Collector, shown
from initkeys.sources.cloudtrail.logfiles import (
    DAY_FOLDER,
    LOG_SUFFIXES,
    days_of,
    file_account,
    may_hold,
    read_log_stream,
)

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


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
        collector = Collector(account_id)
        folder = os.path.realpath(self.path)
        for path in self._files(wanted_days, collector):
            name = os.path.basename(path)
            if file_account(name) in (None, account_id) and may_hold(name, ranges):
                collector.add_file(path, partial(_read_path, path, folder))
        return collector.evidence(self.source, ranges)

    def _files(self, wanted_days: set[date], collector: Collector) -> Iterator[str]:
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
                if name.endswith(LOG_SUFFIXES):
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


def _day_in_path(relative: str) -> date | None:
    """The day of a ``…/YYYY/MM/DD`` folder, else None (a year or month folder, or any other)."""
    match = DAY_FOLDER.search(relative)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
