"""The ``initkeys`` command: parse options, wire the stages, set the exit code.

Heavy imports (boto3, rich, moto) happen inside the commands that need them,
so ``initkeys --version`` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

import click

from initkeys._version import __version__
from initkeys.app.audit import ACCOUNT_WORKERS, MAX_ACCOUNT_WORKERS, make_settings
from initkeys.cli_common import discard_stdout, write_to_stdout
from initkeys.cli_options import (
    AwsOptions,
    account_selection_options,
    aws_options,
    exemption_options,
    failure_options,
    judgement_options,
    report_options,
    report_timeout_callback,
    trail_policy_options,
    workers_option,
)
from initkeys.demo.cli import check_demo_state, demo_state_option, open_demo_run
from initkeys.errors import AccessError, InitkeysError, InputError
from initkeys.formats import FORMAT_NAMES, parse_format_list, visible
from initkeys.model import AccountAudit, AuditRun, Status
from initkeys.outputs import atomic_file
from initkeys.partitions import check_region_name

if TYPE_CHECKING:
    from initkeys.formats import Formatter
    from initkeys.sources.accounts import AccountSelection
    from initkeys.sources.cloudtrail import TrailSpec


class ReaderGone(Exception):
    """Standard output's reader went away (``| head``) while a command wrote to it.

    Not an OSError on purpose: click turns a broken pipe into exit 1, which reads as
    "FAIL found"; :func:`main` gives it its own exit code instead."""


class LazyGroup(click.Group):
    """A group whose heavier subcommands are imported only when they run."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as e:
            raise ReaderGone() from e

    lazy: ClassVar[dict[str, str]] = {
        "demo": "initkeys.demo.cli:demo",
        "remediate": "initkeys.remediate.cli:remediate",
        "rollback": "initkeys.remediate.cli:rollback",
        "guard": "initkeys.guard.cli:guard",
        "iac": "initkeys.iac_cli:iac",
        "completion": "initkeys.completion:completion",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        import importlib

        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="initkeys")
def cli() -> None:
    """Find, prove and safely remove AWS IAM access keys created during a console
    user's initial setup (CIS AWS Foundations Benchmark 1.11)."""


