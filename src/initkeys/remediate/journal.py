"""The remediation journal: one JSON line per planned, applied, skipped, already-done
or failed action, appended and fsync'ed before the next action starts.

A journal is the evidence of what was changed in AWS, the memory that lets a
rerun after an interruption finish the job without doing anything twice, and the
input of rollback. It holds key ids, dates and ARNs, never a secret (initkeys
never reads one: ``ListAccessKeys`` has none).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from initkeys.closing import Closing
from initkeys.errors import InputError
from initkeys.inputs import BadJson, load_json
from initkeys.model import TextEnum
from initkeys.remediate.plan import Action
from initkeys.timeutil import format_utc, parse_utc

try:  # POSIX only; elsewhere two runs on one journal are not prevented
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    time: datetime
    run_id: str
    account: str
    principal: str
    user: str
    access_key_id: str
    action: Action
    phase: Phase
    before: KeyState | None
    """The key before the action (None: it did not exist)."""
    after: KeyState | None
    """The key after it (None: it does not exist, or, for ``failed``, is unknown)."""
    reason: str
    verdict: str | None = None
    """The audit verdict that led here, ``FAIL setup-key-unused``; None for rollback."""


@dataclass(frozen=True, slots=True)
class KeyState:
    """A key as AWS showed it: ``status`` is ``Active`` or ``Inactive``, as AWS spells it."""

    status: str
    create_date: datetime
    last_used: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status == "Active"


class Phase(TextEnum):
    PLANNED = "planned"
    """Written right before the AWS call; alone, it means the outcome is unknown."""
    APPLIED = "applied"
    SKIPPED = "skipped"
    ALREADY_DONE = "already-done"
    FAILED = "failed"


def _state_document(state: KeyState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "status": state.status,
        "create_date": format_utc(state.create_date),
        "last_used": format_utc(state.last_used),
    }


def entry_document(entry: JournalEntry) -> dict[str, Any]:
    """One journal line, as a dict (the order is the order on disk)."""
    return {
        # Milliseconds: several lines are written within one second.
        "time": format_utc(entry.time, "milliseconds"),
        "run_id": entry.run_id,
        "account": entry.account,
        "principal": entry.principal,
        "user": entry.user,
        "access_key_id": entry.access_key_id,
        "action": entry.action.value,
        "phase": entry.phase.value,
        "verdict": entry.verdict,
        "before": _state_document(entry.before),
        "after": _state_document(entry.after),
        "reason": entry.reason,
    }


MAX_JOURNAL_BYTES = 256 * 1024 * 1024
"""Far beyond any real journal (a line is about 500 bytes); larger is not read."""

_LINE_START = b'{"time": "'
"""How every line initkeys writes begins: a torn last line must begin so too."""


@dataclass(frozen=True)
class JournalFile:
    """A journal's validated content: its entries, and how its last line ends."""

    entries: tuple[JournalEntry, ...]
    torn_at: int | None = None
    """Where a torn last line (a write cut short) begins, if there is one."""
    unterminated: bool = False
    """The last line is a whole entry without its newline."""
    shared: str | None = None
    """Why others could have written it (group/other write bit, another owner), or None."""


# Never follow a symbolic link, never block on a FIFO.
_SAFE = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open(path: str, flags: int, noun: str) -> int:
    try:
        return os.open(path, flags | _SAFE, 0o600)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {noun}") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError(
                f"{path}: the {noun} is a symbolic link; name the file itself"
            ) from None
        raise InputError(f"{path}: cannot open the {noun}: {e.strerror}") from None


