"""Reading a file the user names ('-' for standard input) into text, or one InputError."""

from __future__ import annotations

import sys

from initkeys.errors import InputError


def read_text(path: str, noun: str, *, stdin: bool = True, encoding: str = "utf-8-sig") -> str:
    """The text of ``path`` ('-' reads standard input, when ``stdin``).

    A missing or unreadable file is an InputError naming the file as ``noun``
    (``no such journal``). ``utf-8-sig`` drops the BOM some editors write.
    """
    try:
        if stdin and path == "-":
            return sys.stdin.read()
        with open(path, encoding=encoding) as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such {noun}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the {noun}: {e}") from None
