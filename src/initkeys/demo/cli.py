"""``--demo`` and ``--demo-state`` for the commands, and ``initkeys demo reset|where``.

Each command opens the demo (:func:`initkeys.demo.open_demo`) where it would open an
AWS context, through :func:`demo_context`; the demo lives as long as the command's
click context. Nothing heavy is imported until a demo starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from initkeys.errors import InputError

if TYPE_CHECKING:
    from initkeys.aws import AwsContext
    from initkeys.cli_options import AwsOptions
    from initkeys.demo import DemoRun
    from initkeys.sources.accounts import AccountSelection

_F = TypeVar("_F", bound=Callable[..., Any])

DEMO_HELP = (
    "Run against the built-in demo account (an AWS emulator) instead of AWS. Its state "
    "persists across commands (see --demo-state); 'initkeys demo reset' starts over."
)


def demo_state_option(command: _F) -> _F:
    """``--demo-state DIR`` (as ``demo_state``)."""
    return click.option(
        "--demo-state",
        "demo_state",
        metavar="DIR",
        help="With --demo: where the demo keeps its state between commands (default: "
        "$INITKEYS_DEMO_STATE, else initkeys-demo-<uid> in the temporary directory).",
    )(command)


def demo_options(command: _F) -> _F:
    """``--demo`` (as ``demo``) and ``--demo-state DIR``."""
    command = demo_state_option(command)
    return click.option("--demo", is_flag=True, help=DEMO_HELP)(command)


def check_demo_state(demo: bool, demo_state: str | None) -> None:
    if demo_state is not None and not demo:
        raise InputError("--demo-state goes with --demo")


def open_demo_run(demo_state: str | None, command: str) -> DemoRun:
    """The demo, open until the current click command ends."""
    from initkeys.demo import open_demo

    return click.get_current_context().with_resource(open_demo(demo_state, command))


def check_demo(
    aws_opts: AwsOptions,
    demo: bool,
    demo_state: str | None,
    selection: AccountSelection | None = None,
) -> None:
    """Refuse options that name another account or a way to AWS next to ``--demo``, and
    ``--demo-state`` without it (InputError), before anything is read or started."""
    check_demo_state(demo, demo_state)
    many = selection is not None and bool(selection.many or selection.role_name)
    if demo and (aws_opts.profile or aws_opts.endpoint_url or many):
        raise InputError(
            "--demo cannot be combined with --profile, --endpoint-url, --org, --accounts "
            "or --role-name"
        )


def demo_context(
    aws_opts: AwsOptions,
    demo: bool,
    demo_state: str | None,
    command: str,
    selection: AccountSelection | None = None,
) -> tuple[AwsContext, DemoRun | None]:
    """The AWS context a command acts through: the options' own, or (``demo``) the demo's
    (see :func:`check_demo` for what is refused)."""
    check_demo(aws_opts, demo, demo_state, selection)
    if not demo:
        return aws_opts.context(), None
    run = open_demo_run(demo_state, command)
    return run.aws, run


@click.group()
def demo() -> None:
    """The built-in demo: its state between commands (see --demo on each command)."""


@demo.command()
@demo_state_option
def reset(demo_state: str | None) -> None:
    """Forget what demo commands changed: the next --demo starts from the seeded company.
    Removes only the files the demo wrote (and the directory, if that empties it)."""
    from initkeys.demo.state import default_state_dir, reset_state

    directory = demo_state or default_state_dir()
    removed = reset_state(directory)
    # The directory is not named: 'initkeys demo where' does, and the walkthrough's
    # output stays the same wherever the state is.
    if removed:
        click.echo("Demo state removed: the next --demo starts from the seeded company.")
    else:
        click.echo("No demo state to remove: the next --demo starts from the seeded company.")


@demo.command()
@demo_state_option
def where(demo_state: str | None) -> None:
    """Print the demo state directory the --demo commands use."""
    from initkeys.demo.state import default_state_dir

    click.echo(demo_state or default_state_dir())
