"""Errors the CLI turns into one line on stderr and an exit code."""

from __future__ import annotations


class InitkeysError(Exception):
    """Base class; ``str(error)`` is the one-line message shown to the user."""

    exit_code = 2


class InputError(InitkeysError):
    """Bad usage or unreadable input (exit 2)."""

    exit_code = 2


class AccessError(InitkeysError):
    """AWS could not be reached or refused us: credentials, permissions, network (exit 3)."""

    exit_code = 3
