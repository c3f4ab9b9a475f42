"""One big credential report file read by two processes: this one and a forked child.

The file is cut right after a ``\\n`` byte past 58 % of it (a ``\\n`` is never inside a
UTF-8 character, and the reader reads one physical line at a time, so no row spans the
cut). This process reads and judges the first part, header and all, exactly as
:func:`~initkeys.sources.credential_report.open_credential_report` would; the child
judges the second part with the header's columns, numbering its lines on from the
first part's, and hands its findings and counts back through an unlinked temporary
file (pickled in batches, so neither process holds them twice).

Anything out of the ordinary falls back to the one-process read, whose result and
first error in file order are the contract: a file under :data:`PARALLEL_BYTES`, the
AWS CLI's JSON, standard input, no ``fork``, a header this module does not find as the
reader does, an error in either part (a bad file, rows of two accounts), a child that
fails, or line numbers that do not meet (an over-long blank line is not counted as a
line by the reader). Then the file is read again, whole, in this process.
"""

from __future__ import annotations

import gc
import io
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any

from initkeys.errors import InputError
from initkeys.evaluate.light import judge_records
from initkeys.model import AccountAudit, FindingView, LightFinding, Reason, Settings, Status
from initkeys.sources.credential_report import (
    MAX_LINE,
    ReportReader,
    _columns,
    _physical_lines,
    _reader,
)

if TYPE_CHECKING:
    from initkeys.spill import FindingSpill

PARALLEL_BYTES = 8 * 1024 * 1024
"""A file at least this large (about 35,000 rows) is read by two processes; under it,
a fork and the findings' transfer cost more than they save. INITKEYS_PARALLEL_BYTES
overrides it (tests); 0 or less: never."""

# This process's share of the bytes, in percent: the child's row costs ~1.4x as much (it
# counts the first part's lines and pickles its findings) and this process loads them
# after, so an even cut leaves this one waiting (1M rows, CPU: 5.7 s here, 8.2 s child).
_FIRST_SHARE = 58
_BATCH = 20_000  # findings a pickle holds: the child's memory stays a batch's
_HEAD = 1024 * 1024  # where the header must be found (else: one process)


def parallel_bytes() -> int:
    """The size from which report files are read by two processes; 0 (never) without
    ``fork`` or a second core, where a second process only costs."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return 0
    text = os.environ.get("INITKEYS_PARALLEL_BYTES")
    if text is None:
        return PARALLEL_BYTES
    try:
        return int(text)
    except ValueError:
        return PARALLEL_BYTES


class _Range(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file, as a raw stream."""

    def __init__(self, path: str, start: int, end: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._left)
        if size <= 0:
            return 0
        got = self._file.readinto(memoryview(buffer)[:size]) or 0
        self._left -= got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def _text(path: str, start: int, end: int, encoding: str) -> IO[str]:
    return io.TextIOWrapper(
        io.BufferedReader(_Range(path, start, end), 1024 * 1024), encoding=encoding, newline=""
    )


