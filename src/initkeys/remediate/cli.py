"""``initkeys remediate``, ``initkeys rollback`` and ``initkeys policy remediate``.

Plain click commands; ``initkeys.cli`` registers them. Failures are raised as
:class:`~initkeys.errors.InputError` (exit 2) or :class:`~initkeys.errors.AccessError`
(exit 3), which ``initkeys.cli.main`` turns into one line on stderr. boto3 and
the executor are imported inside the commands, so ``initkeys --version`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import click

from initkeys.cli_common import confirm_or_exit, refuse_unasked, terminal_safe
from initkeys.cli_options import (
    AwsOptions,
    account_selection_options,
    aws_options,
    exemption_options,
    judgement_options,
    role_options,
)
from initkeys.demo.cli import check_demo, demo_context, demo_options
from initkeys.errors import AccessError, InputError
from initkeys.humanize import short_duration
from initkeys.model import Mode, Reason, Status

if TYPE_CHECKING:
    from initkeys.app.remediate import PlannedAccount, PlanOutput
    from initkeys.aws import AwsContext
    from initkeys.model import Settings
    from initkeys.remediate.execute import Outcome, RemediationResult, Remediator
    from initkeys.remediate.from_audit import AuditReport
    from initkeys.remediate.journal import JournalEntry
    from initkeys.remediate.plan import PlannedAction
    from initkeys.remediate.rollback import RefusedLine
    from initkeys.sources.accounts import AccountSelection
    from initkeys.sources.cloudtrail import TrailSpec

# Findings that need nothing and say nothing worth a line in the plan.
_QUIET = frozenset({Status.PASS, Status.NOT_APPLICABLE})


@click.command()
@aws_options
@demo_options
@judgement_options
@click.option(
    "--from-audit",
    "from_audit",
    metavar="AUDIT.json",
    help="Act on a report written earlier by 'initkeys audit --format json' (reviewed and "
    "approved) instead of a fresh audit, with its mode and setup window. Only its keys are "
    "candidates; each is re-verified live.",
)
@click.option(
    "--cloudtrail",
    metavar="SOURCE",
    help="Judge the live audit with CloudTrail evidence, as 'audit --cloudtrail SOURCE' does: "
    "a key its own user made (as a separate step) is PASS self-created and left alone. "
    "'lookup', s3://BUCKET/PREFIX, or a directory of log files.",
)
@exemption_options
@click.option("--apply", "apply_", is_flag=True, help="Change AWS (default: a dry run).")
@click.option(
    "--delete",
    is_flag=True,
    help="Delete keys instead of deactivating them. Deletion cannot be undone.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (pipelines).")
@click.option(
    "--journal",
    metavar="PATH",
    help="Append the record of every action to PATH (JSON lines). Default: "
    "initkeys-journal-<account>-<UTC time>.jsonl. Rerun with the same journal to finish an "
    "interrupted run.",
)
@click.option(
    "--plan-out",
    metavar="PATH",
    help="Also write the plan as JSON to PATH (every key, its action or why it is left "
    "alone), before anything is changed: for review, or as the record of an --apply.",
)
@account_selection_options
@click.option(
    "--journal-dir",
    metavar="DIR",
    help="With --org or --accounts: one journal per account, DIR/initkeys-journal-<account>"
    ".jsonl (default DIR: initkeys-journals-<UTC time>). Rerun with the same DIR to finish.",
)
def remediate(
    aws_opts: AwsOptions,
    demo: bool,
    demo_state: str | None,
    mode: str,
    setup_window: timedelta,
    from_audit: str | None,
    cloudtrail: str | None,
    exempt_users: tuple[str, ...],
    config_path: str | None,
    apply_: bool,
    delete: bool,
    yes: bool,
    journal: str | None,
    plan_out: str | None,
    selection: AccountSelection,
    journal_dir: str | None,
) -> None:
    """Deactivate (or, with --delete, delete) unused setup keys, as the audit's
    verdicts allow. Without --apply, only shows the plan.

    An approved report (--from-audit) can only narrow what is done: an action its
    verdict asks for is refused (reported, journaled as skipped) unless the verdict
    follows from the finding's own dates and, right before acting, from the key as
    AWS shows it then, judged with the report's mode and setup window.

    Exit codes: 0 every planned action applied or already done (or nothing to do,
    or a dry run), 1 some were skipped, refused or failed (a dry run with refused
    actions too), 2 bad usage or a bad report or journal, 3 nothing could be done
    (credentials, permissions, network).
    """
    from initkeys.app.audit import make_settings, trail_readers_for
    from initkeys.app.remediate import PlanOutput, plan_account
    from initkeys.remediate.execute import Remediator

    refuse_unasked(apply_, yes)
    check_demo(aws_opts, demo, demo_state, selection)
    # The same exemptions as the audit's: initkeys.toml, --config, --exempt-user.
    settings = make_settings(
        mode, setup_window, "FAIL", exempt_users, config_path, datetime.now(timezone.utc)
    )
    if demo and cloudtrail is not None:
        raise InputError("--cloudtrail cannot be combined with --demo: the demo has no trail")
    trail = _check_cloudtrail(cloudtrail, from_audit)
    report = None
    if from_audit is not None:
        from initkeys.remediate.from_audit import read_audit_report

        # Read the file before any AWS call: a bad file is a usage error.
        report = read_audit_report(from_audit)
        _same_settings(report.mode, report.setup_window, mode, setup_window)

    if report is not None:
        when = f", generated {_iso(report.generated_at)}" if report.generated_at else ""
        source = f"the audit report {from_audit}{when} (mode {report.mode.value})"
    else:
        with_trail = "" if cloudtrail is None else f", CloudTrail {cloudtrail}"
        window = short_duration(setup_window)
        source = f"a live audit (mode {mode}, setup window {window}{with_trail})"
    plan_output = PlanOutput(plan_out, source)
    if selection.many and journal is not None:
        raise InputError("with --org or --accounts, use --journal-dir (one journal an account)")
    if not selection.many and journal_dir is not None:
        raise InputError("--journal-dir goes with --org or --accounts; use --journal")
    aws, _ = demo_context(aws_opts, demo, demo_state, "remediate", selection)
    if selection.many:
        sys.exit(
            _remediate_many(
                aws,
                settings,
                report,
                selection,
                apply_,
                delete,
                yes,
                journal_dir,
                plan_output,
                trail,
            )
        )
    remediator = Remediator(aws)
    identity = remediator.whoami()
    readers = trail_readers_for(trail, aws, policy="remediate")
    planned = plan_account(remediator, report, settings, delete=delete, trail=readers).plan
    plan_mode = report.mode if report is not None else settings.mode
    actions = [p for p in planned.planned if p.acts]
    refused = [p for p in planned.planned if p.refused is not None]
    plan_output.write([planned], plan_mode, delete, apply_)
    click.echo(f"Account {identity.account_id}, as {terminal_safe(identity.arn)}")
    click.echo(f"Plan from {terminal_safe(source)}:")
    _print_plan(planned.planned)
    _print_counts(planned.planned)
    _print_refused(refused)
    if not actions and not refused:
        click.echo("Nothing to do.")
        sys.exit(0)
    verb = "delete" if delete else "deactivate"
    if delete and actions:
        click.echo("Deleted keys cannot be restored: rollback only reactivates deactivated keys.")
    if not apply_:
        _dry_run_note(len(actions), delete)
        sys.exit(1 if refused else 0)
    if journal is not None:
        from initkeys.remediate.journal import check_journal

        check_journal(journal)  # before the question: a bad journal stops the run now
    if actions:
        confirm_or_exit(
            yes, f"{verb.capitalize()} {len(actions)} key(s) in account {identity.account_id}?"
        )
    result = _execute(remediator, [*actions, *refused], journal)
    sys.exit(result.exit_code)


@click.command()
@aws_options
@demo_options
@click.option(
    "--journal",
    metavar="PATH",
    required=True,
    help="The journal of the remediation to undo; reactivations are appended to it.",
)
@click.option("--apply", "apply_", is_flag=True, help="Change AWS (default: a dry run).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (pipelines).")
@role_options
def rollback(
    aws_opts: AwsOptions,
    demo: bool,
    demo_state: str | None,
    journal: str,
    apply_: bool,
    yes: bool,
    selection: AccountSelection,
) -> None:
    """Reactivate every key that a remediation journal deactivated, if it still
    exists and is still inactive. Deleted keys cannot be restored; they are listed.

    Only the recorded ``before`` state is restored: a key the journal says was not
    Active before is never activated, and an applied line counts only after its
    planned line (same run, key, action). Every line refused is listed with why.

    Exit codes: 0 everything restored (or a dry run), 1 some keys could not be
    reactivated or were deleted, or the journal has refused lines (a dry run too),
    2 bad usage or a file that is not a journal, 3 nothing could be done.
    """
    from initkeys.app.remediate import read_rollback, rollback_remediator

    refuse_unasked(apply_, yes)
    check_demo(aws_opts, demo, demo_state, selection)
    entries, plan = read_rollback(journal, warn=_warn)
    aws, _ = demo_context(aws_opts, demo, demo_state, "rollback", selection)
    remediator, identity = rollback_remediator(aws, journal, plan, selection)
    click.echo(f"Account {identity.account_id}, as {terminal_safe(identity.arn)}")
    click.echo(f"Rollback of {terminal_safe(journal)}:")
    _print_plan(plan.reactivate)
    _print_undoable(plan.deleted, plan.maybe_deleted)
    _print_refused_lines(plan.refused)
    lost = 1 if plan.undoable else 0
    suspect = 1 if plan.refused else 0
    if not plan.reactivate:
        click.echo("No deactivated key to reactivate.")
        sys.exit(max(lost, suspect) if apply_ else suspect)
    if not apply_:
        click.echo("Dry run: nothing was changed. Run again with --apply to reactivate them.")
        sys.exit(suspect)
    confirm_or_exit(
        yes, f"Reactivate {len(plan.reactivate)} key(s) in account {identity.account_id}?"
    )
    # The journal was read (and any shared write warned about) above; rollback goes on.
    result = _execute(remediator, plan.reactivate, journal, read=entries)
    sys.exit(max(result.exit_code, lost, suspect))


# -- helpers ---------------------------------------------------------------------------


def _same_settings(
    report_mode: Mode, report_window: timedelta, mode: str, setup_window: timedelta
) -> None:
    """With --from-audit the report's verdicts stand; a conflicting option is a mistake."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    if ctx.get_parameter_source("mode") is not ParameterSource.DEFAULT and mode != (
        report_mode.value
    ):
        raise InputError(
            f"--mode {mode} conflicts with the audit report (mode {report_mode.value}); "
            "with --from-audit the report's verdicts are used"
        )
    if (
        ctx.get_parameter_source("setup_window") is not ParameterSource.DEFAULT
        and setup_window != report_window
    ):
        raise InputError(
            f"--setup-window {short_duration(setup_window)} conflicts with the audit report "
            f"({short_duration(report_window)}); with --from-audit the report's verdicts are used"
        )


