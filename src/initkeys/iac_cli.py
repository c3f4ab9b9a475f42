"""``initkeys iac PATH...``: scan Terraform, CloudFormation (SAM, CDK) and plan files for
setup keys before they exist (docs/verdicts.md, "Infrastructure as code").

Exit codes as the audit's: 0 nothing at or above --fail-on and everything read, 1 a
finding at or above it or (unless --allow-errors) any file that could not be read, 2 bad
usage, a path that does not exist, or nothing at all could be read.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from initkeys._version import __version__
from initkeys.cli_common import write_to_stdout
from initkeys.cli_options import exemption_options, failure_options, report_options
from initkeys.formats.iac import IAC_FORMAT_NAMES

if TYPE_CHECKING:
    from initkeys.app.iac import IacRun

DEMO_NAME = "demo"
"""How ``--demo`` shows its sample tree in every output: ``demo/terraform/…``, the same
on every machine, not the folder it is installed in."""


def demo_tree() -> Path:
    """The sample tree ``iac --demo`` scans: ``initkeys/demo_iac/``, shipped in the wheel
    (Terraform, Terraform JSON, CloudFormation YAML and JSON; its README.md lists the
    findings)."""
    from importlib import resources

    from initkeys.errors import InputError

    tree = resources.files("initkeys") / "demo_iac"
    # A zipped install has no folder to walk: say so instead of scanning nothing.
    if not isinstance(tree, Path) or not tree.is_dir():
        raise InputError("--demo: the sample tree is not installed as files with initkeys")
    return tree


@click.command("iac")
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option(
    "--demo",
    is_flag=True,
    help=f"Scan a sample tree shipped with initkeys (Terraform and CloudFormation, "
    f"shown as {DEMO_NAME}/) instead of PATHs.",
)
@report_options(IAC_FORMAT_NAMES, "initkeys-iac.sarif")
@failure_options
@exemption_options
def iac(
    paths: tuple[str, ...],
    demo: bool,
    output_format: str,
    output: str | None,
    output_dir: str | None,
    fail_on: str,
    allow_errors: bool,
    exempt_users: tuple[str, ...],
    config_path: str | None,
) -> None:
    """Scan infrastructure as code (files or folders, recursively) for IAM users created
    with a console password and an access key in one apply (CIS AWS 1.11).

    Reads Terraform (.tf, .tf.json, local modules, the iam-user registry module), plan
    JSON (terraform show -json PLAN) and CloudFormation, SAM and CDK templates (YAML or
    JSON). Skips .terraform/, .git/, node_modules/ and cdk.out/asset.*.

    Exit codes: 0 nothing at or above --fail-on and every IaC file read (also when no
    IaC file is found), 1 findings at or above it, or any file that could not be read
    (unless --allow-errors), 2 bad usage, a path that does not exist, or no IaC file
    could be read at all.
    """
    paths, shown_as = _demo_or_paths(demo, paths)
    from initkeys.app.audit import make_settings, report_targets
    from initkeys.app.iac import scan_iac
    from initkeys.formats.iac import file_name, parse_format_list
    from initkeys.model import DEFAULT_SETUP_WINDOW

    formats = parse_format_list(output_format)
    targets = report_targets(formats, output, output_dir, file_name)
    started = datetime.now(timezone.utc).replace(microsecond=0)
    # The mode and window judge keys in AWS; IaC verdicts use only --fail-on, errors, exemptions.
    settings = make_settings(
        "setup",
        DEFAULT_SETUP_WINDOW,
        fail_on,
        exempt_users,
        config_path,
        started,
        allow_errors=allow_errors,
    )
    run = scan_iac(paths, settings, generated_at=started, shown_as=shown_as)
    if run.nothing_found and sys.stderr is not None:
        print(
            "initkeys: note: no Terraform, CloudFormation or plan file found: nothing to judge",
            file=sys.stderr,
        )
    for name, path in targets:
        _write(run, name, path)
    sys.exit(1 if run.fails() else 0)


def _demo_or_paths(
    demo: bool, paths: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """(what to scan, how to show it): the PATHs as given, or the sample tree as ``demo``."""
    from initkeys.errors import InputError

    if not demo:
        if not paths:  # PATH is optional only for --demo: click's own message otherwise
            ctx = click.get_current_context()
            param = next(p for p in ctx.command.params if p.name == "paths")
            raise click.MissingParameter(ctx=ctx, param=param)
        return paths, None
    if paths:
        raise InputError("--demo scans the sample tree shipped with initkeys: give no PATH with it")
    tree = demo_tree()
    if sys.stderr is not None:
        print(f"initkeys: note: {DEMO_NAME}/ is the sample tree at {tree}", file=sys.stderr)
    return (str(tree),), (DEMO_NAME,)


def _write(run: IacRun, name: str, path: str | None) -> None:
    from initkeys.formats.iac import get_formatter
    from initkeys.outputs import atomic_file

    formatter = get_formatter(name)
    if path is not None:
        try:
            with atomic_file(path) as out:
                formatter.render(run, out, tool_version=__version__)
        except BrokenPipeError:
            pass  # a FIFO whose reader went away: the scan's verdict stands
        return
    # The audit's way to stdout (colour on a terminal, a reader that goes away keeps the
    # exit code).
    write_to_stdout(run, formatter, name)
