"""Shell completion for bash, zsh and fish, by click's own mechanism.

The shell's script (``initkeys completion SHELL`` prints it: click's own) runs
``initkeys`` with ``_INITKEYS_COMPLETE=SHELL_complete`` and the words typed so far;
click answers with commands, options and choices. initkeys adds:

- ``--profile``: the profile names of the AWS config and credentials files, read by
  botocore's own loader (``AWS_CONFIG_FILE``, ``AWS_SHARED_CREDENTIALS_FILE`` honoured;
  no network; only names are ever written, never a value);
- ``--format``: the command's format names, also after a comma (``json,sa`` → ``json,sarif``);
- file names for every option or argument whose metavar names a file (``PATH``,
  ``AUDIT.json``, ``OUT.zip``, ``SOURCE``), folder names for ``DIR``: click completes
  nothing for a plain string option.

Imported on the start-up path (by :mod:`initkeys.cli_options`): click only, here; the
import registers initkeys' completion classes in place of click's, as click registers
its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
    add_completion_class,
    get_completion_class,
)

PROG_NAME = "initkeys"
COMPLETE_VAR = "_INITKEYS_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

# Metavars that name a file (PATH, PATH..., AUDIT.json, EVENT.json, OUT.zip; SOURCE may
# be a folder of CloudTrail log files) or a folder (DIR).
_FILE_METAVAR = re.compile(r"(?:PATH|SOURCE|[A-Z]+\.[a-z]+)(?:\.\.\.)?")
_DIR_METAVAR = re.compile(r"DIR(?:\.\.\.)?")


def path_kind(param: click.Parameter) -> str | None:
    """``"file"``, ``"dir"`` or None: what the shell should complete for ``param``."""
    metavar = param.metavar or ""
    if _DIR_METAVAR.fullmatch(metavar):
        return "dir"
    if _FILE_METAVAR.fullmatch(metavar):
        return "file"
    return None


def complete_profile(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The AWS profile names that start with ``incomplete``."""
    try:
        from botocore.session import Session

        names: list[str] = list(Session().available_profiles)
    # A broken config file, or botocore missing: a completion offers nothing rather than
    # write an error into the middle of the user's command line.
    except Exception:
        return []
    # A name the shell could not take back as one word is left out.
    return [
        CompletionItem(name)
        for name in sorted(set(names))
        if name.startswith(incomplete) and name.isprintable() and "," not in name
    ]


def format_completer(
    names: Sequence[str],
) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    """Completion for a ``--format NAME[,NAME…]`` option: the names not given yet, after
    what is typed up to the last comma."""

    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        head, _, tail = incomplete.rpartition(",")
        given = set(head.split(",")) if head else set()
        prefix = f"{head}," if head else ""
        return [
            CompletionItem(prefix + name)
            for name in names
            if name.startswith(tail) and name not in given
        ]

    return complete


class _Paths(ShellComplete):
    """File and folder names where click would offer nothing (plain string options)."""

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        try:
            from click.shell_completion import _resolve_context, _resolve_incomplete
        except ImportError:  # a click that moved them: click's own completion still works
            return super().get_completions(args, incomplete)
        ctx = _resolve_context(self.cli, self.ctx_args, self.prog_name, args)
        obj, incomplete = _resolve_incomplete(ctx, args, incomplete)
        items: list[CompletionItem] = obj.shell_complete(ctx, incomplete)
        if not items and isinstance(obj, click.Parameter):
            kind = path_kind(obj)
            if kind is not None:
                return [CompletionItem(incomplete, type=kind)]
        return items


class InitkeysBash(_Paths, BashComplete):
    pass


class InitkeysZsh(_Paths, ZshComplete):
    pass


class InitkeysFish(_Paths, FishComplete):
    pass


for _cls in (InitkeysBash, InitkeysZsh, InitkeysFish):
    add_completion_class(_cls)


def completion_script(shell: str, cli: click.Command) -> str:
    """The script that makes ``shell`` complete ``initkeys`` (click's, as
    ``_INITKEYS_COMPLETE=SHELL_source initkeys`` prints it)."""
    cls = get_completion_class(shell)
    if cls is None:
        raise click.UsageError(f"no completion for shell {shell!r}: use one of {', '.join(SHELLS)}")
    return cls(cli, {}, PROG_NAME, COMPLETE_VAR).source()


@click.command("completion")
@click.argument("shell", required=False, type=click.Choice(SHELLS))
def completion(shell: str | None) -> None:
    """Print the shell completion script for bash, zsh or fish (default: the one $SHELL
    names).

    \b
    bash:  eval "$(initkeys completion bash)"   (in ~/.bashrc)
    zsh:   eval "$(initkeys completion zsh)"    (in ~/.zshrc)
    fish:  initkeys completion fish > ~/.config/fish/completions/initkeys.fish
    """
    from initkeys.errors import InputError

    if shell is None:
        shell = os.path.basename(os.environ.get("SHELL", ""))
        if shell not in SHELLS:
            raise InputError(
                f"say which shell: initkeys completion {'|'.join(SHELLS)} "
                f"($SHELL is {shell or 'not set'!r})"
            )
    root: Any = click.get_current_context().find_root().command
    click.echo(completion_script(shell, root), nl=False)
