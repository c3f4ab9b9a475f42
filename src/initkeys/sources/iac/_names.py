"""What the IaC readers quote from a file, and the user names IAM accepts."""

from __future__ import annotations

import re

from initkeys.humanize import terminal_safe

# IAM API Reference, CreateUser: UserName is 1 to 64 of [\w+=,.@-].
MAX_USER_NAME = 64
_USER_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]+")


def shorten(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters, control characters escaped: for quoting a
    value from the file in a one-line note."""
    return terminal_safe(text if len(text) <= width else text[: width - 1] + "…")


def name_problem(name: str) -> str | None:
    """Why IAM would refuse ``name`` as a user name ("a UserName …"), or None."""
    if len(name) > MAX_USER_NAME:
        return f"longer than IAM's {MAX_USER_NAME} characters"
    if not _USER_NAME.fullmatch(name):
        return f"'{shorten(name)}' that IAM refuses (letters, digits and _+=,.@- only)"
    return None