def _plan(path: str, name: str) -> tuple[int, dict[str, int], int] | None:
    """(where the second part starts, the header's columns and width), or None when the
    file is not one to split (see the module's note)."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as file:
            head = file.read(_HEAD)
            head = head[: head.rfind(b"\n") + 1]  # whole lines: no character cut in two
            if not head.lstrip(b"\xef\xbb\xbf \t\r\n\f\v").strip():
                return None
            stream = io.StringIO(head.decode("utf-8-sig", errors="strict"), newline="")
            consumed = 3 if head.startswith(b"\xef\xbb\xbf") else 0
            while True:
                piece = stream.readline()
                if not piece or piece[-1] not in "\r\n" or len(piece) >= MAX_LINE:
                    return None  # the header is not a whole, short line in the head
                consumed += len(piece.encode("utf-8"))
                if not piece.isspace():
                    break
            if piece.lstrip().startswith("{"):
                return None  # the AWS CLI's JSON
            columns, width = _columns(piece.rstrip("\r\n"), 0, name)
            middle = max(consumed, size * _FIRST_SHARE // 100)
            file.seek(middle - 1)
            rest = file.read(1024 * 1024)
            at = rest.find(b"\n")
            if at < 0:
                return None
            cut = middle + at
            if cut >= size:
                return None  # nothing after the cut
            return cut, columns, width
    except (OSError, UnicodeDecodeError, InputError):
        return None


def _breaks(path: str, end: int) -> int:
    """Line ends in the file's first ``end`` bytes as ``newline=""`` reads them (LF, CRLF,
    a lone CR): the number of the first part's last line."""
    count = 0
    carried_cr = False
    with open(path, "rb") as file:
        left = end
        while left > 0:
            chunk = file.read(min(left, 8 * 1024 * 1024))
            if not chunk:
                break
            left -= len(chunk)
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if carried_cr and chunk.startswith(b"\n"):
                count -= 1  # a CRLF cut between two chunks was counted twice
            carried_cr = chunk.endswith(b"\r")
    return count


def audit_files_apart(
    paths: tuple[str, ...], settings: Settings, spill: FindingSpill
) -> list[AccountAudit] | None:
    """Several report files (independent accounts), each audited in a forked process of
    its own, two at a time, its findings written to ``spill`` there; the audits in
    ``paths`` order, the first file's error in that order raised as the serial loop
    would. None when the files are small together (under :func:`parallel_bytes`), one
    is standard input, or :func:`parallel_bytes` says never."""
    limit = parallel_bytes()
    if limit <= 0 or "-" in paths:
        return None
    try:
        if sum(os.stat(path).st_size for path in paths) < limit:
            return None
    except OSError:
        return None  # the serial loop says which file, in order
    context = multiprocessing.get_context("fork")
    workers = min(2, len(paths))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start) as pool:
        try:
            return list(
                pool.map(_audit_apart, paths, [settings] * len(paths), [spill] * len(paths))
            )
        except BrokenProcessPool:
            return None  # a worker died (out of memory?): the serial loop reads the files
        except BaseException:
            # An error or an interrupt: no worker is left running (cancel what waits,
            # end what runs; the pool's exit then reaps them).
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            raise


def _worker_start() -> None:
    """A file worker: ends quietly on Ctrl-C and with its parent; no split of its own
    (two workers already use both cores)."""
    _default_signals()
    _die_with_parent()
    os.environ["INITKEYS_PARALLEL_BYTES"] = "0"


def _default_signals() -> None:
    """A child ends at once on Ctrl-C or SIGTERM, as its parent does; one the parent was
    started ignoring (``nohup``, a background job of a script) it ignores too, or the
    child would die of a signal its parent lives through."""
    for number in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)


def _audit_apart(path: str, settings: Settings, spill: FindingSpill) -> AccountAudit:
    from initkeys.audit import audit_report_file

    audit = audit_report_file(path, settings)
    return replace(audit, findings=spill.keep(audit.findings))


def _die_with_parent() -> None:
    """Linux: the kernel ends this child when its parent dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(
    path: str,
    name: str,
    cut: int,
    columns: dict[str, int],
    width: int,
    settings: Settings,
    out: IO[bytes],
) -> None:
    """The second part's findings, then its counts, pickled to ``out``."""
    first = _breaks(path, cut) + 1
    with _text(path, cut, os.stat(path).st_size, "utf-8") as stream:
        reader = ReportReader(
            _physical_lines(stream, name), name, first_line=first, header=(columns, width)
        )
        dump = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL).dump
        records = reader.records()
        while True:
            batch = list(itertools.islice(records, _BATCH))
            dump(_plain(judge_records(batch, settings)))
            if not batch:
                break
        dump((first, reader.state()))
    out.flush()


# A light finding crosses as a plain tuple (pickle's C fast path: a LightFinding, its
# enums and its timedelta each take pickle's slow reduce path, 5x the time).
_STATUSES = tuple(Status)
_REASONS = tuple(Reason)
_STATUS_AT = {status: i for i, status in enumerate(_STATUSES)}
_REASON_AT = {reason: i for i, reason in enumerate(_REASONS)}
_MICROSECOND = timedelta(microseconds=1)


