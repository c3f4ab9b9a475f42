"""The demo's memory between commands: a directory holding a log of what demo commands
changed, replayed on the next start.

The emulator's state itself is never saved: it holds the secret keys of the seeded
users, and initkeys never stores a secret, not even a fake one. Seeding is
deterministic instead (moto's random is seeded, so the same key ids come back every
time), and the log lists only the changes made since (``UpdateAccessKey``,
``DeleteAccessKey``, and the guard's new user: ``CreateUser``, ``CreateLoginProfile``,
``CreateAccessKey``), each with the demo-clock instant it was made at and the seed
moto's random had then, so that a replayed ``CreateAccessKey`` gets the same key id.

The directory is the user's: created 0700, refused when it is a link, not a
directory, another user's, writable by others, or not empty and not a demo state
directory. The log is initkeys-written but still read as hostile input: anything
unexpected is an :class:`~initkeys.errors.InputError` that says to run
``initkeys demo reset``. One command at a time holds it (an exclusive lock).

The demo clock: the first command runs at :data:`~initkeys.demo.company.DEMO_NOW`,
each later one :data:`COMMAND_STEP` after the one before.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from initkeys.closing import Closing
from initkeys.errors import InputError
from initkeys.inputs import BadJson, load_json
from initkeys.timeutil import format_utc, parse_utc

try:  # POSIX only; elsewhere two demo commands on one state are not prevented
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "COMMAND_STEP",
    "COMPANY_SEED",
    "STATE_ENV",
    "Change",
    "DemoState",
    "check_state_dir",
    "default_state_dir",
    "open_state",
    "reset_state",
]

STATE_ENV = "INITKEYS_DEMO_STATE"
MARKER_NAME = "initkeys-demo-state"
LOG_NAME = "changes.jsonl"
STATE_FILES = (LOG_NAME, MARKER_NAME)
"""Every file the demo writes in its directory: all that ``demo reset`` removes."""
MARKER_TEXT = "initkeys demo state (written by initkeys; 'initkeys demo reset' removes it)\n"

COMMAND_STEP = timedelta(minutes=1)
"""How far the demo clock moves on from one command to the next."""
MAX_COMMANDS = 10_000
"""A week of demo time: past that, the log is not a walkthrough's."""
MAX_LOG_BYTES = 1 << 20
COMPANY_SEED = 1_311
"""moto's random seed for the company; a change's seed is this plus its line number."""

# The changes a demo command can make, and the fields each has besides "op" and "at".
CHANGE_FIELDS: dict[str, frozenset[str]] = {
    "UpdateAccessKey": frozenset({"user", "key", "status"}),
    "DeleteAccessKey": frozenset({"user", "key"}),
    "CreateUser": frozenset({"user", "path", "seed"}),
    "CreateLoginProfile": frozenset({"user", "seed"}),
    "CreateAccessKey": frozenset({"user", "key", "seed"}),
}
COMMAND = "command"
_COMMAND_NAME = re.compile(r"[a-z][a-z -]{0,40}")
_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_PATH = re.compile(r"/([\x21-\x7e]{1,510}/)?")

# Never follow a symbolic link, never block on a FIFO.
_SAFE = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class Change:
    """One line of the log: a command's start (``op`` ``command``) or a change it made."""

    op: str
    at: datetime
    user: str | None = None
    key: str | None = None
    status: str | None = None
    path: str | None = None
    seed: int | None = None
    command: str | None = None

    def document(self) -> dict[str, Any]:
        fields = {"command"} if self.op == COMMAND else CHANGE_FIELDS[self.op]
        document: dict[str, Any] = {"op": self.op, "at": format_utc(self.at)}
        document.update({name: getattr(self, name) for name in sorted(fields)})
        return document


def default_state_dir() -> str:
    """``$INITKEYS_DEMO_STATE``, else ``initkeys-demo-<uid>`` in the temporary directory."""
    given = os.environ.get(STATE_ENV)
    if given:
        return given
    uid = os.geteuid() if hasattr(os, "geteuid") else 0
    return os.path.join(tempfile.gettempdir(), f"initkeys-demo-{uid}")