def _regular(fd: int, path: str) -> str | None:
    """Refuse anything but a regular file of a sane size; why others could have
    written it, or None."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: the journal is not a regular file")
    if st.st_size > MAX_JOURNAL_BYTES:
        raise InputError(f"{path}: {st.st_size} bytes is too large for a journal")
    if st.st_uid != os.geteuid():
        return f"it is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"group or others can write to it (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def _read(path: str) -> JournalFile:
    fd = _open(path, os.O_RDONLY, "journal")
    try:
        return _load(fd, path)
    finally:
        os.close(fd)


def _load(fd: int, path: str) -> JournalFile:
    """Check that ``fd`` is a regular file holding a journal, and read it (changes nothing)."""
    shared = _regular(fd, path)
    chunks: list[bytes] = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        if offset > MAX_JOURNAL_BYTES:
            raise InputError(f"{path}: too large for a journal")
    return replace(parse_journal(b"".join(chunks), path), shared=shared)


def parse_journal(data: bytes, path: str) -> JournalFile:
    """Every line must be a journal entry; the last, without its newline, may be torn
    (a write cut short: it begins as every journal line does). InputError otherwise."""
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    entries: list[JournalEntry] = []
    for number, line in enumerate(lines, start=1):
        try:
            entries.append(parse_line(line))
        except _NotAnEntry as e:
            raise InputError(f"{path}: line {number} is not a journal line ({e})") from None
    if not tail:
        return JournalFile(tuple(entries))
    try:
        entries.append(parse_line(tail))
        return JournalFile(tuple(entries), unterminated=True)
    except _NotAnEntry as e:
        if not tail.startswith(_LINE_START):
            raise InputError(f"{path}: line {len(lines) + 1} is not a journal line ({e})") from None
    return JournalFile(tuple(entries), torn_at=len(data) - len(tail))


class _NotAnEntry(ValueError):
    """A line that is not a journal entry; ``str`` says why."""


def parse_line(line: bytes) -> JournalEntry:
    """One journal line (without its newline), or _NotAnEntry."""
    try:
        document = load_json(line)
    except BadJson as e:
        raise _NotAnEntry(str(e)[:200]) from None
    try:
        return parse_entry(document)
    except (ValueError, TypeError) as e:
        raise _NotAnEntry(str(e)[:200]) from None


class JournalWriter(Closing):
    """Appends entries to a JSONL file; each is on disk (fsync) when ``write`` returns.

    The file is opened without following a symbolic link, must be a regular file
    that only this user can write to (``allow_shared`` lets rollback go on with a
    warning), and must already be a journal: all of that is checked before a byte
    is written or cut. It is locked for the writer's lifetime, so two runs can
    never interleave their actions on one journal. ``content`` is what it held.
    """

    def __init__(self, path: str, *, allow_shared: bool = False) -> None:
        self.path = path
        created = True
        flags = os.O_RDWR | os.O_APPEND
        try:
            # O_EXCL: a new file is known to be new (and a dangling link is not followed).
            self._fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | _SAFE, 0o600)
        except FileExistsError:
            created = False
            self._fd = _open(path, flags, "journal")
        except OSError as e:
            raise InputError(f"cannot write the journal {path}: {e.strerror}") from None
        try:
            shared = _regular(self._fd, path)
            if shared is not None and not allow_shared:
                raise InputError(
                    f"{path}: refusing to write a journal others could have forged: {shared}"
                )
            self._lock()
            # Read under the lock: no other run is appending now.
            self.content = _load(self._fd, path)
            if created:
                _fsync_directory(path)
            self._end_torn_line()
        except BaseException:
            os.close(self._fd)
            raise

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                f"the journal {self.path} is in use by another initkeys run; wait for it to end"
            ) from None

    def _end_torn_line(self) -> None:
        # A kill -9 in the middle of a write can leave a last line without its
        # newline. It recorded nothing that happened: a line is on disk before the
        # action it announces starts, and a lost outcome line leaves its "planned"
        # line without an outcome, which reruns and rollback treat as unknown.
        # So it is cut off, as databases cut a torn log tail; a whole last entry
        # only missing its newline gets the newline. Only ever after the whole
        # file was checked to be a journal (parse_journal).
        if self.content.torn_at is not None:
            os.ftruncate(self._fd, self.content.torn_at)
            os.fsync(self._fd)
        elif self.content.unterminated:
            self._write_bytes(b"\n")

    def write(self, entry: JournalEntry) -> None:
        line = json.dumps(entry_document(entry), ensure_ascii=False) + "\n"
        self._write_bytes(line.encode("utf-8"))

    def _write_bytes(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # also releases the lock
            self._fd = -1


def _fsync_directory(path: str) -> None:
    """Make a new file's directory entry durable too (POSIX)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not fsync directories
    finally:
        os.close(fd)


