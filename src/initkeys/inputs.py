"""Reading a file the user names ('-' for standard input) into text, or one InputError."""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from typing import Any

from initkeys.errors import InputError

DEFAULT_READ_LIMIT = 256 * 1024 * 1024
"""Past any config, account list, event, journal or approved report a person keeps: a
larger file (or ``/dev/zero``) is refused instead of filling memory."""


def read_text(
    path: str,
    noun: str,
    *,
    stdin: bool = True,
    encoding: str = "utf-8-sig",
    limit: int = DEFAULT_READ_LIMIT,
    regular_only: bool = False,
) -> str:
    """The text of ``path`` ('-' reads standard input, when ``stdin``), at most ``limit`` bytes.

    A missing, unreadable, undecodable or over-long file is an InputError naming
    the file as ``noun`` (``no such journal``). ``regular_only`` refuses a FIFO, a
    device or a directory without blocking on it (for files initkeys finds or that
    must be files; a path the user names may otherwise be ``<(…)``). ``utf-8-sig``
    drops the BOM some editors write.
    """
    try:
        if stdin and path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        elif regular_only:
            data = _read_regular(path, noun, limit)
        else:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
        if len(data) > limit:
            raise InputError(f"{path}: larger than {_size(limit)}, too large for the {noun}")
        return data.decode(encoding)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {noun}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: cannot read the {noun}: not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the {noun}: {e.strerror or e}") from None


def _read_regular(path: str, noun: str, limit: int) -> bytes:
    # O_NONBLOCK: opening a FIFO must not wait for a writer before it can be refused.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO or device"
            raise InputError(
                f"{path}: the {noun} must be a regular file ({kind} is not a regular file)"
            )
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit + 1)
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


class BadJson(ValueError):
    """JSON initkeys will not read; ``str(error)`` says why, in a few words."""


MAX_JSON_DEPTH = 200
"""Deeper than any document AWS or initkeys writes (CloudTrail records nest about 10)."""

_MAX_NUMBER_DIGITS = 40
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json(text: str | bytes) -> Any:
    """A JSON document from input initkeys did not write, or :class:`BadJson`.

    Beyond syntax, refused: nesting deeper than :data:`MAX_JSON_DEPTH`, numbers
    of more than 40 digits (Python's int parsing is quadratic, and no field
    initkeys reads is that large), ``NaN``/``Infinity`` and floats that overflow
    to them, and strings holding a lone UTF-16 surrogate (they cannot be written
    back out as UTF-8). Each would otherwise surface later as an internal error.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadJson("not UTF-8 text") from None
    try:
        document = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as e:
        raise BadJson(f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise BadJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_shape(document, _SURROGATE_ESCAPE.search(text) is not None)
    return document


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_NUMBER_DIGITS:
        raise BadJson(f"a number of {len(text)} digits")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > _MAX_NUMBER_DIGITS + 10:
        raise BadJson(f"a number of {len(text)} characters")
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"a number out of range ({text[:20]})")
    return value


def _parse_constant(text: str) -> float:
    raise BadJson(f"{text} is not a JSON number")


def _check_shape(document: Any, surrogates: bool) -> None:
    """Depth, and (when the text escapes any surrogate) lone surrogates in strings and keys."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)) and depth > MAX_JSON_DEPTH:
            raise BadJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if surrogates and _LONE_SURROGATE.search(key):
                    raise BadJson("a string holds a lone UTF-16 surrogate")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif surrogates and isinstance(value, str) and _LONE_SURROGATE.search(value):
            raise BadJson("a string holds a lone UTF-16 surrogate")
