"""``initkeys remediate``, ``initkeys rollback`` and ``initkeys policy remediate``.

Plain click commands; ``initkeys.cli`` registers them. Failures are raised as
:class:`~initkeys.errors.InputError` (exit 2) or :class:`~initkeys.errors.AccessError`
(exit 3), which ``initkeys.cli.main`` turns into one line on stderr. boto3 and
the executor are imported inside the commands, so ``initkeys --version`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import click

from initkeys.cli_options import (
    account_selection_options,
    aws_options,
    exemption_options,
    judgement_options,
    role_options,
)
from initkeys.errors import AccessError, InputError
from initkeys.model import Mode, Reason, Status
from initkeys.remediate.plan import AccountPlan

if TYPE_CHECKING:
    from initkeys.audit import TrailFor
    from initkeys.model import Finding
    from initkeys.remediate.execute import Outcome, RemediationResult, Remediator
    from initkeys.remediate.journal import JournalEntry
    from initkeys.remediate.plan import PlannedAction
    from initkeys.remediate.rollback import RefusedLine
    from initkeys.sources.accounts import AccountSelection
    from initkeys.sources.cloudtrail import TrailSpec

# Findings that need nothing and say nothing worth a line in the plan.
_QUIET = frozenset({Status.PASS, Status.NOT_APPLICABLE})


@click.command()
@aws_options
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
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
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
    from initkeys.cli import make_settings
    from initkeys.remediate.plan import plan_remediation

    refuse_unasked(apply_, yes)
    # The same exemptions as the audit's: initkeys.toml, --config, --exempt-user.
    settings = make_settings(
        mode, setup_window, "FAIL", exempt_users, config_path, datetime.now(timezone.utc)
    )
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
        source = (
            f"a live audit (mode {mode}, setup window {_short(setup_window)}"
            f"{_with_trail(cloudtrail)})"
        )
    if selection.many:
        if journal is not None:
            raise InputError("with --org or --accounts, use --journal-dir (one journal an account)")
        _remediate_many(
            settings,
            report,
            selection,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            apply_=apply_,
            delete=delete,
            yes=yes,
            journal_dir=journal_dir,
            plan_out=PlanOutput(plan_out, source),
            trail=trail,
        )
    if journal_dir is not None:
        raise InputError("--journal-dir goes with --org or --accounts; use --journal")
    remediator = _remediator(profile, region, endpoint_url)
    identity = remediator.whoami()
    readers = _trail_readers(trail, remediator.session, endpoint_url)
    findings, plan_mode = _findings_to_plan(
        remediator, identity.account_id, report, settings, readers
    )

    window = report.setup_window if report is not None else settings.setup_window
    planned = plan_remediation(findings, mode=plan_mode, delete=delete, setup_window=window)
    actions = [p for p in planned if p.acts]
    refused = [p for p in planned if p.refused is not None]
    PlanOutput(plan_out, source).write(
        [AccountPlan(identity.account_id, identity.arn, planned)], plan_mode, delete, apply_
    )
    click.echo(f"Account {identity.account_id}, as {terminal_safe(identity.arn)}")
    click.echo(f"Plan from {terminal_safe(source)}:")
    _print_plan(planned)
    _print_counts(planned)
    _print_refused(refused)
    if not actions and not refused:
        click.echo("Nothing to do.")
        sys.exit(0)
    verb = "delete" if delete else "deactivate"
    if delete and actions:
        click.echo("Deleted keys cannot be restored: rollback only reactivates deactivated keys.")
    if not apply_:
        if actions:
            flags = "--apply --delete" if delete else "--apply"
            click.echo(f"Dry run: nothing was changed. Run again with {flags} to {verb} them.")
        sys.exit(1 if refused else 0)
    if journal is not None:
        check_journal(journal)  # before the question: a bad journal stops the run now
    if actions:
        confirm_or_exit(
            yes, f"{verb.capitalize()} {len(actions)} key(s) in account {identity.account_id}?"
        )
    result = _execute(remediator, [*actions, *refused], journal)
    sys.exit(result.exit_code)


@click.command()
@aws_options
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
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
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
    from initkeys.remediate.journal import read_journal
    from initkeys.remediate.rollback import plan_rollback

    refuse_unasked(apply_, yes)
    entries = read_journal(journal, warn=_warn)
    plan = plan_rollback(entries)
    remediator = _remediator(profile, region, endpoint_url)
    identity = remediator.whoami()
    if (
        plan.account_id is not None
        and plan.account_id != identity.account_id
        and selection.role_name
    ):
        # A journal of an --org or --accounts run: reach its account through the role.
        remediator = _remediator_for(remediator, plan.account_id, selection, endpoint_url, profile)
        identity = remediator.whoami()
    if plan.account_id is not None and plan.account_id != identity.account_id:
        raise InputError(
            f"the journal {journal} is about account {plan.account_id}, but the credentials "
            f"sign in to account {identity.account_id} (pass --role-name to reach it)"
        )
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


def confirm_or_exit(yes: bool, question: str) -> None:
    """Ask before changing AWS, unless --yes; a no ends the run (exit 1), nothing changed."""
    if not yes and not click.confirm(question, default=False, err=True):
        click.echo("Not confirmed: nothing was changed.", err=True)
        sys.exit(1)


def refuse_unasked(apply_: bool, yes: bool) -> None:
    """Never change AWS unasked: without a terminal to ask on, --yes is required."""
    if apply_ and not yes and not _stdin_is_terminal():
        raise InputError(
            "--apply needs confirmation, and standard input is not a terminal: review the "
            "plan (run without --apply), then pass --yes"
        )


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


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
            f"--setup-window {_short(setup_window)} conflicts with the audit report "
            f"({_short(report_window)}); with --from-audit the report's verdicts are used"
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
    from initkeys.cli import check_cloudtrail

    return check_cloudtrail(cloudtrail, (), False)


def _trail_readers(
    trail: TrailSpec | None, session: Any, endpoint_url: str | None
) -> TrailFor | None:
    """The CloudTrail reader of each account, as the audit makes them: LookupEvents in the
    account itself, or one bucket read with ``session`` (the signed-in account's), listed
    now so that a wrong or denied bucket stops the run before anything is planned."""
    if trail is None:
        return None
    from initkeys.sources.cloudtrail import trail_readers

    return trail_readers(trail, session=session, endpoint_url=endpoint_url, policy="remediate")


def _with_trail(cloudtrail: str | None) -> str:
    return "" if cloudtrail is None else f", CloudTrail {cloudtrail}"


def _findings_to_plan(
    remediator: Remediator,
    account_id: str,
    report: Any,
    settings: Any,
    trail: TrailFor | None = None,
) -> tuple[tuple[Finding, ...], Mode]:
    """The approved report's findings for the account (with today's exemption rules),
    or a fresh live audit's (with CloudTrail evidence when ``trail``); and the mode
    they were judged in."""
    if report is not None:
        from initkeys.evaluate.verdicts import with_exemption_rules

        audited = report.account(account_id)
        return with_exemption_rules(audited.findings, settings), report.mode
    return tuple(remediator.audit(settings, trail).findings), settings.mode


def _remediate_many(
    settings: Any,
    report: Any,
    selection: AccountSelection,
    *,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    apply_: bool,
    delete: bool,
    yes: bool,
    journal_dir: str | None,
    plan_out: PlanOutput,
    trail: TrailSpec | None = None,
) -> None:
    """Plan every account first, ask once, then act account by account, each with its
    own journal (so rollback and reruns work per account). Exits."""
    import os

    from initkeys.cli import select_targets
    from initkeys.remediate.execute import Remediator
    from initkeys.remediate.plan import plan_remediation
    from initkeys.sources.aws import make_session

    base = make_session(profile, region)
    own = Remediator(base, endpoint_url=endpoint_url, profile=profile)
    readers = _trail_readers(trail, base, endpoint_url)
    targets = select_targets(base, selection, endpoint_url=endpoint_url, profile=profile)
    plans: list[tuple[Remediator, str, list[PlannedAction]]] = []
    documented: list[AccountPlan] = []
    errors: list[str] = []
    refusals = 0
    plan_mode = report.mode if report is not None else settings.mode
    for target in targets:
        try:
            remediator = _remediator_for(own, target.account_id, selection, endpoint_url, profile)
            identity = remediator.whoami()
            findings, mode = _findings_to_plan(
                remediator, identity.account_id, report, settings, readers
            )
        except (AccessError, InputError) as exc:
            errors.append(f"account {target.account_id}: {exc}")
            click.echo(f"Account {target.account_id}: could not be planned: {exc}")
            documented.append(AccountPlan(target.account_id, None, error=str(exc)))
            continue
        window = report.setup_window if report is not None else settings.setup_window
        planned = plan_remediation(findings, mode=mode, delete=delete, setup_window=window)
        documented.append(AccountPlan(identity.account_id, identity.arn, planned))
        click.echo(f"Account {identity.account_id}, as {terminal_safe(identity.arn)}")
        _print_plan(planned)
        _print_counts(planned)
        refused = [p for p in planned if p.refused is not None]
        _print_refused(refused)
        refusals += len(refused)
        plans.append((remediator, identity.account_id, [p for p in planned if p.acts or p.refused]))
    total = sum(p.acts for _, _, actions in plans for p in actions)
    plan_out.write(documented, plan_mode, delete, apply_)
    if not plans:
        raise AccessError("no account could be planned: " + "; ".join(errors))
    verb = "delete" if delete else "deactivate"
    if total == 0 and refusals == 0:
        click.echo("Nothing to do.")
        sys.exit(1 if errors else 0)
    if not apply_:
        if total:
            flags = "--apply --delete" if delete else "--apply"
            click.echo(f"Dry run: nothing was changed. Run again with {flags} to {verb} them.")
        sys.exit(1 if errors or refusals else 0)
    directory = journal_dir or f"initkeys-journals-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    for _, account_id, actions in plans:
        # Every account's journal is checked before the question and before any account
        # is touched: a link or a file others can write stops the whole run.
        if actions:
            check_journal(os.path.join(directory, f"initkeys-journal-{account_id}.jsonl"))
    if total:
        confirm_or_exit(yes, f"{verb.capitalize()} {total} key(s) in {len(plans)} account(s)?")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    worst = 1 if errors else 0
    for remediator, account_id, actions in plans:
        if not actions:
            continue
        path = os.path.join(directory, f"initkeys-journal-{account_id}.jsonl")
        click.echo(f"Account {account_id}:")
        try:
            result = _execute(remediator, actions, path)
        except AccessError as exc:
            click.echo(f"Account {account_id}: {exc}")
            worst = max(worst, 1)
            continue
        worst = max(worst, result.exit_code)
    sys.exit(worst)


@dataclass(frozen=True)
class PlanOutput:
    """Where ``--plan-out`` writes the plan (nowhere without it), and what it came from."""

    path: str | None
    source: str

    def write(self, plans: Sequence[AccountPlan], mode: Mode, delete: bool, apply_: bool) -> None:
        if self.path is None:
            return
        import json

        from initkeys.cli import atomic_file
        from initkeys.remediate.plan import plan_document

        document = plan_document(
            plans,
            generated_at=datetime.now(timezone.utc).replace(microsecond=0),
            source=self.source,
            mode=mode,
            delete=delete,
            apply=apply_,
        )
        with atomic_file(self.path) as out:
            json.dump(document, out, indent=2)
            out.write("\n")


def _remediator_for(
    own: Remediator,
    account_id: str,
    selection: AccountSelection,
    endpoint_url: str | None,
    profile: str | None,
) -> Remediator:
    """``own`` for its own account; for any other, a Remediator through the selection's
    role, which must sign in to that account (a misconfigured role must not act elsewhere)."""
    from initkeys.remediate.execute import Remediator
    from initkeys.sources.accounts import session_for

    me = own.whoami()
    if account_id == me.account_id:
        return own
    session = session_for(
        own.session, me.account_id, me.partition, account_id, selection, endpoint_url
    )
    remediator = Remediator(session, endpoint_url=endpoint_url, profile=profile)
    reached = remediator.whoami().account_id
    if reached != account_id:
        raise AccessError(f"the role's credentials sign in to account {reached}, not {account_id}")
    return remediator


def _remediator(profile: str | None, region: str | None, endpoint_url: str | None) -> Remediator:
    from initkeys.remediate.execute import Remediator
    from initkeys.sources.aws import make_session

    return Remediator(make_session(profile, region), endpoint_url=endpoint_url, profile=profile)


def _execute(
    remediator: Remediator,
    actions: Sequence[PlannedAction],
    journal: str | None,
    *,
    read: Sequence[JournalEntry] | None = None,
) -> RemediationResult:
    """Carry out ``actions``; ``read``: rollback's journal as it was read and planned
    from (the run goes on if others can write it, as long as it has not changed)."""
    from initkeys.remediate.execute import default_journal_path

    path = journal or default_journal_path(remediator.whoami().account_id)
    click.echo(f"Journal: {terminal_safe(path)}")
    result = remediator.execute(
        actions,
        journal=path,
        on_outcome=_print_outcome,
        allow_shared_journal=read is not None,
        journal_read=read,
    )
    _print_result(result)
    if result.exit_code == 3:
        first = next(o.reason for o in result.outcomes if o.attempted)
        raise AccessError(f"nothing could be done: {first} (journal: {path})")
    return result


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


def check_journal(path: str) -> None:
    from initkeys.remediate.journal import check_journal as check

    check(path)


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


def terminal_safe(text: str) -> str:
    """Control characters escaped: a crafted user name must not drive the terminal."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def _iso(moment: datetime | None) -> str | None:
    from initkeys.remediate.journal import iso

    return iso(moment.replace(microsecond=0)) if moment is not None else None


def _short(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0 and seconds:
        return f"{seconds // 60}m"
    return f"{seconds}s"
