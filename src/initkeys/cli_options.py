"""Command-line options shared by ``audit``, ``remediate``, ``rollback`` and ``guard``.

Each group is one decorator, so the commands spell an option the same way and
parse it with the same code. Only click, the model, the duration parser and the
shell completion are imported here: this module is on the start-up path.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from initkeys.completion import complete_profile, format_completer
from initkeys.durations import parse_duration, parse_setup_window
from initkeys.model import Mode

if TYPE_CHECKING:
    from initkeys.aws import AwsContext

_F = TypeVar("_F", bound=Callable[..., Any])


def duration_callback(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as e:
        raise click.BadParameter(str(e), ctx, param) from None


MAX_REPORT_TIMEOUT = timedelta(days=1)
"""AWS makes a credential report in seconds to minutes: a longer wait is a typo, and an
absurd one (years) would hold a CI job forever."""


def report_timeout_callback(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    """``--report-timeout``: a duration, more than 0 s and at most a day (else exit 2)."""
    timeout = duration_callback(ctx, param, value)
    if not timedelta(0) < timeout <= MAX_REPORT_TIMEOUT:
        raise click.BadParameter(
            f"must be more than 0s and at most 1d, not {timeout.total_seconds():g}s", ctx, param
        )
    return timeout


def setup_window_callback(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_setup_window(value)
    except ValueError as e:
        raise click.BadParameter(str(e), ctx, param) from None


def _apply(command: _F, options: list[Callable[[_F], _F]]) -> _F:
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class AwsOptions:
    """--profile, --region and --endpoint-url as given; :meth:`context` opens them (only
    when AWS is called: a credential report file needs no session)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def context(self) -> AwsContext:
        from initkeys.aws import AwsContext

        return AwsContext.open(self.profile, self.region, self.endpoint_url)


def aws_options(command: _F) -> _F:
    """--profile, --region, --endpoint-url (as in the AWS CLI), as ``aws_opts``."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {k: kwargs.pop(k) for k in ("profile", "region", "endpoint_url")}
        return command(*args, aws_opts=AwsOptions(**given), **kwargs)

    return _apply(
        cast(_F, wrapper),
        [
            click.option(
                "--profile",
                help="AWS named profile, as in the AWS CLI.",
                shell_complete=complete_profile,
            ),
            click.option(
                "--region",
                help="AWS region for STS and Security Hub (--format asff, --send-to); IAM is "
                "called in the partition's home region.",
            ),
            click.option(
                "--endpoint-url",
                help="Send AWS calls to this URL (an emulator or a VPC endpoint); "
                "AWS_ENDPOINT_URL works too.",
            ),
        ],
    )


def workers_option(
    name: str, help_text: str, default: int = 8, maximum: int = 64
) -> Callable[[_F], _F]:
    """A thread count from 1 to ``maximum`` (``--workers``, ``--user-workers``)."""
    return click.option(
        name, type=click.IntRange(1, maximum), default=default, show_default=True, help=help_text
    )


def trail_policy_options(command_name: str) -> Callable[[_F], _F]:
    """``--cloudtrail SOURCE`` and ``--partition`` of ``policy audit`` and ``policy remediate``:
    the statements that ``COMMAND_NAME --cloudtrail SOURCE`` adds."""

    def decorate(command: _F) -> _F:
        return _apply(
            command,
            [
                click.option(
                    "--cloudtrail",
                    metavar="SOURCE",
                    help=f"Add what '{command_name} --cloudtrail SOURCE' needs: LookupEvents, "
                    "or reading the bucket.",
                ),
                click.option(
                    "--partition",
                    default="aws",
                    show_default=True,
                    help="The partition in S3 ARNs (aws, aws-cn, aws-us-gov…).",
                ),
            ],
        )

    return decorate


def setup_window_option(command: _F) -> _F:
    """--setup-window alone (the event guard judges in setup mode only)."""
    return click.option(
        "--setup-window",
        default="10m",
        callback=setup_window_callback,
        show_default=True,
        help="A key made this soon after its user is a setup key (90s, 10m, 1h).",
    )(command)


def enum_option(name: str, default: enum.Enum, help_text: str) -> Callable[[_F], _F]:
    """An option whose choices are the values of ``default``'s enum."""
    choices = [member.value for member in type(default)]
    return click.option(
        name, type=click.Choice(choices), default=default.value, show_default=True, help=help_text
    )


def judgement_options(command: _F) -> _F:
    """--mode and --setup-window: how keys are judged."""
    return _apply(
        command,
        [
            enum_option(
                "--mode",
                Mode.SETUP,
                "setup: keys created with the user; cis: the benchmark's literal audit procedure.",
            ),
            setup_window_option,
        ],
    )


