"""The guard as an AWS Lambda function: ``initkeys.guard.lambda_handler.handler``.

``deploy/guard.yaml`` deploys it behind an EventBridge rule for IAM's
``CreateAccessKey`` and ``CreateLoginProfile`` calls. Configured by environment
variables (see :mod:`initkeys.guard.config`). Every invocation writes one JSON
line to the function's log and returns the same document:

- a decision: the guard's message (:mod:`initkeys.guard.message`), with
  ``"result": "decided"``; setup keys are deactivated (``deactivate``) and
  notified;
- ``{"result": "ignored", "reason": …}`` for an event that is malformed (then with
  ``"malformed": true``: not JSON initkeys reads, deep, NaN, names that disagree…),
  about another call or account, or a failed call: no traceback, no retry;
- ``{"result": "error", …}`` when AWS could not be read or the notification not
  sent (then with the whole decision, and what was done); the handler then raises,
  so that the function's ``Errors`` metric shows it and Lambda retries the event.
  A retry after a deactivation finds the key inactive, no longer a FAIL, and does
  nothing: the error line is the record of that deactivation.

The Lambda Python runtime has boto3 but not click or rich: nothing imported from
here needs them (a test imports this module with both blocked).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from typing import Any

from initkeys.aws import AwsContext
from initkeys.errors import AccessError, InitkeysError
from initkeys.guard.config import GuardConfig, config_from_env
from initkeys.guard.event import IrrelevantEvent, MalformedEvent, check_document, parse_event
from initkeys.guard.runner import Guard


class GuardFailed(InitkeysError):
    """The guard could not decide or notify; Lambda retries the event."""


# Built on the first invocation and kept while Lambda keeps the container warm:
# the configuration does not change within one, and boto3 clients are costly to make.
_guard: Guard | None = None


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Decide on one EventBridge event, act as configured, and log what happened."""
    global _guard
    if _guard is None:
        _guard = Guard(AwsContext.open(), lambda_config())
    return handle(_guard, event, datetime.now(timezone.utc))


def lambda_config() -> GuardConfig:
    """The configuration from the environment; Lambda runs in the code's directory,
    so an ``initkeys.toml`` packaged with the code counts."""
    return config_from_env(os.environ, search_dir=os.environ.get("LAMBDA_TASK_ROOT", "."))


def handle(guard: Guard, event: Any, now: datetime) -> dict[str, Any]:
    """The handler's work for a given guard and moment (the tests call it directly)."""
    try:
        parsed = parse_event(check_document(event))
    except MalformedEvent as exc:
        # Not an event AWS sends (forged, or broken): logged with its reason, no retry.
        ignored = {"result": "ignored", "reason": str(exc), "event_id": _event_id(event)}
        return _log({**ignored, "malformed": True})
    except IrrelevantEvent as exc:
        return _log({"result": "ignored", "reason": str(exc), "event_id": _event_id(event)})
    try:
        decision = guard.decide(parsed, now)
        with tempfile.TemporaryDirectory(prefix="initkeys-guard-") as scratch:
            # The journal is the remediation path's evidence file; in Lambda the log
            # line below (with each key's outcome) is the record that stays.
            result = guard.act(decision, journal=os.path.join(scratch, "journal.jsonl"))
    except IrrelevantEvent as exc:  # another account's event
        return _log({"result": "ignored", "reason": str(exc), "event_id": parsed.event_id})
    except AccessError as exc:
        _log({"result": "error", "reason": str(exc), "event_id": parsed.event_id})
        raise GuardFailed(str(exc)) from None
    if result.notify_error is not None:
        _log({"result": "error", "reason": result.notify_error, **result.document})
        raise GuardFailed(result.notify_error)
    # A deactivation that failed is not retried: the notification says so, with why.
    return _log({"result": "decided", **result.document, "message_id": result.message_id})


def _event_id(event: Any) -> str | None:
    """The event's id for the log line, when it is one: short, printable, UTF-8 (a
    lone surrogate could not be logged at all)."""
    value = event.get("id") if isinstance(event, dict) else None
    if not isinstance(value, str) or len(value) > 128 or not value.isprintable():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _log(document: dict[str, Any]) -> dict[str, Any]:
    # One line of JSON: CloudWatch Logs Insights reads its fields directly.
    print(json.dumps(document, ensure_ascii=False, sort_keys=False), file=sys.stdout, flush=True)
    return document