def _check_cloudtrail(cloudtrail: str | None, from_audit: str | None) -> TrailSpec | None:
    """``--cloudtrail``, parsed before any AWS call; it judges a live audit only."""
    if cloudtrail is None:
        return None
    if from_audit is not None:
        raise InputError(
            "--cloudtrail goes with a live audit; with --from-audit the report's verdicts are "
            "used (make the report with 'initkeys audit --cloudtrail SOURCE' to have them "
            "judged with the evidence)"
        )
    from initkeys.app.audit import check_cloudtrail

    return check_cloudtrail(cloudtrail, (), False)


def _remediate_many(
    aws: AwsContext,
    settings: Settings,
    report: AuditReport | None,
    selection: AccountSelection,
    apply_: bool,
    delete: bool,
    yes: bool,
    journal_dir: str | None,
    plan_out: PlanOutput,
    trail: TrailSpec | None = None,
) -> int:
    """Plan every account first, ask once, then act account by account, each with its
    own journal (so rollback and reruns work per account). Returns the exit code."""
    import os

    from initkeys.app.audit import trail_readers_for
    from initkeys.app.remediate import account_journal, journal_directory, plan_accounts
    from initkeys.remediate.journal import check_journal

    readers = trail_readers_for(trail, aws, policy="remediate")
    accounts = plan_accounts(aws, selection, report, settings, delete=delete, trail=readers)
    errors = [a.plan for a in accounts if a.remediator is None]
    planned: list[PlannedAccount] = [a for a in accounts if a.remediator is not None]
    refusals = 0
    for account in accounts:
        plan = account.plan
        if account.remediator is None:
            click.echo(f"Account {plan.account_id}: could not be planned: {plan.error}")
            continue
        click.echo(f"Account {plan.account_id}, as {terminal_safe(plan.principal or '')}")
        _print_plan(plan.planned)
        _print_counts(plan.planned)
        refused = [p for p in plan.planned if p.refused is not None]
        _print_refused(refused)
        refusals += len(refused)
    total = sum(p.acts for account in planned for p in account.work)
    plan_mode = report.mode if report is not None else settings.mode
    plan_out.write([a.plan for a in accounts], plan_mode, delete, apply_)
    if not planned:
        reasons = "; ".join(f"account {e.account_id}: {e.error}" for e in errors)
        raise AccessError("no account could be planned: " + reasons)
    verb = "delete" if delete else "deactivate"
    if total == 0 and refusals == 0:
        click.echo("Nothing to do.")
        return 1 if errors else 0
    if not apply_:
        _dry_run_note(total, delete)
        return 1 if errors or refusals else 0
    directory = journal_directory(journal_dir)
    for account in planned:
        # Every account's journal is checked before the question and before any account
        # is touched: a link or a file others can write stops the whole run.
        if account.work:
            check_journal(account_journal(directory, account.plan.account_id))
    if total:
        confirm_or_exit(yes, f"{verb.capitalize()} {total} key(s) in {len(planned)} account(s)?")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    worst = 1 if errors else 0
    for account in planned:
        assert account.remediator is not None
        account_id = account.plan.account_id
        if not account.work:
            continue
        click.echo(f"Account {account_id}:")
        try:
            result = _execute(
                account.remediator, account.work, account_journal(directory, account_id)
            )
        except AccessError as exc:
            click.echo(f"Account {account_id}: {exc}")
            worst = max(worst, 1)
            continue
        worst = max(worst, result.exit_code)
    return worst


