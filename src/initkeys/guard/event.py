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

Only the fields below are read. The rest of the event is never copied anywhere:
a crafted event cannot smuggle text (or a secret) into a notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from initkeys.errors import InputError
from initkeys.model import acted_on_itself

DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_SOURCE = "iam.amazonaws.com"
CREATE_ACCESS_KEY = "CreateAccessKey"
CREATE_LOGIN_PROFILE = "CreateLoginProfile"
EVENT_NAMES = (CREATE_ACCESS_KEY, CREATE_LOGIN_PROFILE)


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
    """``userName`` (IAM users and root); for a role session, the session's name."""
    account_id: str | None = None

    def describe(self) -> str:
        return self.arn or self.name or self.type


@dataclass(frozen=True, slots=True)
class GuardEvent:
    """One successful ``CreateAccessKey`` or ``CreateLoginProfile`` call, as the guard needs it."""

    event_id: str
    event_name: str
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
        separate step the control asks for (``verdicts.md``: PASS ``self-created``).
        IAM user names are unique regardless of case, so they are compared so."""
        return (
            self.event_name == CREATE_ACCESS_KEY
            and acted_on_itself(self.actor.type, self.actor.name, self.user_name)
            and self.actor.account_id in (None, self.account_id)
        )


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
    if source != EVENT_SOURCE or name not in EVENT_NAMES:
        raise IrrelevantEvent(
            f"the event is {source} {name}; the guard acts on iam.amazonaws.com "
            f"{' and '.join(EVENT_NAMES)} only"
        )
    if detail.get("errorCode"):
        raise IrrelevantEvent(
            f"the {name} call failed ({_clip(str(detail['errorCode']))}): nothing was created"
        )
    when = _time(_text(detail, "eventTime", "detail"))
    actor = _actor(detail.get("userIdentity"))
    request = _object(detail.get("requestParameters"), "detail.requestParameters")
    response = _object(detail.get("responseElements"), "detail.responseElements")
    key_id: str | None = None
    made_for: Any = None
    if name == CREATE_ACCESS_KEY:
        key = _object(response.get("accessKey"), "detail.responseElements.accessKey")
        key_id = _text(key, "accessKeyId", "detail.responseElements.accessKey")
        made_for = key.get("userName")
    else:
        profile = _object(response.get("loginProfile"), "detail.responseElements.loginProfile")
        made_for = profile.get("userName")
    # The user is named in the request; without a name, a user called for itself.
    user = made_for or request.get("userName")
    if user is None and actor.type == "IAMUser":
        user = actor.name
    if not isinstance(user, str) or not user:
        raise MalformedEvent(f"the {name} event names no user (requestParameters.userName)")
    return GuardEvent(
        event_id=event_id,
        event_name=name,
        event_time=when,
        account_id=account,
        region=region,
        user_name=user,
        actor=actor,
        access_key_id=key_id,
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


def _actor(identity: Any) -> Actor:
    if not isinstance(identity, Mapping):
        raise MalformedEvent("detail.userIdentity is missing: who made the call is unknown")
    kind = identity.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedEvent("detail.userIdentity has no 'type'")
    name = identity.get("userName")
    if name is None and kind == "AssumedRole":
        # arn:aws:sts::123456789012:assumed-role/Role/session → the session's name.
        arn = identity.get("arn")
        if isinstance(arn, str) and arn.count("/") >= 2:
            name = arn.rsplit("/", 1)[1]
    return Actor(
        type=kind,
        arn=_optional_text(identity.get("arn")),
        name=_optional_text(name),
        account_id=_optional_text(identity.get("accountId")),
    )


def _object(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` as an object; absent (CloudTrail writes ``null``) is an empty one."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedEvent(f"{where} is a JSON {_json_type(value)}, not an object")
    return value


def _text(document: Mapping[str, Any], field: str, where: str) -> str:
    value = document.get(field)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{where} has no {field!r}")
    return value


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(text: str) -> datetime:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"  # fromisoformat takes "Z" only from Python 3.11
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedEvent(f"detail.eventTime {_clip(text)!r} is not a time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


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