def read_journal(
    path: str, *, warn: Callable[[str], None] | None = None
) -> tuple[JournalEntry, ...]:
    """Every entry of a journal, in order; InputError unless ``path`` is a journal.

    ``path`` must be a regular file (a symbolic link or a FIFO is refused) whose
    every line is a journal entry; a last line without its newline that begins
    as a journal line is ignored: it is what a kill -9 in the middle of a write
    leaves. A journal others could have written to is read, and ``warn`` is told why.
    """
    content = _read(path)
    if content.shared is not None and warn is not None:
        warn(f"{path}: others could have written to this journal: {content.shared}")
    return content.entries


def check_journal(path: str) -> None:
    """Refuse (InputError) a journal ``path`` that a writer would refuse, changing
    nothing: run before confirmation, so that a bad journal stops a run before any
    account is touched. A path that does not exist yet is fine."""
    if not os.path.lexists(path):
        return
    content = _read(path)
    if content.shared is not None:
        raise InputError(
            f"{path}: refusing to write a journal others could have forged: {content.shared}"
        )


def parse_entry(document: Any) -> JournalEntry:
    if not isinstance(document, dict):
        raise TypeError("a journal line is a JSON object")
    return JournalEntry(
        time=_time(document, "time"),
        run_id=_text(document, "run_id"),
        account=_text(document, "account"),
        principal=_text(document, "principal"),
        user=_text(document, "user"),
        access_key_id=_text(document, "access_key_id"),
        action=Action(_text(document, "action")),
        phase=Phase(_text(document, "phase")),
        before=_parse_state(document.get("before")),
        after=_parse_state(document.get("after")),
        reason=_optional_text(document, "reason") or "",
        verdict=_optional_text(document, "verdict"),
    )


def _text(document: dict[str, Any], name: str) -> str:
    if name not in document:
        raise ValueError(f"{name} is missing")
    value = document[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    return value


def _optional_text(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    return value


def _time(document: dict[str, Any], name: str) -> datetime:
    text = _text(document, name)
    moment = parse_utc(text)
    if moment is None:
        raise ValueError(f"{name} is not a timestamp")
    return moment


def _parse_state(value: Any) -> KeyState | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("a key state is an object or null")
    status = _text(value, "status")
    if status not in ("Active", "Inactive"):
        raise ValueError("a key's status is Active or Inactive")
    used = _optional_text(value, "last_used")
    return KeyState(
        status=status,
        create_date=_time(value, "create_date"),
        last_used=None if used is None else _time(value, "last_used"),
    )


@dataclass(frozen=True)
class JournalHistory:
    """What earlier runs recorded in a journal, as the executor needs it."""

    accounts: frozenset[str]
    deleted: frozenset[str]
    """Key ids whose deletion was planned or applied: gone now means done."""

    @classmethod
    def of(cls, entries: Iterable[JournalEntry]) -> JournalHistory:
        accounts: set[str] = set()
        deleted: set[str] = set()
        for entry in entries:
            accounts.add(entry.account)
            if entry.action is Action.DELETE and entry.phase in (Phase.PLANNED, Phase.APPLIED):
                deleted.add(entry.access_key_id)
        return cls(accounts=frozenset(accounts), deleted=frozenset(deleted))


EMPTY_HISTORY = JournalHistory(accounts=frozenset(), deleted=frozenset())
