"""What every command prints or asks the same way (no command imports another's module)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from initkeys._version import __version__
from initkeys.errors import InputError
from initkeys.formats import Renderer
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


def write_to_stdout(run: Any, formatter: Renderer[Any], output_format: str) -> None:
    """The report on stdout. A reader that goes away (``| head``) or a closed stdout
    (``>&-``) does not change the audit: it ends quietly with the audit's own exit code
    (0/1), which is what a caller that reads only the code asked for."""
    stdout = sys.stdout
    if stdout is None:  # started with fd 1 closed
        if sys.stderr is not None:
            print(
                "initkeys: note: standard output is closed: the report was not written",
                file=sys.stderr,
            )
        return
    try:
        color = output_format == "text" and stdout.isatty() and "NO_COLOR" not in os.environ
        formatter.render(run, stdout, color=color, tool_version=__version__)
        stdout.flush()
    except BrokenPipeError:
        discard_stdout()


def discard_stdout() -> None:
    """The reader went away (``| head``): what is still buffered, and anything written
    later (the interpreter flushes at exit), goes to /dev/null instead of raising."""
    if sys.stdout is None:
        return
    try:
        fileno = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (tests capture it in memory)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)
