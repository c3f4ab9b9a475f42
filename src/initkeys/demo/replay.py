"""Record what a demo command changes in the emulator, and replay it on the next start.

Recording is one pair of botocore event hooks on the demo's session, so every client any
command makes (the remediator's, the guard's, rollback's) is covered without touching
them: ``before-parameter-build.iam.*`` seeds moto's random for a change (so that a key
made now and the same key made again on replay get one id) and keeps the call's
parameters, ``after-call.iam.*`` appends the change to the log once IAM said yes.
Only key ids, user names and dates are kept: never a secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from initkeys.demo.state import CHANGE_FIELDS, Change, DemoState, damaged, iter_changes

__all__ = ["NEW_HIRE", "Recorder", "new_hire_event", "replay"]

NEW_HIRE = "new.hire"
"""The console user ``guard simulate --demo`` makes, with a setup key."""
_NEW_HIRE_PATH = "/engineering/"
_PARAMS = "initkeys_demo_params"


class Recorder:
    """Appends the IAM changes made through a session to the demo's log."""

    def __init__(
        self, state: DemoState, clock: Callable[[], datetime], reseed: Callable[[int], None]
    ) -> None:
        self.state = state
        self._clock = clock
        self._reseed = reseed

    def attach(self, session: Any) -> None:
        """Hook ``session`` (boto3): clients made from it afterwards are recorded."""
        session.events.register("before-parameter-build.iam.*", self._before)
        session.events.register("after-call.iam.*", self._after)

    def _before(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if model.name not in CHANGE_FIELDS:
            return
        context[_PARAMS] = dict(params)
        if "seed" in CHANGE_FIELDS[model.name]:
            self._reseed(self.state.next_seed)

    def _after(
        self, http_response: Any, parsed: Any, model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        params = context.get(_PARAMS)
        if params is None or http_response.status_code >= 300:
            return
        op = model.name
        fields = CHANGE_FIELDS[op]
        key = params.get("AccessKeyId")
        if op == "CreateAccessKey":
            key = parsed["AccessKey"]["AccessKeyId"]  # the id only: the secret stays here
        self.state.append(
            Change(
                op=op,
                at=self._clock(),
                user=params.get("UserName"),
                key=key if "key" in fields else None,
                status=params.get("Status") if "status" in fields else None,
                path=params.get("Path", "/") if "path" in fields else None,
                seed=self.state.next_seed if "seed" in fields else None,
            )
        )


def replay(
    state: DemoState,
    iam: Any,
    set_time: Callable[[datetime], None],
    reseed: Callable[[int], None],
) -> None:
    """Make the log's changes again, in order, each at its own instant; the emulator must
    hold the freshly seeded company. A change IAM refuses, or a key that comes back with
    another id, means the log is not this demo's: InputError (``demo reset``)."""
    from botocore.exceptions import ClientError

    for number, change in enumerate(iter_changes(state), start=1):
        set_time(change.at)
        if change.seed is not None:
            reseed(change.seed)
        try:
            made = _apply(iam, change)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "an error")
            raise damaged(
                state.directory, f"change {number} ({change.op} {change.user}) fails: {code}"
            ) from None
        if made is not None and made != change.key:
            raise damaged(state.directory, f"change {number} ({change.op}) made another key")


def _apply(iam: Any, change: Change) -> str | None:
    """Make ``change``; the id of a key it creates."""
    if change.op == "UpdateAccessKey":
        iam.update_access_key(UserName=change.user, AccessKeyId=change.key, Status=change.status)
    elif change.op == "DeleteAccessKey":
        iam.delete_access_key(UserName=change.user, AccessKeyId=change.key)
    elif change.op == "CreateUser":
        iam.create_user(UserName=change.user, Path=change.path)
    elif change.op == "CreateLoginProfile":
        _password(iam, str(change.user))
    else:
        answer = iam.create_access_key(UserName=change.user)["AccessKey"]
        return str(answer["AccessKeyId"])
    return None


def _password(iam: Any, user: str) -> None:
    # A throwaway password: the demo never signs in with it (and the log never has it).
    iam.create_login_profile(
        UserName=user, Password=secrets.token_urlsafe(24), PasswordResetRequired=True
    )


def new_hire_event(
    iam: Any, set_time: Callable[[datetime], None], now: datetime, account_id: str
) -> dict[str, Any]:
    """The EventBridge event of the setup key of :data:`NEW_HIRE`, made here (user, then
    password 3 s later, key 4 s after that, as the console wizard does) unless an earlier
    command made it; the event is about its first key."""
    from botocore.exceptions import ClientError

    from initkeys.timeutil import as_utc, format_utc

    try:
        keys = iam.list_access_keys(UserName=NEW_HIRE)["AccessKeyMetadata"]
    except ClientError:
        keys = []
        set_time(now)
        iam.create_user(UserName=NEW_HIRE, Path=_NEW_HIRE_PATH)
        set_time(now + timedelta(seconds=3))
        _password(iam, NEW_HIRE)
    if not keys:  # (or made, and its key deleted since: a new one, as an admin would)
        set_time(now + timedelta(seconds=7))
        keys.append(iam.create_access_key(UserName=NEW_HIRE)["AccessKey"])
    key = min(keys, key=lambda k: (as_utc(k["CreateDate"]), k["AccessKeyId"]))
    created = format_utc(as_utc(key["CreateDate"]).replace(microsecond=0))
    return _event(str(key["AccessKeyId"]), created or "", account_id)


def _event(key_id: str, when: str, account_id: str) -> dict[str, Any]:
    admin = f"arn:aws:iam::{account_id}:user/it.admin"
    return {
        "version": "0",
        "id": f"demo-{key_id.lower()}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": account_id,
        "time": when,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "IAMUser",
                "arn": admin,
                "accountId": account_id,
                "userName": "it.admin",
            },
            "eventTime": when,
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.10",
            "userAgent": "AWS Internal",
            "requestParameters": {"userName": NEW_HIRE},
            "responseElements": {
                "accessKey": {"userName": NEW_HIRE, "accessKeyId": key_id, "status": "Active"}
            },
            "eventID": f"demo-event-{key_id.lower()}",
            "eventType": "AwsApiCall",
            "recipientAccountId": account_id,
            "sessionCredentialFromConsole": "true",
        },
    }