@cli.command()
@click.option(
    "--credential-report",
    "report_paths",
    multiple=True,
    metavar="PATH",
    help="Audit a credential report file (CSV, or the AWS CLI's JSON) instead of a live "
    "account. Repeatable; '-' reads standard input.",
)
@click.option("--demo", is_flag=True, help="Audit a built-in demo account (an AWS emulator).")
@demo_state_option
@aws_options
@judgement_options
@failure_options
@report_options(FORMAT_NAMES, "initkeys.sarif")
@click.option(
    "--send-to",
    type=click.Choice(["securityhub"]),
    help="Also import the findings into AWS Security Hub (ASFF) in --region: each "
    "account's into its own hub. Needs 'initkeys policy securityhub'.",
)
@exemption_options
@account_selection_options
@workers_option(
    "--workers",
    "Accounts audited at a time.",
    default=ACCOUNT_WORKERS,
    maximum=MAX_ACCOUNT_WORKERS,
)
@workers_option("--user-workers", "Concurrent live reads of users within one account.")
@click.option(
    "--report-timeout",
    default="5m",
    callback=report_timeout_callback,
    show_default=True,
    help="How long to wait for AWS to generate the credential report (at most 1d).",
)
@click.option(
    "--cloudtrail",
    metavar="SOURCE",
    help="Add CloudTrail evidence (who made each key that did not pass, how, from where): "
    "'lookup' (LookupEvents, the last 90 days), s3://BUCKET/PREFIX (a trail's log files), "
    "or a directory of log files.",
)
def audit(
    report_paths: tuple[str, ...],
    demo: bool,
    demo_state: str | None,
    aws_opts: AwsOptions,
    mode: str,
    setup_window: timedelta,
    fail_on: str,
    allow_errors: bool,
    output_format: str,
    output: str | None,
    output_dir: str | None,
    send_to: str | None,
    exempt_users: tuple[str, ...],
    config_path: str | None,
    selection: AccountSelection,
    workers: int,
    user_workers: int,
    report_timeout: timedelta,
    cloudtrail: str | None,
) -> None:
    """Audit an AWS account, or credential report files, for CIS AWS 1.11.

    Exit codes: 0 nothing at or above --fail-on and nothing unseen, 1 findings at or
    above it, or any ERROR finding or account (unless --allow-errors), 2 bad usage
    or unreadable input, 3 no account could be audited, or --send-to could not
    import every finding. A reader that stops reading (| head) or a closed stdout
    does not change the code.
    """
    from initkeys.app.audit import (
        LiveOptions,
        audit_selected,
        check_account_options,
        check_cloudtrail,
        report_targets,
        send_to_securityhub,
    )

    if demo and (report_paths or aws_opts.profile or aws_opts.endpoint_url or send_to):
        raise InputError(
            "--demo cannot be combined with --credential-report, --profile, --endpoint-url "
            "or --send-to"
        )
    check_account_options(report_paths, demo, selection)
    trail = check_cloudtrail(cloudtrail, report_paths, demo)
    formats = parse_format_list(output_format)
    trail_bucket = bool(trail and trail.kind == "s3")
    check_report_options(report_paths, formats, send_to, aws_opts, trail_bucket=trail_bucket)
    targets = report_targets(formats, output, output_dir)
    check_demo_state(demo, demo_state)
    started = datetime.now(timezone.utc).replace(microsecond=0)
    settings = make_settings(
        mode, setup_window, fail_on, exempt_users, config_path, started, allow_errors=allow_errors
    )

    aws = None
    if demo:  # dated by the demo's clock, which moves on with each command
        demo_run = open_demo_run(demo_state, "audit")
        aws, started = demo_run.aws, demo_run.now
        settings = replace(settings, today=started.date())
    if send_to or trail_bucket or not (report_paths or demo):
        aws = aws_opts.context()
    with ExitStack() as cleanup:
        accounts = audit_selected(
            cleanup,
            settings,
            report_paths=report_paths,
            demo=demo,
            selection=selection,
            live=LiveOptions(workers, user_workers, report_timeout),
            aws=aws,
            trail=trail,
            spinner=_progress,
            bar=_account_progress,
        )
        run = AuditRun(settings=settings, generated_at=started, accounts=tuple(accounts))
        if all(a.error is not None for a in run.accounts):
            raise AccessError("; ".join(a.error or "" for a in run.accounts))
        # Security Hub's region: --region, else the session's, else each partition's home.
        hub_region = aws_opts.region or (aws.region if aws is not None else None)
        for name, path in targets:
            _write_report(run, name, path, hub_region)
        if send_to:
            assert aws is not None
            result = send_to_securityhub(run, aws, hub_region, selection)
            for line in result.lines():
                print(f"initkeys: securityhub: {line}", file=sys.stderr)
            if not result.ok:
                raise AccessError("not every finding reached Security Hub (see the lines above)")
        failing = run.fails()
    sys.exit(1 if failing else 0)


def check_report_options(
    report_paths: tuple[str, ...],
    formats: list[str],
    send_to: str | None,
    aws_opts: AwsOptions,
    *,
    trail_bucket: bool = False,
) -> None:
    """A report file needs no AWS options, except to send its findings, place them,
    or read a trail's bucket."""
    region = aws_opts.region
    if region is not None and ("asff" in formats or send_to):
        check_region_name(region)
    if not report_paths or send_to or trail_bucket:
        return
    if aws_opts.profile or aws_opts.endpoint_url or (region and "asff" not in formats):
        raise InputError(
            "--credential-report reads files: --profile and --endpoint-url go with it only "
            "with --send-to or --cloudtrail s3://…, and --region only with those or "
            "--format asff"
        )


