"""Audit one account, many accounts, report files or the demo: settings in, results out.

No printing and no exit codes here: failures are raised as
:class:`~initkeys.errors.InputError` (bad input) or :class:`~initkeys.errors.AccessError`
(AWS could not be read); the command line renders results and maps them to exit codes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from initkeys.aws import ApiCallCounter, AwsContext
from initkeys.errors import AccessError, InputError
from initkeys.model import AccountAudit, AuditRun, Mode, Settings, Status
from initkeys.sources.accounts import AccountSelection, TargetAccount

if TYPE_CHECKING:
    from initkeys.audit import ProgressCallback, TrailFor
    from initkeys.sinks.securityhub import SendResult
    from initkeys.sources.cloudtrail import TrailSpec
    from initkeys.spill import FindingSpill

# Accounts audited at a time (--workers). An account is mostly waiting (network, the
# credential report), so time falls with workers: at 60 ms a call, 8 -> 32 was 4.1x on
# 1,000 accounts (benchmarks/org_audit.py, RESULTS.md). 32 uses a fifth of the STS rate
# modelled for the one principal that assumes every role, ~85 open files and ~100 MiB;
# 128 (~17 AssumeRole/s, ~275 files) is as far as that rate allows: split past it.
ACCOUNT_WORKERS = 32
MAX_ACCOUNT_WORKERS = 128

# The UI's hooks: a spinner around one account's audit, a bar over many accounts.
Spinner = Callable[[], AbstractContextManager["ProgressCallback | None"]]
AccountBar = Callable[[int, ApiCallCounter], AbstractContextManager[Callable[[AccountAudit], None]]]


def audit_account(
    aws: AwsContext | Any = None,
    *,
    settings: Settings | None = None,
    max_workers: int = 8,
    report_timeout: float = 300.0,
    progress: ProgressCallback | None = None,
    trail: TrailFor | None = None,
) -> AccountAudit:
    """Audit the account that ``aws`` (an :class:`~initkeys.aws.AwsContext`, whose counter
    counts the calls and whose retry policy retries them, or a boto3 Session) signs in to;
    with ``trail`` (see ``sources.cloudtrail.trail_readers``), add CloudTrail evidence.

    Raises :class:`initkeys.errors.AccessError` when the account cannot be
    audited at all (credentials, permissions, network).
    """
    from initkeys.audit import audit_live_account
    from initkeys.sources.aws import LiveAccount

    return audit_live_account(
        LiveAccount(AwsContext.from_session(aws), max_workers=max_workers),
        settings=settings or Settings(),
        max_workers=max_workers,
        report_timeout=report_timeout,
        progress=progress,
        trail=trail,
    )


def audit_accounts(
    aws: AwsContext | Any,
    targets: Sequence[TargetAccount],
    selection: AccountSelection,
    *,
    settings: Settings | None = None,
    workers: int = ACCOUNT_WORKERS,
    user_workers: int = 8,
    report_timeout: float = 300.0,
    spill: FindingSpill | None = None,
    trail: TrailFor | None = None,
) -> Iterator[AccountAudit]:
    """Audit several accounts, ``workers`` at a time; results come in ``targets`` order.

    The account ``aws`` signs in to is audited with its own credentials; every
    other one through ``selection.role_name``. An account that cannot be audited
    (the role cannot be assumed, a call is denied) becomes an ERROR result and the
    others go on. With ``spill``, each account's findings are moved to disk as soon
    as it is done, so memory does not grow with the number of accounts. With
    ``trail``, each account gets CloudTrail evidence (LookupEvents through its own
    context, or one shared bucket or directory). ``aws`` as for :func:`audit_account`.
    """
    from initkeys.audit import audit_live_account
    from initkeys.sources.accounts import context_for
    from initkeys.sources.aws import LiveAccount

    aws = AwsContext.from_session(aws)
    settings = settings or Settings()
    own = LiveAccount(aws, max_workers=user_workers)
    me = own.whoami()

    def failed(target: TargetAccount, error: str) -> AccountAudit:
        return AccountAudit(
            account_id=target.account_id,
            partition=me.partition,
            source="aws",
            report_generated_at=None,
            error=error,
            account_name=target.name,
        )

    def one(target: TargetAccount) -> AccountAudit:
        try:
            if target.account_id == me.account_id:
                account = own  # already signed in: no second identity call
            else:
                # The assumed role's identity comes from AssumeRole: no GetCallerIdentity.
                reached = context_for(
                    aws, me.account_id, me.partition, target.account_id, selection
                )
                account = LiveAccount(reached, max_workers=user_workers)
            result = audit_live_account(
                account,
                settings=settings,
                max_workers=user_workers,
                report_timeout=report_timeout,
                trail=trail,
            )
        except AccessError as exc:
            return failed(target, str(exc))
        if result.account_id != target.account_id:
            return failed(
                target,
                f"the role's credentials sign in to account {result.account_id}, "
                f"not {target.account_id}",
            )
        if spill is not None:
            return replace(result, account_name=target.name, findings=spill.keep(result.findings))
        return replace(result, account_name=target.name)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        yield from pool.map(one, targets)


# -- the command line's audit, as functions ---------------------------------------------


@dataclass(frozen=True)
class LiveOptions:
    """How much of AWS a live audit uses at a time, and how long it waits for the report."""

    workers: int = ACCOUNT_WORKERS
    user_workers: int = 8
    report_timeout: timedelta = timedelta(minutes=5)


def make_settings(
    mode: str,
    setup_window: timedelta,
    fail_on: str,
    exempt_users: tuple[str, ...],
    config_path: str | None,
    now: datetime,
    *,
    allow_errors: bool = False,
) -> Settings:
    """Settings from the command line; exemptions from --exempt-user and the config file."""
    from initkeys.config import exemption_rules

    return Settings(
        mode=Mode(mode),
        setup_window=setup_window,
        fail_on=Status(fail_on.upper()),
        allow_errors=allow_errors,
        exemptions=exemption_rules(config_path, exempt_users),
        today=now.date(),
    )


def check_cloudtrail(
    cloudtrail: str | None, report_paths: tuple[str, ...], demo: bool
) -> TrailSpec | None:
    """``--cloudtrail``, parsed and checked against what is audited (InputError if it cannot be)."""
    if cloudtrail is None:
        return None
    from initkeys.sources.cloudtrail import LOOKUP_NEEDS_ACCOUNT, parse_trail_source

    if demo:
        raise InputError("--cloudtrail cannot be combined with --demo: the demo has no trail")
    trail = parse_trail_source(cloudtrail)
    if report_paths and trail.kind == "lookup":
        raise InputError(LOOKUP_NEEDS_ACCOUNT)
    return trail


def check_account_options(
    report_paths: tuple[str, ...], demo: bool, selection: AccountSelection
) -> None:
    if selection.many and (report_paths or demo):
        raise InputError(
            "--org and --accounts audit live accounts; they cannot be combined "
            "with --credential-report or --demo"
        )


def report_targets(
    formats: list[str],
    output: str | None,
    output_dir: str | None,
    file_name: Callable[[str], str] | None = None,
) -> list[tuple[str, str | None]]:
    """(format, path or None for stdout) per report; checked before any AWS call.
    ``file_name``: a format's file under ``output_dir`` (default: the audit's names)."""
    if file_name is None:
        from initkeys.formats import file_name as audit_file_name

        file_name = audit_file_name

    if output == "-":  # as for most Unix tools: standard output, not a file named "-"
        output = None
    if output is not None and output_dir is not None:
        raise InputError("--output and --output-dir cannot be combined")
    if output_dir is None:
        if len(formats) > 1:
            raise InputError(f"{len(formats)} formats need --output-dir DIR (one file per format)")
        return [(formats[0], output)]
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create --output-dir {output_dir}: {e.strerror}") from None
    if not os.path.isdir(output_dir):
        raise InputError(f"--output-dir {output_dir} is not a directory")
    return [(name, os.path.join(output_dir, file_name(name))) for name in formats]


def trail_readers_for(
    trail: TrailSpec | None, aws: AwsContext | None, policy: str = "audit"
) -> TrailFor | None:
    """The CloudTrail reader of each audited account: LookupEvents in the account itself,
    or one bucket (read with ``aws``, the signed-in account's) or directory, listed now
    so that a wrong or denied bucket stops the run before anything is audited."""
    if trail is None:
        return None
    from initkeys.sources.cloudtrail import trail_readers

    return trail_readers(trail, aws=aws, policy=policy)


def select_targets(aws: AwsContext, selection: AccountSelection) -> tuple[TargetAccount, ...]:
    """The accounts --org or --accounts name, less --exclude-accounts."""
    from initkeys.sources.accounts import organization_accounts, parse_account_ids

    excluded: set[str] = set()
    if selection.exclude_list:
        excluded = set(parse_account_ids(selection.exclude_list, "--exclude-accounts"))
    if selection.org:
        targets = organization_accounts(aws)
    else:
        assert selection.account_list is not None
        ids = parse_account_ids(selection.account_list, "--accounts")
        targets = tuple(TargetAccount(i) for i in ids)
    targets = tuple(t for t in targets if t.account_id not in excluded)
    if not targets:
        raise InputError("no accounts left after --exclude-accounts")
    return targets


def audit_selected(
    cleanup: ExitStack,
    settings: Settings,
    *,
    report_paths: tuple[str, ...] = (),
    demo: bool = False,
    selection: AccountSelection | None = None,
    live: LiveOptions | None = None,
    aws: AwsContext | None = None,
    trail: TrailSpec | None = None,
    spinner: Spinner | None = None,
    bar: AccountBar | None = None,
) -> list[AccountAudit]:
    """Audit what the options name: report files, the demo, several accounts, or the one
    ``aws`` signs in to. Several accounts (or report files) keep their findings on disk
    until the report is written; ``cleanup`` removes them. ``spinner`` and ``bar`` are
    the UI's progress hooks (none: silent)."""
    from initkeys.spill import FindingSpill

    selection = selection or AccountSelection()
    live = live or LiveOptions()
    if report_paths:
        return audit_files(cleanup, settings, report_paths, trail_readers_for(trail, aws))
    if demo:
        return [audit_demo(settings, live.user_workers, spinner, aws)]
    assert aws is not None, "a live audit needs an AWS context"
    if selection.many:
        spill = cleanup.enter_context(FindingSpill())
        return audit_many(aws, selection, settings, live, spill, trail, bar)
    return [audit_live(aws, settings, live, trail, spinner)]


def audit_files(
    cleanup: ExitStack, settings: Settings, paths: tuple[str, ...], trail: TrailFor | None
) -> list[AccountAudit]:
    """Credential report files; with several, findings wait on disk (``cleanup``)."""
    from initkeys.audit import audit_report_file
    from initkeys.spill import FindingSpill

    reader = trail(None) if trail is not None else None
    if len(paths) == 1:
        return [audit_report_file(paths[0], settings, reader)]
    spill = cleanup.enter_context(FindingSpill())
    if reader is None and not settings.exemptions:
        from initkeys.split_report import audit_files_apart

        # Big files on the light path: a process per file (None: small, or no fork).
        apart = audit_files_apart(paths, settings, spill)
        if apart is not None:
            return apart
    audits = (audit_report_file(path, settings, reader) for path in paths)
    return [replace(a, findings=spill.keep(a.findings)) for a in audits]


def audit_live(
    aws: AwsContext,
    settings: Settings,
    live: LiveOptions,
    trail: TrailSpec | None = None,
    spinner: Spinner | None = None,
) -> AccountAudit:
    """The one account ``aws`` signs in to; an AccessError ends the run (exit 3)."""
    readers = trail_readers_for(trail, aws)
    with _spinning(spinner) as progress:
        return audit_account(
            aws,
            settings=settings,
            max_workers=live.user_workers,
            report_timeout=live.report_timeout.total_seconds(),
            progress=progress,
            trail=readers,
        )


def audit_many(
    aws: AwsContext,
    selection: AccountSelection,
    settings: Settings,
    live: LiveOptions,
    spill: FindingSpill | None = None,
    trail: TrailSpec | None = None,
    bar: AccountBar | None = None,
) -> list[AccountAudit]:
    """The accounts ``selection`` names; one that cannot be audited is an ERROR result."""
    readers = trail_readers_for(trail, aws)
    targets = select_targets(aws, selection)
    counter = ApiCallCounter()  # its retries (attempts beyond calls) show throttling
    results: list[AccountAudit] = []
    with ExitStack() as stack:
        advance = stack.enter_context(bar(len(targets), counter)) if bar is not None else None
        for result in audit_accounts(
            aws.counting(counter),
            targets,
            selection,
            settings=settings,
            workers=live.workers,
            user_workers=live.user_workers,
            report_timeout=live.report_timeout.total_seconds(),
            spill=spill,
            trail=readers,
        ):
            results.append(result)
            if advance is not None:
                advance(result)
    return results


def audit_demo(
    settings: Settings,
    workers: int,
    spinner: Spinner | None = None,
    demo: AwsContext | None = None,
) -> AccountAudit:
    """The built-in demo account: through ``demo`` (the context of an open demo, see
    :func:`initkeys.demo.open_demo`), else in an emulator started and stopped here."""
    from initkeys.demo import run_demo

    with ExitStack() as stack:
        progress = stack.enter_context(_spinning(spinner))
        aws = demo if demo is not None else stack.enter_context(run_demo())
        return audit_account(
            aws,
            settings=settings,
            max_workers=workers,
            progress=progress,
        )


def send_to_securityhub(
    run: AuditRun, aws: AwsContext, region: str | None, selection: AccountSelection
) -> SendResult:
    """Import the run's findings, each account's into its own hub (see the result's
    ``ok`` and ``lines()``)."""
    from initkeys._version import __version__
    from initkeys.formats.asff import account_findings
    from initkeys.sinks.securityhub import send_findings
    from initkeys.timeutil import format_utc

    return send_findings(
        aws,
        account_findings(run, region=region, tool_version=__version__),
        updated_at=format_utc(run.generated_at) or "",
        selection=selection,
    )


def _spinning(spinner: Spinner | None) -> AbstractContextManager[ProgressCallback | None]:
    from contextlib import nullcontext

    return spinner() if spinner is not None else nullcontext(None)