def _execute(
    remediator: Remediator,
    actions: Sequence[PlannedAction],
    journal: str | None,
    *,
    read: Sequence[JournalEntry] | None = None,
) -> RemediationResult:
    """Carry out ``actions``, printing each outcome; AccessError when nothing could be done."""
    from initkeys.app.remediate import execute_actions, nothing_done
    from initkeys.remediate.execute import default_journal_path

    path = journal or default_journal_path(remediator.whoami().account_id)
    click.echo(f"Journal: {terminal_safe(path)}")
    result = execute_actions(remediator, actions, path, on_outcome=_print_outcome, read=read)
    _print_result(result)
    error = nothing_done(result)
    if error is not None:
        raise error
    return result


def _dry_run_note(acting: int, delete: bool) -> None:
    if acting:
        flags, verb = ("--apply --delete", "delete") if delete else ("--apply", "deactivate")
        click.echo(f"Dry run: nothing was changed. Run again with {flags} to {verb} them.")


def _print_plan(planned: Sequence[PlannedAction]) -> None:
    # Keys CloudTrail spared are shown too: the reviewer sees why they are left alone.
    shown = [
        p
        for p in planned
        if p.acts
        or p.refused is not None
        or p.exempt
        or p.status not in _QUIET
        or p.reason is Reason.SELF_CREATED
    ]
    if not shown:
        return
    rows = [("USER", "ACCESS KEY ID", "VERDICT", "ACTION", "WHY")]
    for p in shown:
        key = p.access_key_id or (f"slot {p.key_slot}" if p.key_slot else "-")
        action = p.action.value if p.acts and p.action is not None else "nothing"
        if p.refused is not None:
            action = "refused"
        rows.append(
            (
                terminal_safe(p.user),
                terminal_safe(key),
                p.verdict or "-",
                action,
                terminal_safe(p.why),
            )
        )
    _print_table(rows)