@contextmanager
def _account_progress(total: int, counter: Any) -> Iterator[Any]:
    """A progress bar on stderr (accounts done, failing keys so far, retried calls),
    only on a terminal."""
    if not sys.stderr.isatty():
        yield lambda _result: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    failing = 0
    errors = 0
    with Progress(
        TextColumn("accounts"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("audit", total=total, note="")

        def advance(result: AccountAudit) -> None:
            nonlocal failing, errors
            failing += sum(1 for f in result.findings if f.status is Status.FAIL)
            errors += result.error is not None
            note = f"FAIL keys {failing}"
            if errors:
                note += f", {errors} account(s) in error"
            retries = counter.attempts - counter.total
            if retries:
                note += f", {retries} retried call(s) (throttling or errors)"
            progress.update(task, advance=1, note=note)

        yield advance


@contextmanager
def _progress() -> Iterator[Any]:
    """A spinner on stderr while AWS is read, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console

    from initkeys.audit import Progress

    console = Console(stderr=True)
    with console.status("Starting…") as status:

        def update(p: Progress) -> None:
            text = p.stage if not p.total else f"{p.stage} {p.done}/{p.total}"
            status.update(text)

        yield update


def _write_report(
    run: AuditRun, output_format: str, output: str | None, region: str | None = None
) -> None:
    from initkeys.formats import get_formatter

    formatter: Formatter
    if output_format == "asff":  # the one format that needs to know a region
        from initkeys.formats.asff import AsffFormatter

        formatter = AsffFormatter(region)
    else:
        formatter = get_formatter(output_format)
    if output is None:
        write_to_stdout(run, formatter, output_format)
        return
    try:
        with atomic_file(output) as out:
            formatter.render(run, out, color=False, tool_version=__version__)
    except BrokenPipeError:
        pass  # a FIFO whose reader went away: as for stdout, the audit's verdict stands


@cli.group()
def policy() -> None:
    """Print the least-privilege IAM policy initkeys needs."""


def _policy_trail(cloudtrail: str | None) -> TrailSpec | None:
    if cloudtrail is None:
        return None
    from initkeys.sources.cloudtrail import parse_trail_source

    return parse_trail_source(cloudtrail)


@policy.command("audit")
@trail_policy_options("audit")
def policy_audit(cloudtrail: str | None, partition: str) -> None:
    """The IAM policy (JSON) that a live audit needs."""
    from initkeys.policy import audit_policy, render

    click.echo(render(audit_policy(_policy_trail(cloudtrail), partition)), nl=False)


@policy.command("remediate")
@trail_policy_options("remediate")
def policy_remediate(cloudtrail: str | None, partition: str) -> None:
    """The IAM policy (JSON) that remediation and rollback need."""
    from initkeys.policy import remediate_policy, render

    click.echo(render(remediate_policy(_policy_trail(cloudtrail), partition)), nl=False)


@policy.command("securityhub")
def policy_securityhub() -> None:
    """The IAM policy (JSON) that --send-to securityhub adds to the audit's."""
    from initkeys.policy import render, securityhub_policy

    click.echo(render(securityhub_policy()), nl=False)


@policy.command("guard")
@click.option(
    "--action",
    type=click.Choice(["notify", "deactivate"]),
    default="deactivate",
    show_default=True,
    help="notify: leave out iam:UpdateAccessKey (the guard then only notifies).",
)
def policy_guard(action: str) -> None:
    """The IAM policy (JSON) that the event guard (its Lambda role, or guard simulate) needs."""
    from initkeys.policy import guard_policy, render

    click.echo(render(guard_policy(deactivate=action == "deactivate")), nl=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure becomes one line on stderr and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="initkeys", standalone_mode=False)
    except InitkeysError as e:
        _die(str(e), e.exit_code)
    except click.exceptions.UsageError as e:
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
        _die(e.format_message() + hint, 2)
    except click.exceptions.ClickException as e:
        _die(e.format_message(), e.exit_code)
    except click.exceptions.Abort:
        _die("aborted", 130)
    except KeyboardInterrupt:
        _die("interrupted", 130)
    except (ReaderGone, BrokenPipeError):
        # Outside the audit's report (which handles it): the command's output was cut
        # short, so its result is unknown; no traceback, no further writes to stdout.
        discard_stdout()
        _die("the reader of the output went away (broken pipe) before the command ended", 2)
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        _die(f"{where}{e.strerror or e}", 2)
    except Exception as e:  # a bug: one line by default, the traceback on request
        if _stray_aws_error(e):  # no command caught it: exit 3, and never its raw text
            from initkeys.aws import describe_access_error

            _die(describe_access_error(e, "an AWS call"), 3)
        if os.environ.get("INITKEYS_DEBUG"):
            import traceback

            traceback.print_exc()
            sys.exit(4)  # still "internal error": exit 1 would read as "FAIL found"
        _die(
            f"internal error: {type(e).__name__}: {e} "
            "(set INITKEYS_DEBUG=1 for the traceback, and please report it)",
            4,
        )
    sys.exit(code if isinstance(code, int) else 0)


def _stray_aws_error(e: Exception) -> bool:
    """An error of AWS (access, network, an unreadable answer), not of how we called it."""
    if "botocore" not in sys.modules:
        return False
    from botocore.exceptions import ParamValidationError

    from initkeys.aws import is_access_error

    return is_access_error(e) and not isinstance(e, ParamValidationError)


def _die(message: str, code: int) -> None:
    # One line, and nothing in it (a file name, an AWS message) may drive the terminal.
    first_line = visible(" ".join(message.split()))
    if sys.stderr is not None:  # started with fd 2 closed: print() would pick stdout
        print(f"initkeys: error: {first_line}", file=sys.stderr)
    sys.exit(code)
