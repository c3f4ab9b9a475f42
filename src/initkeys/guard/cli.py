"""``initkeys guard simulate`` and ``initkeys guard package``.

``simulate`` runs the Lambda function's decision locally, on an event file, with
the normal AWS options; like every initkeys command that can change AWS it is a
dry run unless ``--apply``. Failures are InputError (exit 2) or AccessError
(exit 3), which ``initkeys.cli.main`` turns into one line on stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from initkeys.cli_common import confirm_or_exit, refuse_unasked, terminal_safe
from initkeys.cli_options import (
    AwsOptions,
    aws_options,
    enum_option,
    exemption_options,
    setup_window_option,
)
from initkeys.demo.cli import check_demo, demo_context, demo_options
from initkeys.errors import AccessError, InputError
from initkeys.guard.config import GuardAction


@click.group()
def guard() -> None:
    """The event guard: catch a setup key the moment it is made (deploy/guard.yaml)."""


@guard.command()
@click.argument("event_path", metavar="EVENT.json", required=False)
@aws_options
@demo_options
@setup_window_option
@exemption_options
@enum_option(
    "--action",
    GuardAction.NOTIFY,
    "notify: send the message to --topic-arn; deactivate: deactivate the setup key "
    "first (re-verified live; never deleted).",
)
@click.option("--topic-arn", metavar="ARN", help="The SNS topic to notify (with --apply).")
@click.option("--apply", "apply_", is_flag=True, help="Act and notify (default: a dry run).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (pipelines).")
@click.option(
    "--journal",
    metavar="PATH",
    help="With --apply --action deactivate: the remediation journal to append to "
    "(default: initkeys-journal-<account>-<UTC time>.jsonl); 'initkeys rollback' undoes it.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the message the Lambda function notifies and logs.",
)
def simulate(
    event_path: str | None,
    aws_opts: AwsOptions,
    demo: bool,
    demo_state: str | None,
    setup_window: timedelta,
    exempt_users: tuple[str, ...],
    config_path: str | None,
    action: str,
    topic_arn: str | None,
    apply_: bool,
    yes: bool,
    journal: str | None,
    output_format: str,
) -> None:
    """Decide on EVENT.json (an EventBridge "AWS API Call via CloudTrail" event for
    CreateAccessKey or CreateLoginProfile, or a bare CloudTrail record; '-' reads
    standard input) as the guard's Lambda function does, reading the user live.

    With --demo and no EVENT.json: a new console user, new.hire, gets a password and a
    setup key in the demo (unless an earlier command made them), and the guard decides
    on that CreateAccessKey. The demo has no SNS topic: it notifies nobody.

    Exit codes: 0 no setup key, 1 a setup key of a console user was made (acted on
    with --apply), 2 bad usage or an event the guard does not act on, 3 AWS could
    not be read, the notification not sent, or the deactivation failed.
    """
    from initkeys.app.guard import simulate as simulate_event
    from initkeys.config import exemption_rules
    from initkeys.guard.config import GuardConfig, check_topic_arn
    from initkeys.guard.decide import GuardDecision
    from initkeys.guard.event import parse_event
    from initkeys.guard.runner import Guard
    from initkeys.model import Settings

    refuse_unasked(apply_, yes)
    chosen = GuardAction(action)
    if event_path is None and not demo:
        raise click.UsageError("Missing argument 'EVENT.json'.")
    check_demo(aws_opts, demo, demo_state)
    if demo and topic_arn is not None:
        raise InputError("--topic-arn cannot be combined with --demo: the demo has no SNS topic")
    if demo and apply_ and chosen is GuardAction.NOTIFY:
        raise InputError(
            "the demo has no SNS topic to notify: use --apply --action deactivate, or no --apply"
        )
    if topic_arn is not None:
        check_topic_arn(topic_arn)
    elif apply_ and chosen is GuardAction.NOTIFY:
        raise InputError("--apply --action notify needs --topic-arn: there is nothing else to do")
    if journal is not None and chosen is not GuardAction.DEACTIVATE:
        raise InputError("--journal goes with --action deactivate")
    # The event is read before any AWS call: a bad file is a usage error.
    document = read_event(event_path) if event_path is not None else None
    event = parse_event(document) if document is not None else None
    settings = Settings(
        setup_window=setup_window, exemptions=exemption_rules(config_path, exempt_users)
    )
    config = GuardConfig(action=chosen, topic_arn=topic_arn, settings=settings)
    aws, demo_run = demo_context(aws_opts, demo, demo_state, "guard simulate")
    now = datetime.now(timezone.utc)
    if demo_run is not None:
        now = demo_run.now
        if event is None:
            event = parse_event(demo_run.new_hire_event())
            now = event.event_time + timedelta(seconds=5)  # the guard runs right after
    if event is None:  # not reached: without --demo, EVENT.json is required above
        raise click.UsageError("Missing argument 'EVENT.json'.")
    runner = Guard(aws, config)
    user_name = event.user_name

    def confirm(decision: GuardDecision) -> None:
        deactivating = chosen is GuardAction.DEACTIVATE and decision.actions
        what = "Deactivate the setup key(s), then notify" if deactivating else "Notify"
        confirm_or_exit(yes, f"{what} ({terminal_safe(user_name)})?")

    result = simulate_event(runner, event, now, apply=apply_, journal=journal, confirm=confirm)
    decision = result.decision
    if output_format == "json":
        click.echo(json.dumps({**result.document, "message_id": result.message_id}, indent=2))
    else:
        _print_text(result.document, result.message_id, topic_arn, result.journal)
    if result.notify_error is not None:
        raise AccessError(result.notify_error)
    if result.failed:
        raise AccessError("the deactivation failed (see above)")
    sys.exit(1 if decision.alert else 0)


@guard.command()
@click.argument("out", metavar="OUT.zip")
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="An initkeys.toml whose exemptions the Lambda function honours (packaged with it).",
)
def package(out: str, config_path: str | None) -> None:
    """Write the Lambda function's code (the initkeys package, without the command
    line) to OUT.zip, for deploy/guard.yaml's CodeBucket and CodeKey."""
    from initkeys.guard.package import HANDLER, build_package

    digest = build_package(out, config_path)
    click.echo(f"Wrote {out} (sha256 {digest}); handler {HANDLER}.")
    click.echo(
        f"Upload it: aws s3 cp {out} s3://BUCKET/initkeys-guard-{digest[:12]}.zip, then deploy "
        "deploy/guard.yaml with CodeBucket=BUCKET CodeKey=initkeys-guard-"
        f"{digest[:12]}.zip in us-east-1."
    )


