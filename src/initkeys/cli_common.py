"""What every command prints or asks the same way (no command imports another's module)."""

from __future__ import annotations

import sys

import click

from initkeys.errors import InputError
from initkeys.humanize import terminal_safe as terminal_safe  # every command escapes alike


def confirm_or_exit(yes: bool, question: str) -> None:
    """Ask before changing AWS, unless --yes; a no ends the run (exit 1), nothing changed."""
    if not yes and not click.confirm(question, default=False, err=True):
        click.echo("Not confirmed: nothing was changed.", err=True)
        sys.exit(1)


def refuse_unasked(apply_: bool, yes: bool) -> None:
    """Never change AWS unasked: without a terminal to ask on, --yes is required."""
    if apply_ and not yes and not (sys.stdin is not None and sys.stdin.isatty()):
        raise InputError(
            "--apply needs confirmation, and standard input is not a terminal: review the "
            "plan (run without --apply), then pass --yes"
        )
