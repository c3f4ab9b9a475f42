"""The remediation journal: one JSON line per planned, applied, skipped, already-done
or failed action, appended and fsync'ed before the next action starts.

A journal is the evidence of what was changed in AWS, the memory that lets a
rerun after an interruption finish the job without doing anything twice, and the
input of rollback. It holds key ids, dates and ARNs, never a secret (initkeys
never reads one: ``ListAccessKeys`` has none).
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from initkeys.errors import InputError
from initkeys.inputs import read_text
from initkeys.remediate.plan import Action

try:  # POSIX only; elsewhere two runs on one journal are not prevented
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class Phase(str, enum.Enum):
    PLANNED = "planned"
    """Written right before the AWS call; alone, it means the outcome is unknown."""
    APPLIED = "applied"
    SKIPPED = "skipped"
    ALREADY_DONE = "already-done"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class KeyState:
    """A key as AWS showed it: ``status`` is ``Active`` or ``Inactive``, as AWS spells it."""

    status: str
    create_date: datetime
    last_used: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status == "Active"


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


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.astimezone(timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


def parse_iso(text: str) -> datetime:
    """An ISO 8601 instant (``Z`` or an offset; naive means UTC) as an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"  # fromisoformat takes "Z" only from Python 3.11
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _state_document(state: KeyState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "status": state.status,
        "create_date": iso(state.create_date),
        "last_used": iso(state.last_used),
    }


def entry_document(entry: JournalEntry) -> dict[str, Any]:
    """One journal line, as a dict (the order is the order on disk)."""
    # Milliseconds: several lines are written within one second.
    stamp = entry.time.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return {
        "time": stamp.removesuffix("+00:00") + "Z",
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


class JournalWriter:
    """Appends entries to a JSONL file; each is on disk (fsync) when ``write`` returns.

    The file is locked for the writer's lifetime, so two runs can never
    interleave their actions on one journal.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            existed = os.path.exists(path)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as e:
            raise InputError(f"cannot write the journal {path}: {e.strerror}") from None
        try:
            self._lock()
            if existed:
                self._end_torn_line()
            else:
                _fsync_directory(path)
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
        # So it is cut off, as databases cut a torn log tail.
        with open(self.path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            os.ftruncate(self._fd, data.rfind(b"\n") + 1)
            os.fsync(self._fd)

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

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


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


def read_journal(path: str) -> tuple[JournalEntry, ...]:
    """Every entry of a journal, in order.

    A last line without its newline that does not parse is ignored: it is what
    a kill -9 in the middle of a write leaves. Any other bad line is an error.
    """
    text = read_text(path, "journal", stdin=False, encoding="utf-8")
    lines = text.split("\n")
    torn = lines[-1] != ""
    entries: list[JournalEntry] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entries.append(parse_entry(json.loads(line)))
        except (ValueError, TypeError, KeyError) as e:
            if torn and number == len(lines):
                break
            raise InputError(f"{path}: line {number} is not a journal line ({e})") from None
    return tuple(entries)


def parse_entry(document: Any) -> JournalEntry:
    if not isinstance(document, dict):
        raise TypeError("a journal line is a JSON object")
    return JournalEntry(
        time=parse_iso(_text(document, "time")),
        run_id=_text(document, "run_id"),
        account=_text(document, "account"),
        principal=_text(document, "principal"),
        user=_text(document, "user"),
        access_key_id=_text(document, "access_key_id"),
        action=Action(document["action"]),
        phase=Phase(document["phase"]),
        before=_parse_state(document.get("before")),
        after=_parse_state(document.get("after")),
        reason=str(document.get("reason") or ""),
        verdict=document.get("verdict") if isinstance(document.get("verdict"), str) else None,
    )


def _text(document: dict[str, Any], name: str) -> str:
    value = document[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    return value


def _parse_state(value: Any) -> KeyState | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("a key state is an object or null")
    used = value.get("last_used")
    return KeyState(
        status=_text(value, "status"),
        create_date=parse_iso(_text(value, "create_date")),
        last_used=parse_iso(used) if isinstance(used, str) else None,
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