def exemption_options(command: _F) -> _F:
    """--exempt-user and --config: keys the organization keeps."""
    return _apply(
        command,
        [
            click.option(
                "--exempt-user",
                "exempt_users",
                multiple=True,
                metavar="PATTERN",
                help="Keep this user's keys: reported as exempt, never counted or "
                "remediated. Repeatable; globs allowed (svc-*, /contractors/*).",
            ),
            click.option(
                "--config",
                "config_path",
                metavar="PATH",
                help="Exemptions file (TOML); default: ./initkeys.toml when it exists.",
            ),
        ],
    )


_ROLE_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--role-name",
        metavar="NAME",
        help="Role to assume in each other account (a path may lead: path/to/Role).",
    ),
    click.option("--external-id", metavar="ID", help="External id for the role, if it needs one."),
    click.option(
        "--role-session-name",
        default="initkeys",
        show_default=True,
        help="Session name for the assumed roles (shows in CloudTrail).",
    ),
]
_SELECTION_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--org", is_flag=True, help="Every ACTIVE account of the organization."),
    click.option(
        "--accounts",
        "account_list",
        metavar="ID,ID|@FILE",
        help="These accounts (comma-separated, or @FILE with one id a line).",
    ),
    click.option(
        "--exclude-accounts",
        "exclude_list",
        metavar="ID,ID|@FILE",
        help="Leave these accounts out (with --org or --accounts).",
    ),
]


def _as_selection(command: _F) -> _F:
    """Hand the command one ``selection`` (an AccountSelection) instead of six options."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from dataclasses import fields

        from initkeys.sources.accounts import AccountSelection

        given = {f.name: kwargs.pop(f.name) for f in fields(AccountSelection) if f.name in kwargs}
        kwargs["selection"] = AccountSelection(**given)
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def account_selection_options(command: _F) -> _F:
    """--org, --accounts, --exclude-accounts and the role options, as ``selection``,
    checked for consistency before the command runs."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        check_selection(kwargs["selection"])
        return command(*args, **kwargs)

    return _apply(_as_selection(cast(_F, checked)), [*_SELECTION_OPTIONS, *_ROLE_OPTIONS])


def check_selection(selection: Any) -> None:
    """The rules among the account-selection options themselves (exit 2 when broken)."""
    from initkeys.errors import InputError

    if selection.org and selection.account_list is not None:
        raise InputError("use --org or --accounts, not both")
    if selection.many and not selection.role_name:
        raise InputError(
            "--org and --accounts need --role-name: the role to assume in each account"
        )
    if selection.exclude_list is not None and not selection.many:
        raise InputError("--exclude-accounts goes with --org or --accounts")


def role_options(command: _F) -> _F:
    """--role-name, --external-id, --role-session-name, as ``selection``."""
    return _apply(_as_selection(command), _ROLE_OPTIONS)


def failure_options(command: _F) -> _F:
    """--fail-on and --allow-errors: when a run exits 1 (docs/verdicts.md, "Exit codes of
    an audit"); ``initkeys iac`` takes them from here."""
    return _apply(
        command,
        [
            click.option(
                "--fail-on",
                type=click.Choice(["FAIL", "WARNING"], case_sensitive=False),
                default="FAIL",
                show_default=True,
                help="Exit 1 when a finding is at or above this status.",
            ),
            click.option(
                "--allow-errors",
                is_flag=True,
                help="Do not fail the run (exit 1) for ERROR findings (or, in an audit, "
                "accounts that could not be audited); the report still lists each of them. "
                "Without it the run fails closed.",
            ),
        ],
    )


def report_options(format_names: tuple[str, ...], example: str) -> Callable[[_F], _F]:
    """--format, --output/-o and --output-dir: which reports, and where (``example``: a
    file --output-dir writes, for the help)."""

    def decorate(command: _F) -> _F:
        return _apply(
            command,
            [
                click.option(
                    "--format",
                    "output_format",
                    default="text",
                    show_default=True,
                    metavar="NAME[,NAME…]",
                    shell_complete=format_completer(format_names),
                    help=f"Output format: {', '.join(format_names)}. Several, comma-separated, "
                    "need --output-dir.",
                ),
                click.option(
                    "--output",
                    "-o",
                    metavar="PATH",
                    help="Write the report to PATH, not stdout ('-': stdout).",
                ),
                click.option(
                    "--output-dir",
                    metavar="DIR",
                    help="Write one file per --format into DIR (created if missing), "
                    f"e.g. DIR/{example}.",
                ),
            ],
        )

    return decorate