def _why_unsafe(st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link; name the directory itself"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return f"it is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"others can write to it (mode {stat.S_IMODE(st.st_mode):04o}); chmod go-w it"
    return None


def check_state_dir(path: str, *, create: bool) -> bool:
    """Refuse (InputError) a state directory that is not safe to use; with ``create``,
    make a missing one (0700). Returns whether the directory exists now."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return False
        try:
            os.mkdir(path, 0o700)
        except OSError as e:
            raise InputError(
                f"cannot create the demo state directory {path}: {e.strerror or e}"
            ) from None
        st = os.lstat(path)
    except OSError as e:
        raise InputError(f"demo state directory {path}: {e.strerror or e}") from None
    why = _why_unsafe(st)
    if why is not None:
        raise InputError(
            f"refusing the demo state directory {path}: {why} (or name another with "
            "--demo-state DIR)"
        )
    names = set(os.listdir(path))
    if names and MARKER_NAME not in names:
        raise InputError(
            f"refusing the demo state directory {path}: it is not empty and not an initkeys "
            "demo state (name a new or empty directory)"
        )
    return True


def damaged(path: str, why: str) -> InputError:
    return InputError(f"the demo state in {path} cannot be used ({why}): run 'initkeys demo reset'")


def _open_file(directory: str, name: str, flags: int) -> int:
    where = os.path.join(directory, name)
    try:
        fd = os.open(where, flags | _SAFE, 0o600)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise damaged(directory, f"{name} is a symbolic link") from None
        raise damaged(directory, f"{name}: {e.strerror or e}") from None
    st = os.fstat(fd)
    why = None
    if not stat.S_ISREG(st.st_mode):
        why = f"{name} is not a regular file"
    elif hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        why = f"{name} is owned by uid {st.st_uid}"
    elif st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        why = f"others can write to {name}"
    if why is not None:
        os.close(fd)
        raise damaged(directory, why)
    return fd


def _read_all(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class DemoState(Closing):
    """An open, locked state directory: the changes so far, and where to append."""

    def __init__(self, directory: str, fd: int, changes: tuple[Change, ...]) -> None:
        self.directory = directory
        self._fd = fd
        self.changes = changes

    @property
    def commands(self) -> int:
        return sum(c.op == COMMAND for c in self.changes)

    @property
    def now(self) -> datetime:
        """The instant the next command runs at."""
        from initkeys.demo.company import DEMO_NOW

        return DEMO_NOW + self.commands * COMMAND_STEP

    @property
    def next_seed(self) -> int:
        """moto's seed for the next change: the company's, plus the line it will be on."""
        return COMPANY_SEED + 1 + len(self.changes)

    def append(self, change: Change) -> None:
        """Add ``change`` to the log, on disk before the next change is made."""
        import json

        line = json.dumps(change.document(), ensure_ascii=True) + "\n"
        os.write(self._fd, line.encode("ascii"))
        os.fsync(self._fd)
        self.changes = (*self.changes, change)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # and with it the lock
            self._fd = -1


def open_state(directory: str) -> DemoState:
    """The state in ``directory`` (made if missing), locked for this command, its log read
    and checked. InputError for an unsafe directory, a busy or damaged state."""
    check_state_dir(directory, create=True)
    marker = os.path.join(directory, MARKER_NAME)
    if not os.path.lexists(marker):
        _write_marker(directory)
    fd = _open_file(directory, MARKER_NAME, os.O_RDONLY)
    try:
        if _read_all(fd, len(MARKER_TEXT)) != MARKER_TEXT.encode():
            raise damaged(directory, f"{MARKER_NAME} is not what initkeys wrote")
    finally:
        os.close(fd)
    fd = _open_file(directory, LOG_NAME, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    try:
        _lock(fd, directory)
        changes = parse_log(_read_all(fd, MAX_LOG_BYTES), directory)
    except BaseException:
        os.close(fd)
        raise
    return DemoState(directory, fd, changes)


def _write_marker(directory: str) -> None:
    fd = _open_file(directory, MARKER_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        os.write(fd, MARKER_TEXT.encode())
    finally:
        os.close(fd)


def _lock(fd: int, directory: str) -> None:
    if fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise InputError(
            f"another initkeys demo command is using the demo state in {directory}; "
            "wait for it to end"
        ) from None


def parse_log(data: bytes, directory: str) -> tuple[Change, ...]:
    """The log's lines, each checked; a damaged log is an InputError naming the line."""
    if len(data) > MAX_LOG_BYTES:
        raise damaged(directory, f"{LOG_NAME} is larger than {MAX_LOG_BYTES >> 20} MiB")
    if data and not data.endswith(b"\n"):
        raise damaged(directory, f"{LOG_NAME} ends in a torn line")
    changes: list[Change] = []
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            change = parse_change(line)
        except ValueError as e:
            raise damaged(directory, f"{LOG_NAME} line {number}: {e}") from None
        if changes and change.at < changes[-1].at:
            raise damaged(directory, f"{LOG_NAME} line {number}: goes back in time")
        if change.seed is not None and change.seed != COMPANY_SEED + number:
            raise damaged(directory, f"{LOG_NAME} line {number}: the seed is not its line's")
        changes.append(change)
    if sum(c.op == COMMAND for c in changes) > MAX_COMMANDS:
        raise damaged(directory, f"more than {MAX_COMMANDS} commands")
    return tuple(changes)


def parse_change(line: bytes) -> Change:
    """One log line as a :class:`Change` (ValueError with why, for anything else)."""
    from initkeys.demo.company import DEMO_NOW

    try:
        document = load_json(line.decode("utf-8"))
    except (BadJson, UnicodeDecodeError) as e:
        raise ValueError(f"not JSON: {e}") from None
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    op = document.get("op")
    if op == COMMAND:
        fields = frozenset({"command"})
    elif isinstance(op, str) and op in CHANGE_FIELDS:
        fields = CHANGE_FIELDS[op]
    else:
        raise ValueError("an unknown op")
    if set(document) != {"op", "at", *fields}:
        raise ValueError(f"{op}: not the fields initkeys writes")
    at = parse_utc(document["at"]) if isinstance(document["at"], str) else None
    if at is None or not DEMO_NOW <= at <= DEMO_NOW + MAX_COMMANDS * COMMAND_STEP:
        raise ValueError("'at' is not an instant of the demo")
    values = {name: document[name] for name in fields}
    _check(values, "command", _COMMAND_NAME)
    _check(values, "user", _USER_NAME)
    _check(values, "key", _KEY_ID)
    _check(values, "path", _PATH)
    if "status" in values and values["status"] not in ("Active", "Inactive"):
        raise ValueError("'status' is neither Active nor Inactive")
    seed = values.get("seed")
    if "seed" in values and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 < seed < 1 << 31
    ):
        raise ValueError("'seed' is not a seed")
    return Change(op=str(op), at=at.astimezone(timezone.utc), **values)


def _check(values: dict[str, Any], name: str, pattern: re.Pattern[str]) -> None:
    if name in values and not (
        isinstance(values[name], str) and pattern.fullmatch(values[name]) is not None
    ):
        raise ValueError(f"{name!r} is not what initkeys writes")


def reset_state(directory: str) -> list[str]:
    """Remove the demo's files from ``directory``, then the directory if that left it empty.

    Never anything else: a directory that is not a demo state (not empty, no marker) is
    refused. Returns the paths removed (none when there was no state)."""
    if not check_state_dir(directory, create=False):
        return []
    removed: list[str] = []
    for name in STATE_FILES:
        path = os.path.join(directory, name)
        try:
            os.unlink(path)  # a link is removed itself, never followed
        except FileNotFoundError:
            continue
        except OSError as e:
            raise InputError(f"cannot remove {path}: {e.strerror or e}") from None
        removed.append(path)
    try:
        os.rmdir(directory)
        removed.append(directory)
    except OSError:
        pass  # someone put something else there: it stays, with the directory
    return removed


def iter_changes(state: DemoState) -> Iterator[Change]:
    """The changes to replay, in order (command lines left out)."""
    return (c for c in state.changes if c.op != COMMAND)