def _plain(findings: list[FindingView]) -> list[Any]:
    """Light findings as tuples of str, int, bool and None; full ones as they are."""
    status, reason, light, us = _STATUS_AT, _REASON_AT, LightFinding, _MICROSECOND
    return [
        (
            f[0],
            f[1],
            status[f[2]],
            reason[f[3]],
            f[4],
            f[5],
            f[6],
            f[7],
            f[8],
            f[9],
            None if f[10] is None else f[10] // us,
        )
        if type(f) is light
        else f
        for f in findings
    ]


def _rebuilt(part: list[Any]) -> list[FindingView]:
    """The findings of a :func:`_plain` batch."""
    new, light, delta = tuple.__new__, LightFinding, timedelta
    statuses, reasons = _STATUSES, _REASONS
    return [
        new(
            light,
            (
                i[0],
                i[1],
                statuses[i[2]],
                reasons[i[3]],
                i[4],
                i[5],
                i[6],
                i[7],
                i[8],
                i[9],
                None if i[10] is None else delta(0, 0, i[10]),
            ),
        )
        if type(i) is tuple
        else i
        for i in part
    ]


def judge_split(path: str, settings: Settings) -> tuple[ReportReader, list[FindingView]] | None:
    """The file's reader (every row counted) and its findings in file order, read by two
    processes; None when the caller must read it in one (see the module's note)."""
    limit = parallel_bytes()
    if limit <= 0 or path == "-":
        return None
    try:
        if os.stat(path).st_size < limit:
            return None
    except OSError:
        return None
    name = os.path.basename(path)
    plan = _plan(path, name)
    if plan is None:
        return None
    # Both processes make a million small objects and no cycles: the collector's passes
    # over them cost ~30 % of the transfer (pickling, loading, rebuilding) and of the read.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _split_read(path, name, plan, settings)
    finally:
        if collecting:
            gc.enable()


def _split_read(
    path: str, name: str, plan: tuple[int, dict[str, int], int], settings: Settings
) -> tuple[ReportReader, list[FindingView]] | None:
    cut, columns, width = plan
    with tempfile.TemporaryFile() as spool:
        pid = os.fork()
        if pid == 0:  # the child: never returns, never runs the parent's cleanup
            code = 1
            try:
                _default_signals()
                signal.signal(signal.SIGPIPE, signal.SIG_DFL)
                _die_with_parent()
                _child(path, name, cut, columns, width, settings, spool)
                code = 0
            except BaseException:  # any failure: the parent reads the file itself
                code = 1
            finally:
                os._exit(code)
        try:
            mine = _first_part(path, name, cut, settings)
            code = _wait(pid)
            pid = 0
            if mine is None or code != 0:
                return None
            reader, findings = mine
            spool.seek(0)
            return _join(reader, findings, spool)
        finally:
            if pid:
                _stop(pid)


def _first_part(
    path: str, name: str, cut: int, settings: Settings
) -> tuple[ReportReader, list[FindingView]] | None:
    try:
        with _text(path, 0, cut, "utf-8-sig") as stream:
            reader = _reader(stream, name)
            findings = judge_records(reader.records(), settings)
    except (InputError, UnicodeDecodeError, OSError):
        return None  # the one-process read raises the error where it comes first
    return reader, findings


def _join(
    reader: ReportReader, findings: list[FindingView], spool: IO[bytes]
) -> tuple[ReportReader, list[FindingView]] | None:
    load = pickle.Unpickler(spool).load
    while True:
        part = load()
        if isinstance(part, tuple):
            first, state = part
            if first != reader.last_line + 1 or not reader.add_part(state):
                return None
            return reader, findings
        findings.extend(_rebuilt(part))


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _stop(pid: int) -> None:
    """End the child (an interrupt, an error here) and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
