"""Writing an output file safely: all of it or none of it."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from initkeys.errors import InputError


@contextmanager
def atomic_file(path: str) -> Iterator[TextIO]:
    """Write to a temporary file beside ``path`` and rename it over ``path`` at the end,
    so a failed run never leaves a half-written report or destroys an older one.

    Anything but a regular file (``/dev/null``, a FIFO, ``/dev/stdout``) is
    written in place: renaming over it would replace the device itself, and
    as root that replaces ``/dev/null`` for the whole machine. ``-`` is standard output
    (``--plan-out -``), as for most Unix tools."""
    if path == "-" and sys.stdout is not None:
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        special = False
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror}") from None
    if special:
        with open(path, "w", encoding="utf-8", newline="") as out:
            yield out
        return
    import tempfile  # only when a report goes to a file: kept off the start-up path

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".initkeys-", dir=directory)
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