def _print_counts(planned: Sequence[PlannedAction]) -> None:
    from initkeys.remediate.plan import Action

    acting = [p.action for p in planned if p.acts]
    parts = [f"{acting.count(a)} to {a.value}" for a in Action if a in acting]
    parts.append(f"{len(planned) - len(acting)} key(s) left alone")
    click.echo(", ".join(parts) + ".")


def _warn(message: str) -> None:
    click.echo(f"initkeys: warning: {terminal_safe(message)}", err=True)


def _print_refused(refused: Sequence[PlannedAction]) -> None:
    if refused:
        click.echo(
            f"{len(refused)} action(s) the findings ask for are refused: their verdict is not "
            "what initkeys decides from the findings' own dates (see WHY above)."
        )


def _print_refused_lines(refused: Sequence[RefusedLine]) -> None:
    if not refused:
        return
    click.echo(f"Refused journal lines ({len(refused)}), not acted on:")
    rows = [("LINE", "RUN", "KEY", "ACTION", "PHASE", "WHY")]
    rows += [
        (
            str(r.line),
            terminal_safe(r.entry.run_id[:8]),
            terminal_safe(r.entry.access_key_id),
            r.entry.action.value,
            r.entry.phase.value,
            r.why,
        )
        for r in refused
    ]
    _print_table(rows)


