"""One CloudTrail record read as a :class:`~initkeys.model.CreationEvent`: which events
count, the user acted on, and who called (:func:`created_via`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from initkeys.model import CreationEvent, EventName
from initkeys.timeutil import parse_utc

IAM_SOURCE = "iam.amazonaws.com"
EVENT_NAMES = tuple(EventName)
_BY_NAME = {e.value: e for e in EventName}


class BadRecord(ValueError):
    """A record of an event initkeys reads (a successful IAM creation) that cannot be
    read: a time that is none, a user name of the wrong shape, names that disagree.
    ``str(error)`` says which field, never the record's own text (it is hostile)."""


# The element of ``responseElements`` that names the user, per event.
_RESPONSE_ELEMENT = {
    EventName.CREATE_USER: "user",
    EventName.CREATE_LOGIN_PROFILE: "loginProfile",
    EventName.CREATE_ACCESS_KEY: "accessKey",
}
# IAM user names: 1 to 64 letters, digits and ``+=,.@_-`` (IAM API reference, CreateUser).
_USER_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")


def creation_event(record: Mapping[str, Any]) -> CreationEvent | None:
    """The record as a :class:`CreationEvent`, or None when it is not one we want
    (another service or event, a failed call, the root user's own key) or cannot
    be read (see :func:`read_record`, which says why)."""
    try:
        return read_record(record)
    except BadRecord:
        return None


def read_record(record: Any) -> CreationEvent | None:
    """The record as a :class:`CreationEvent`; None when it is not one we want (another
    service or event, a failed call, the root user's own key or password).

    Raises :class:`BadRecord` for a creation record that cannot be read. The user acted
    on is ``requestParameters.userName``, else the response's ``userName``, else (when
    neither is there at all: a call without ``UserName`` acts on its caller) the calling
    IAM user. Names that disagree, or are not IAM user names, are a BadRecord: never a
    guess, since "the user made its own key" turns on that name.
    """
    if not isinstance(record, Mapping):
        return None
    if record.get("eventSource") != IAM_SOURCE or record.get("errorCode"):
        return None
    event_name = record.get("eventName")
    name = _BY_NAME.get(event_name) if isinstance(event_name, str) else None
    if name is None:
        return None
    moment = _event_time(record.get("eventTime"))
    if moment is None:
        raise BadRecord("eventTime is not a time")
    identity = _mapping(record.get("userIdentity"))
    kind = _text(identity.get("type"))
    arn = _text(identity.get("arn"))
    principal_name = _text(identity.get("userName"))
    if principal_name is None and arn and kind in ("AssumedRole", "FederatedUser"):
        principal_name = arn.rsplit("/", 1)[-1]  # the session's name
    request = _object(record.get("requestParameters"), "requestParameters")
    response = _object(record.get("responseElements"), "responseElements")
    element_name = _RESPONSE_ELEMENT[name]
    element = _object(response.get(element_name), f"responseElements.{element_name}")
    target = _target_user(
        _user_name(request, "requestParameters.userName"),
        _user_name(element, f"responseElements.{element_name}.userName"),
        kind,
        principal_name,
    )
    if target is None:
        return None
    key_id = _text(element.get("accessKeyId")) if name is EventName.CREATE_ACCESS_KEY else None
    account = _text(record.get("recipientAccountId")) or _text(identity.get("accountId")) or ""
    agent = _text(record.get("userAgent"))
    console = "true" in (
        _lower(record.get("sessionCredentialFromConsole")),
        _lower(identity.get("sessionCredentialFromConsole")),
    )
    return CreationEvent(
        name=name,
        time=moment,
        account_id=account,
        target_user=target,
        principal_arn=arn,
        principal_type=kind,
        principal_name=principal_name,
        access_key_id=key_id,
        source_ip=_text(record.get("sourceIPAddress")),
        via=created_via(agent, console=console, invoked_by=_text(identity.get("invokedBy"))),
        event_id=_text(record.get("eventID")),
    )


def _target_user(
    requested: str | None, answered: str | None, kind: str | None, caller: str | None
) -> str | None:
    """The user an event acted on, from the request's and the response's names (see
    :func:`read_record`); None for the root user acting on itself."""
    if (
        requested is not None
        and answered is not None
        and requested.casefold() != answered.casefold()
    ):
        raise BadRecord("requestParameters.userName and the response's userName disagree")
    if requested is not None:
        return requested
    if kind == "Root":
        return None  # the root user's own key or password: not an IAM user's
    caller = caller if kind == "IAMUser" else None
    if answered is not None:
        if caller is not None and caller.casefold() != answered.casefold():
            # Without UserName, IAM acts on the caller: a response naming another user lies.
            raise BadRecord("the response names another user than the caller")
        return answered
    if caller is None:
        return None
    if not _USER_NAME.fullmatch(caller):
        raise BadRecord("userIdentity.userName is not an IAM user name")
    return caller


def _user_name(element: Mapping[str, Any], where: str) -> str | None:
    """``element.userName``: None when absent (or null, as CloudTrail writes absent
    elements); an IAM user name; anything else (a list, a number, "") is a BadRecord."""
    value = element.get("userName")
    if value is None:
        return None
    if isinstance(value, str) and _USER_NAME.fullmatch(value):
        return value
    raise BadRecord(f"{where} is not an IAM user name")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadRecord(f"{where} is not an object")
    return value


def _lower(value: Any) -> str:
    return str(value).lower() if isinstance(value, (str, bool)) else ""


def created_via(
    user_agent: str | None, *, console: bool = False, invoked_by: str | None = None
) -> str | None:
    """``console``, ``cli``, ``sdk``, ``terraform``, ``cloudformation`` or ``other``, from
    what the event says about the caller; None when it says nothing.

    Tools that embed an SDK name it in their user agent too (the AWS CLI is built
    on botocore, Terraform on the Go SDK), so the tools are recognised first.
    """
    agent = (user_agent or "").lower()
    if "cloudformation" in agent or invoked_by == "cloudformation.amazonaws.com":
        return "cloudformation"
    if "terraform" in agent:
        return "terraform"
    if console or agent.startswith(
        ("console.", "signin.amazonaws.com", "awsconsole", "aws internal")
    ):
        return "console"
    if agent.startswith("aws-cli/") or "awspowershell" in agent:
        return "cli"
    if agent.startswith(("boto3/", "botocore/")) or "aws-sdk-" in agent:
        return "sdk"
    return "other" if agent else None


def _event_time(value: Any) -> datetime | None:
    return parse_utc(value) if isinstance(value, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
