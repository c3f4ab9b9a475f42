"""Read an EventBridge "AWS API Call via CloudTrail" event into a :class:`GuardEvent`.

Pure: a dict in, a record out, or an error sentence. Two kinds of error, because
the Lambda function treats them alike (logged, ignored) but a person needs to
know which it was:

- :class:`MalformedEvent`: not an event initkeys can read (a field is missing or
  has the wrong type);
- :class:`IrrelevantEvent`: a well-formed event the guard has nothing to do
  with (another API call, a call that failed, another account).

Besides the EventBridge envelope, a bare CloudTrail record (what the CloudTrail
console shows, or ``CloudTrailEvent`` from ``LookupEvents``) is accepted, so an
event from the trail can be replayed with ``initkeys guard simulate``.

The fields are read as the audit reads a trail's records
(:func:`initkeys.sources.cloudtrail.read_record`), after checks that say in
one sentence what is wrong. The user acted on is ``requestParameters.userName``,
else ``responseElements.accessKey.userName``, else (neither there at all: the call
acted on its caller) the calling IAM user; any other shape, or names that
disagree, is a :class:`MalformedEvent`, never "self-created". Only the fields of
:class:`GuardEvent` are kept; the rest of the event is never copied anywhere: a
crafted event cannot smuggle text (or a secret) into a notification.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from initkeys.errors import InputError
from initkeys.inputs import BadJson, load_json
from initkeys.model import EventName, acted_on_itself
from initkeys.sources.cloudtrail import IAM_SOURCE, BadRecord, read_record
from initkeys.timeutil import parse_utc

DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_NAMES = (EventName.CREATE_ACCESS_KEY, EventName.CREATE_LOGIN_PROFILE)
MAX_EVENT_BYTES = 1 << 20
"""Largest event file read (1 MiB): EventBridge events are at most 256 KB."""


class MalformedEvent(InputError):
    """Not an EventBridge CloudTrail event (or CloudTrail record) that can be read."""


class IrrelevantEvent(InputError):
    """A readable event the guard does not act on."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made the call: the CloudTrail record's ``userIdentity``."""

    type: str
    """``IAMUser``, ``AssumedRole``, ``Root``, ``FederatedUser``, ``AWSService``…"""
    arn: str | None = None
    name: str | None = None
    """``userName`` (IAM users and root); for a role or federated session, the session's name."""
    account_id: str | None = None

    def describe(self) -> str:
        return self.arn or self.name or self.type


@dataclass(frozen=True, slots=True)
class GuardEvent:
    """One successful ``CreateAccessKey`` or ``CreateLoginProfile`` call, as the guard needs it."""

    event_id: str
    event_name: EventName
    """``CreateAccessKey`` or ``CreateLoginProfile``."""
    event_time: datetime
    account_id: str
    region: str
    user_name: str
    """The user that got the key or the console password."""
    actor: Actor
    access_key_id: str | None = None
    """CreateAccessKey: the new key's id (CloudTrail never records the secret)."""

    @property
    def self_created(self) -> bool:
        """True when an IAM user made a key for itself, in its own account: the
        separate step the control asks for (``docs/verdicts.md``: PASS ``self-created``).
        The rule is the audit's (:func:`~initkeys.model.acted_on_itself`)."""
        return self.event_name == EventName.CREATE_ACCESS_KEY and acted_on_itself(
            self.actor.type,
            self.actor.name,
            self.user_name,
            principal_account=self.actor.account_id,
            account=self.account_id,
        )


def load_event(text: str | bytes) -> Any:
    """An event file's text as a JSON document, through :func:`~initkeys.inputs.load_json`
    (deep nesting, huge numbers, NaN, lone surrogates refused): a MalformedEvent otherwise."""
    if len(text) > MAX_EVENT_BYTES:
        raise MalformedEvent(f"not an event: larger than {MAX_EVENT_BYTES >> 20} MiB")
    try:
        return load_json(text)
    except BadJson as e:
        raise MalformedEvent(f"not an event: {e}") from None


def check_document(document: Any) -> Any:
    """An event someone else decoded (the Lambda runtime), held to what :func:`load_event`
    accepts: written out and read back, so that NaN, huge numbers, lone surrogates and
    deep nesting are a MalformedEvent here rather than an error further on."""
    try:
        text = json.dumps(document, ensure_ascii=True)
    except (RecursionError, ValueError, TypeError):
        # Too deep to write, an int too long to write, or not JSON values at all.
        raise MalformedEvent("not an event: not a JSON document initkeys reads") from None
    return load_event(text)