def _print_undoable(deleted: Sequence[JournalEntry], maybe: Sequence[JournalEntry]) -> None:
    if not deleted and not maybe:
        return
    click.echo("Deleted keys cannot be restored (AWS never shows a secret again); their users")
    click.echo("must create new keys if they need them:")
    rows = [("USER", "ACCESS KEY ID", "DELETED")]
    rows += [(terminal_safe(e.user), e.access_key_id, _iso(e.time) or "") for e in deleted]
    rows += [
        (terminal_safe(e.user), e.access_key_id, "maybe (the run was interrupted)") for e in maybe
    ]
    _print_table(rows)


def _print_outcome(outcome: Outcome) -> None:
    p = outcome.planned
    action = p.action.value if p.action is not None else "-"
    line = f"  {outcome.phase.value:<13} {action:<10} {terminal_safe(p.user)} {p.access_key_id}"
    if outcome.reason != p.why:  # an applied action's why is in the plan above
        line += f": {terminal_safe(outcome.reason)}"
    click.echo(line)


def _print_result(result: RemediationResult) -> None:
    from initkeys.remediate.journal import Phase

    counts = ", ".join(
        f"{result.count(phase)} {phase.value.replace('-', ' ')}"
        for phase in (Phase.APPLIED, Phase.ALREADY_DONE, Phase.SKIPPED, Phase.FAILED)
    )
    click.echo(f"Done: {counts}.")
    if result.stopped is not None:
        click.echo(f"The run stopped early: {terminal_safe(result.stopped)}", err=True)
    if result.exit_code != 0:
        path = terminal_safe(result.journal_path)
        click.echo(f"Not everything was done: see the lines above and the journal {path}.")


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths[:-1], strict=True)] + [row[-1]]
        click.echo(("  " + "  ".join(cells)).rstrip())


def _iso(moment: datetime | None) -> str | None:
    from initkeys.timeutil import format_utc

    return format_utc(moment, "seconds")
