"""Which accounts to audit, and an AWS context for each (AWS Organizations, STS)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from initkeys.aws import CLIENT_LOCK, AwsContext, access_errors, identity_from_arn
from initkeys.errors import AccessError, InputError
from initkeys.inputs import read_text

_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class TargetAccount:
    """One account to audit, and its name in AWS Organizations when known."""

    account_id: str
    name: str | None = None


@dataclass(frozen=True)
class AccountSelection:
    """Which accounts a run covers, and how it signs in to them (the CLI's options)."""

    org: bool = False
    account_list: str | None = None
    exclude_list: str | None = None
    role_name: str | None = None
    external_id: str | None = None
    role_session_name: str = "initkeys"

    @property
    def many(self) -> bool:
        return self.org or self.account_list is not None


def parse_account_ids(value: str, option: str) -> tuple[str, ...]:
    """``ID,ID`` or ``@FILE`` (ids separated by commas, blanks or new lines; # comments)."""
    text = value
    if value.startswith("@"):
        try:
            lines = read_text(value[1:], "account list", stdin=False).splitlines()
        except InputError as e:
            raise InputError(f"{option} {value}: cannot read {e}") from None
        text = "\n".join(line.split("#", 1)[0] for line in lines)
    ids = [part for part in re.split(r"[\s,]+", text) if part]
    bad = [i for i in ids if not _ACCOUNT_ID.match(i)]
    if bad:
        raise InputError(f"{option}: {bad[0]!r} is not a 12-digit AWS account id")
    if not ids:
        raise InputError(f"{option}: no account ids given")
    return tuple(dict.fromkeys(ids))  # keep order, drop repeats


def organization_accounts(aws: AwsContext) -> tuple[TargetAccount, ...]:
    """The organization's ACTIVE accounts (run from the management account or a
    delegated administrator)."""
    accounts: list[TargetAccount] = []
    with access_errors(
        "organizations:ListAccounts",
        aws,
        suffix=" (--org runs from the management or a delegated administrator account)",
    ):
        client = aws.client("organizations", workers=4)
        for page in client.get_paginator("list_accounts").paginate():
            for account in page["Accounts"]:
                # "State" replaced "Status" in 2025; either says ACTIVE.
                state = account.get("State") or account.get("Status")
                if state == "ACTIVE":
                    accounts.append(TargetAccount(str(account["Id"]), account.get("Name")))
    return tuple(accounts)


def role_arn(account_id: str, partition: str, role_name: str) -> str:
    """The role's ARN; a name with slashes carries its path (``path/to/Role``)."""
    name = role_name.strip("/")
    return f"arn:{partition}:iam::{account_id}:role/{name}"


def assume_role(
    aws: AwsContext,
    account_id: str,
    partition: str,
    role_name: str,
    *,
    external_id: str | None = None,
    session_name: str = "initkeys",
) -> AwsContext:
    """``aws`` signed in to ``account_id`` through ``role_name``; its ``identity`` is
    the assumed role's, read from the AssumeRole answer (no GetCallerIdentity needed).

    The role's credentials last an hour, and a run can last longer (an organization
    audit, a confirmation prompt left waiting): they refresh themselves, with
    AssumeRole called again with the same role, external id and session name, as
    botocore refreshes the credentials of its own assume-role profiles.

    Raises :class:`AccessError` when the role cannot be assumed.
    """
    arn = role_arn(account_id, partition, role_name)
    region = aws.region or "us-east-1"
    kwargs: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": session_name}
    if external_id:
        kwargs["ExternalId"] = external_id
    with access_errors("sts:AssumeRole", prefix=f"cannot assume {arn}: "):
        sts = aws.client("sts", region, workers=4)
        asked = datetime.now(timezone.utc)
        answer = sts.assume_role(**kwargs)

    def assume_again() -> dict[str, Any]:
        # botocore calls this (under its own lock) when the credentials near their expiry.
        again = datetime.now(timezone.utc)
        return _credential_metadata(sts.assume_role(**kwargs), again)

    from botocore.credentials import RefreshableCredentials

    session = AssumedSession(
        aws.session,
        RefreshableCredentials.create_from_metadata(
            metadata=_credential_metadata(answer, asked),
            refresh_using=assume_again,
            method="assume-role",
        ),
        region,
    )
    identity = identity_from_arn(str(answer.get("AssumedRoleUser", {}).get("Arn", "")))
    return aws.signed_in_as(session, identity)


# AssumeRole's session length when DurationSeconds is not given (initkeys never gives it).
DEFAULT_SESSION = timedelta(hours=1)


def _credential_metadata(answer: dict[str, Any], asked: datetime) -> dict[str, Any]:
    """botocore's credential metadata from an AssumeRole answer requested at ``asked``.

    The expiry is placed on this machine's clock: the session's length by AWS's own
    clock (``Expiration`` less the answer's ``Date``) after the request was sent, so
    a skewed local clock neither expires them early nor keeps them too long. When
    AWS's answer does not give a length that makes sense (no ``Date``, or an
    ``Expiration`` not after it, as from an emulator with a frozen clock), the
    session lasts AssumeRole's default hour.
    """
    credentials = answer.get("Credentials")
    if not isinstance(credentials, dict) or not all(
        isinstance(credentials.get(k), str) and credentials.get(k)
        for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")
    ):
        raise AccessError("sts:AssumeRole answered without complete credentials")
    length = DEFAULT_SESSION
    expiration = credentials.get("Expiration")
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    served = _http_date(headers.get("date"))
    if (
        isinstance(expiration, datetime)
        and expiration.tzinfo is not None
        and served is not None
        and timedelta(0) < expiration - served <= timedelta(hours=12)  # STS's longest
    ):
        length = expiration - served
    return {
        "access_key": credentials["AccessKeyId"],
        "secret_key": credentials["SecretAccessKey"],
        "token": credentials["SessionToken"],
        "expiry_time": (asked + length).isoformat(),
    }


def _http_date(value: Any) -> datetime | None:
    from email.utils import parsedate_to_datetime

    if not isinstance(value, str):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


class AssumedSession:
    """Clients signed with an assumed role's (refreshing) credentials.

    The credentials belong to a botocore session of this account's own, so every
    client made from it signs with them and sees them refreshed. That session
    shares the base session's model loader: a session with its own would load
    botocore's service models again (about 80 ms of CPU each); with the loader
    shared a client costs about as much as one from the base session. Sessions are
    not thread-safe, so client creation is serialised; the clients themselves are.

    """

    def __init__(self, base: Any, credentials: Any, region: str) -> None:
        import botocore.session
        from botocore.credentials import CredentialProvider, CredentialResolver

        class Given(CredentialProvider):  # type: ignore[misc]
            METHOD = "assume-role"

            def load(self) -> Any:
                return credentials

        self.region_name = region
        with CLIENT_LOCK:
            # boto3 has no public way to share its model loader: its botocore session.
            base_botocore = base._session
            # The same profile as the base session: its retry, endpoint and other
            # settings apply to this account's clients too.
            own = botocore.session.Session(profile=base_botocore.profile)
            own.register_component("data_loader", base_botocore.get_component("data_loader"))
            own.register_component("credential_provider", CredentialResolver([Given()]))
            own.set_config_variable("region", region)
        # The botocore session itself makes the clients (as boto3's Session.client does):
        # a boto3 Session over it would add boto3's data path to the shared loader again
        # for every account, and the services used here need none of boto3's additions.
        self._session = own

    def client(self, service: str, **kwargs: Any) -> Any:
        with CLIENT_LOCK:
            return self._session.create_client(service, **kwargs)


def context_for(
    aws: AwsContext,
    own_account_id: str,
    partition: str,
    account_id: str,
    selection: AccountSelection,
) -> AwsContext:
    """The signed-in account keeps its own credentials; any other is reached by its role."""
    if account_id == own_account_id:
        return aws
    if not selection.role_name:
        raise AccessError("--role-name is needed to reach another account")
    return assume_role(
        aws,
        account_id,
        partition,
        selection.role_name,
        external_id=selection.external_id,
        session_name=selection.role_session_name,
    )