def parse_event(document: Any) -> GuardEvent:
    """The guard's view of ``document`` (a decoded JSON event).

    Raises :class:`MalformedEvent` or :class:`IrrelevantEvent` with one sentence.
    """
    if not isinstance(document, Mapping):
        raise MalformedEvent(
            f"the event is a JSON {_json_type(document)}, not an object (an EventBridge event)"
        )
    if "detail" in document or "detail-type" in document:
        detail, account, region, event_id = _envelope(document)
    elif "eventName" in document and "eventSource" in document:
        detail = document  # a bare CloudTrail record
        account = _text(detail, "recipientAccountId", "the CloudTrail record")
        region = _text(detail, "awsRegion", "the CloudTrail record")
        event_id = _text(detail, "eventID", "the CloudTrail record")
    else:
        raise MalformedEvent(
            "not an EventBridge event (no 'detail') nor a CloudTrail record (no 'eventName')"
        )
    source = _text(detail, "eventSource", "detail")
    name = _text(detail, "eventName", "detail")
    if source != IAM_SOURCE or name not in EVENT_NAMES:
        raise IrrelevantEvent(
            f"the event is {source} {name}; the guard acts on {IAM_SOURCE} "
            f"{' and '.join(EVENT_NAMES)} only"
        )
    if detail.get("errorCode"):
        raise IrrelevantEvent(
            f"the {name} call failed ({_clip(str(detail['errorCode']))}): nothing was created"
        )
    # Validated here, to say what is wrong in one sentence; the fields are then
    # read as the audit reads them (sources.cloudtrail.read_record).
    when = _text(detail, "eventTime", "detail")
    if parse_utc(when) is None:
        raise MalformedEvent(f"detail.eventTime {_clip(when)!r} is not a time")
    identity = detail.get("userIdentity")
    if not isinstance(identity, Mapping):
        raise MalformedEvent("detail.userIdentity is missing: who made the call is unknown")
    _text(identity, "type", "detail.userIdentity")
    _object(detail.get("requestParameters"), "detail.requestParameters")
    response = _object(detail.get("responseElements"), "detail.responseElements")
    if name == EventName.CREATE_ACCESS_KEY:
        key = _object(response.get("accessKey"), "detail.responseElements.accessKey")
        _text(key, "accessKeyId", "detail.responseElements.accessKey")
    try:
        created = read_record(detail)
    except BadRecord as exc:
        # Never a guess at whose key it is: "self-created" turns on that name.
        raise MalformedEvent(f"the {name} event cannot be read: {exc}") from None
    if created is None:
        raise MalformedEvent(f"the {name} event names no user (requestParameters.userName)")
    account_of_caller = identity.get("accountId")
    return GuardEvent(
        event_id=event_id,
        event_name=created.name,
        event_time=created.time,
        account_id=account,
        region=region,
        user_name=created.target_user,
        actor=Actor(
            type=identity["type"],
            arn=created.principal_arn,
            name=created.principal_name,
            account_id=account_of_caller if isinstance(account_of_caller, str) else None,
        ),
        access_key_id=created.access_key_id,
    )


def _envelope(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, str, str]:
    detail_type = document.get("detail-type")
    if detail_type != DETAIL_TYPE:
        raise IrrelevantEvent(
            f"the event's detail-type is {_clip(str(detail_type))!r}, not {DETAIL_TYPE!r}"
        )
    if document.get("source") != "aws.iam":
        raise IrrelevantEvent(
            f"the event's source is {_clip(str(document.get('source')))!r}, not 'aws.iam'"
        )
    detail = document.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("the event has no 'detail' object")
    account = _text(document, "account", "the event")
    region = _text(document, "region", "the event")
    # EventBridge's id is what its console and logs show; CloudTrail's id is a fallback.
    event_id = document.get("id") or detail.get("eventID")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedEvent("the event has no 'id'")
    return detail, account, region, event_id


def _object(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` as an object; absent (CloudTrail writes ``null``) is an empty one."""
    if isinstance(value, Mapping) or value is None:
        return value or {}
    raise MalformedEvent(f"{where} is a JSON {_json_type(value)}, not an object")


def _text(document: Mapping[str, Any], field: str, where: str) -> str:
    value = document.get(field)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{where} has no {field!r}")
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return type(value).__name__


def _clip(text: str, limit: int = 80) -> str:
    """Event text quoted in an error: short, and on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