def read_event(path: str) -> Any:
    """The JSON document in ``path`` ('-': standard input), read through ``load_json``
    and no further than :data:`~initkeys.guard.event.MAX_EVENT_BYTES` (a path to
    ``/dev/zero`` ends there). A FIFO the user names (``<(…)``) is read: they chose it."""
    from initkeys.guard.event import MAX_EVENT_BYTES, load_event

    try:
        if path == "-":  # bytes when stdin has a buffer (tests may give text)
            data: str | bytes = getattr(sys.stdin, "buffer", sys.stdin).read(MAX_EVENT_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_EVENT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such event file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the event file: {e.strerror or e}") from None
    try:
        return load_event(data)
    except InputError as e:
        raise type(e)(f"{path}: {e}") from None


def _print_text(
    document: dict[str, Any], message_id: str | None, topic_arn: str | None, journal: str | None
) -> None:
    event, actor = document["event"], document["created_by"]
    by = actor["arn"] or actor["name"] or actor["type"]
    lines = [
        f"Event:    {event['name']} {event['id']} at {event['time']}",
        f"          by {by} ({actor['type']})",
        f"User:     {document['user']}"
        + (f" ({document['user_arn']})" if document["user_arn"] else ""),
        f"Decision: {document['decision']} (setup window {document['setup_window_seconds']}s)",
        f"          {document['message']}",
    ]
    for key in document["keys"]:
        gap = key["setup_gap_seconds"]
        state = "active" if key["active"] else "inactive"
        line = (
            f"Key {key['access_key_id']}: {key['status']} {key['reason']}, {state}, "
            f"{'?' if gap is None else gap}s after the user, "
            f"{'used ' + key['last_used'] if key['last_used'] else 'never used'}"
        )
        if key["exemption"]:
            line += f", exempt ({key['exemption']})"
        if key["deactivate"]:
            line += f" -> deactivate: {key['outcome']}"
            if key["outcome_reason"] and key["outcome"] != "applied":  # say why it was not
                line += f" ({key['outcome_reason']})"
        lines.append(line)
    alert = document["decision"] == "setup-key"
    if not alert:
        lines.append("Action:   none (the guard acts only on a setup key of a console user)")
    elif not document["applied"]:
        verb = "deactivate the key, then notify" if document["action"] == "deactivate" else "notify"
        where = topic_arn or "(no --topic-arn: nothing would be sent)"
        lines.append(f"Action:   {verb} {where}")
        lines.append("Dry run: nothing was changed or sent. Run again with --apply to act.")
    else:
        if journal:
            lines.append(f"Journal:  {journal}")
        if message_id:
            lines.append(f"Notified: {topic_arn} (message id {message_id})")
        elif topic_arn:
            lines.append(f"Notified: nothing could be sent to {topic_arn}")
        else:
            lines.append("Notified: nobody (no --topic-arn)")
    for line in lines:
        click.echo(terminal_safe(line))
