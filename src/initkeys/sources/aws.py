"""Read a live AWS account with boto3: identity, credential report, live user reads.

boto3 is imported lazily (inside functions) so that ``initkeys --version`` and
offline audits start fast.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

from initkeys.errors import AccessError, InputError
from initkeys.model import AccessKey, CredentialReport, IamUser
from initkeys.partitions import PARTITION_HOME_REGION
from initkeys.sources.credential_report import parse_credential_report

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
BAD_CREDENTIAL_CODES = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "AuthFailure"}
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})

# The IAM user tag whose value is the reason the organization keeps the user's keys.
EXEMPT_TAG = "initkeys:exempt"

# Report states worth waiting out: ask again after a pause.
_GENERATE_AGAIN = frozenset({"LimitExceeded", *THROTTLING_CODES})
_REPORT_NOT_READY = frozenset(
    {"ReportInProgress", "ReportNotPresent", "ReportExpired", *THROTTLING_CODES}
)

DEMO_HINT = "for a first try without AWS: initkeys audit --demo"


@dataclass(frozen=True)
class Identity:
    account_id: str
    partition: str
    arn: str


def identity_from_arn(arn: str) -> Identity | None:
    """The identity an STS ARN names (``arn:PARTITION:sts::ACCOUNT:assumed-role/...``),
    or None when it is not such an ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or not parts[1] or not parts[4].isdigit():
        return None
    return Identity(account_id=parts[4], partition=parts[1], arn=arn)


@dataclass(frozen=True)
class ListedUser:
    """A user as ``ListUsers`` shows it."""

    name: str
    arn: str
    created: datetime


class ApiCallCounter:
    """Counts API calls (and HTTP attempts, retries included) made by clients."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self.attempts = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.*.*", self._on_call)
        client.meta.events.register("before-send.*.*", self._on_send)

    def _on_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.attempts += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def make_session(profile: str | None = None, region: str | None = None) -> Any:
    """A boto3 Session from the standard credential chain."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise InputError(
            f"AWS profile {profile!r} not found in ~/.aws/config or ~/.aws/credentials"
        ) from None


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def describe_access_error(
    exc: BaseException,
    action: str,
    profile: str | None = None,
    policy: str = "audit",
    policy_args: str = "",
) -> str:
    """One sentence that says what went wrong with AWS access and what to do.

    ``policy_args`` follows ``initkeys policy POLICY`` in the advice (for example
    `` --cloudtrail s3://bucket``, whose policy has more statements)."""
    from botocore import exceptions as bce

    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, bce.NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE or pass --profile, or run 'aws configure'; "
            + DEMO_HINT
        )
    if isinstance(exc, bce.PartialCredentialsError):
        return f"incomplete AWS credentials ({exc}); " + DEMO_HINT
    token_errors: tuple[type[BaseException], ...] = tuple(
        getattr(bce, name)
        for name in ("TokenRetrievalError", "SSOTokenLoadError", "UnauthorizedSSOTokenError")
        if hasattr(bce, name)
    )
    if token_errors and isinstance(exc, token_errors):
        return f"the AWS SSO session has expired or is missing: run '{login}'"
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError)):
        return f"could not reach AWS ({exc}): check the network, --region and --endpoint-url"
    if isinstance(exc, bce.ReadTimeoutError):
        return f"AWS did not answer in time ({exc}); try again"
    if isinstance(exc, bce.ClientError):
        code = error_code(exc)
        if code in EXPIRED_CODES:
            return (
                f"the AWS session token has expired ({code}): refresh your credentials "
                f"(for example '{login}') and run again"
            )
        if code in BAD_CREDENTIAL_CODES:
            return (
                f"AWS rejected the credentials ({code}): check the access key, "
                "profile and partition (--region)"
            )
        # Some services (and the emulator) answer a denial with a bare HTTP 403.
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in DENIED_CODES or (status == 403 and code in ("", "403")):
            who = _POLICY_HOLDERS.get(policy, f"the principal you {policy} with")
            return (
                f"access denied for {action} ({code if code in DENIED_CODES else 'HTTP 403'}): "
                f"attach the policy printed by 'initkeys policy {policy}{policy_args}' to {who}"
            )
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{action} failed: {code}: {message}".rstrip(": ")
    if _is_unreadable_response(exc):
        # botocore's message carries the raw body, which can reflect the request
        # (a session token, a signature): it is never shown, only what it means.
        return (
            f"{action} failed: AWS sent an answer that could not be read (not the XML or JSON "
            "the API returns): check --endpoint-url and any proxy in between, and try again"
        )
    if isinstance(exc, bce.BotoCoreError):
        return f"{action} failed: {exc}"
    return f"{action} failed: {type(exc).__name__}: {exc}"


def _is_unreadable_response(exc: BaseException) -> bool:
    """A response botocore could not parse (an HTML page, truncated XML), on a 200 too."""
    from botocore.parsers import ResponseParserError

    return isinstance(exc, ResponseParserError)


# Who needs a policy, for the policies whose name is not a verb ("you audit with").
_POLICY_HOLDERS = {
    "securityhub": "the principal that sends findings to Security Hub",
    "guard": "the event guard's role (or the principal that runs 'initkeys guard simulate')",
}


@contextmanager
def access_errors(
    action: str,
    profile: str | None = None,
    *,
    prefix: str = "",
    suffix: str = "",
    policy: str = "audit",
    policy_args: str = "",
) -> Iterator[None]:
    """AWS errors raised in the block become one :class:`AccessError` sentence naming
    ``action`` (exit 3) and, for a denial, the ``initkeys policy`` to attach; anything
    else goes through unchanged."""
    try:
        yield
    except Exception as exc:
        if not is_access_error(exc):
            raise
        sentence = describe_access_error(exc, action, profile, policy, policy_args)
        raise AccessError(prefix + sentence + suffix) from None


def is_access_error(exc: BaseException) -> bool:
    """True for errors about reaching or being allowed into AWS (exit 3), and for answers
    that could not be read (a proxy's HTML page, a truncated body)."""
    from botocore import exceptions as bce

    return isinstance(exc, (bce.BotoCoreError, bce.ClientError)) or _is_unreadable_response(exc)


# boto3 Sessions are not thread-safe: clients are made one at a time (they are
# thread-safe once made, and making one is CPU-bound anyway).
CLIENT_LOCK = threading.RLock()


def make_client_config(workers: int, session: Any = None) -> Any:
    """botocore's standard retry mode, timeouts, and a pool sized for ``workers`` threads.

    The user's own max_attempts (AWS_MAX_ATTEMPTS or the profile's) wins over our
    default of 10.
    """
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": "standard"}
    botocore_session = getattr(session, "_session", None)
    if botocore_session is None or botocore_session.get_config_variable("max_attempts") is None:
        retries["max_attempts"] = 10
    return Config(
        retries=retries,
        max_pool_connections=max(10, workers + 2),
        connect_timeout=10,
        read_timeout=60,
    )


class LiveAccount:
    """One AWS account, read through boto3 clients that share a connection pool."""

    def __init__(
        self,
        session: Any,
        *,
        endpoint_url: str | None = None,
        max_workers: int = 8,
        counter: ApiCallCounter | None = None,
        profile: str | None = None,
        identity: Identity | None = None,
    ) -> None:
        """``identity``: the account signed in to, when already known (an assumed
        role's, from the AssumeRole answer); :meth:`whoami` then calls nothing."""
        self._session = session
        self._endpoint_url = endpoint_url
        self._max_workers = max_workers
        self._counter = counter
        self._profile = profile
        self._iam: Any = None
        self.identity = identity

    def _client(self, service: str, region: str) -> Any:
        config = make_client_config(self._max_workers, self._session)
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        if self._endpoint_url:
            kwargs["endpoint_url"] = self._endpoint_url
        with CLIENT_LOCK:
            client = self._session.client(service, **kwargs)
        if self._counter is not None:
            self._counter.attach(client)
        return client

    def whoami(self) -> Identity:
        """Account id and partition, from ``sts get-caller-identity`` the first time
        only (none when the identity was given)."""
        if self.identity is None:
            region = self._session.region_name or "us-east-1"
            with access_errors("sts:GetCallerIdentity", self._profile):
                answer = self._client("sts", region).get_caller_identity()
            arn = str(answer["Arn"])
            partition = arn.split(":")[1] if arn.count(":") >= 5 else "aws"
            self.identity = Identity(
                account_id=str(answer["Account"]), partition=partition, arn=arn
            )
        return self.identity

    @property
    def iam(self) -> Any:
        if self._iam is None:
            self._iam = self.home_client("iam")
        return self._iam

    def home_client(self, service: str) -> Any:
        """A client in the partition's home region, where IAM (a global service) is
        called and its events are recorded (CloudTrail's LookupEvents)."""
        home = PARTITION_HOME_REGION.get(self.whoami().partition, self._session.region_name)
        return self._client(service, home or "us-east-1")

    def credential_report(
        self, *, timeout: float = 300.0, on_wait: Callable[[str], None] | None = None
    ) -> CredentialReport:
        """Generate the credential report if needed, wait for it, then read it."""
        from botocore.exceptions import ClientError

        deadline = time.monotonic() + timeout
        # Small accounts' reports are ready within a second; big ones take longer.
        delay = 0.1
        while True:
            state = None
            with access_errors("iam:GenerateCredentialReport", self._profile):
                try:
                    state = self.iam.generate_credential_report()["State"]
                except ClientError as exc:
                    if error_code(exc) not in _GENERATE_AGAIN:
                        raise
            if state == "COMPLETE":
                answer = None
                with access_errors("iam:GetCredentialReport", self._profile):
                    try:
                        answer = self.iam.get_credential_report()
                    except ClientError as exc:
                        if error_code(exc) not in _REPORT_NOT_READY:
                            raise
                if answer is not None:
                    return self._parse_report(answer)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AccessError(
                    f"the credential report was not ready after {timeout:.0f}s "
                    "(GenerateCredentialReport state "
                    f"{state or 'throttled'}); run again later or raise --report-timeout"
                )
            if on_wait is not None:
                on_wait(state or "throttled")
            time.sleep(min(delay * (0.5 + random.random()), remaining))
            delay = min(delay * 2, 8.0)

    def _parse_report(self, answer: dict[str, Any]) -> CredentialReport:
        assert self.identity is not None
        generated = answer.get("GeneratedTime")
        if isinstance(generated, datetime) and generated.tzinfo is None:
            generated = generated.replace(tzinfo=timezone.utc)
        try:
            report = parse_credential_report(answer["Content"], "aws", generated, allow_empty=True)
        except InputError as exc:
            raise AccessError(f"AWS returned an unreadable credential report: {exc}") from None
        # The identity is authoritative; the report's ARNs should agree.
        return CredentialReport(
            account_id=self.identity.account_id,
            partition=self.identity.partition,
            source="aws",
            generated_at=report.generated_at,
            users=report.users,
        )

    def list_users(self) -> dict[str, ListedUser]:
        """Every IAM user now, by name (``ListUsers``, 1,000 a page)."""
        users: dict[str, ListedUser] = {}
        with access_errors("iam:ListUsers", self._profile):
            pages = self.iam.get_paginator("list_users").paginate(
                PaginationConfig={"PageSize": 1000}
            )
            for page in pages:
                for u in page["Users"]:
                    users[u["UserName"]] = ListedUser(
                        name=u["UserName"], arn=u["Arn"], created=as_utc(u["CreateDate"])
                    )
        return users

    def get_user(self, name: str) -> ListedUser | None:
        """One user by name (``GetUser``), or None when there is no such user: the
        event guard reads the one user an event names, not the whole account."""
        from botocore.exceptions import ClientError

        try:
            user = with_throttle_retry(lambda: self.iam.get_user(UserName=name)["User"])
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        return ListedUser(
            name=user["UserName"], arn=user["Arn"], created=as_utc(user["CreateDate"])
        )

    def read_user(self, listed: ListedUser, known: IamUser | None = None) -> IamUser | None:
        """Read one user live: keys, their last use, and the login profile.

        Returns None when the user no longer exists. ``known`` is the report's
        row for the user: keys the report already shows as used keep their
        last-use date (a used key cannot become unused), saving a call.
        """
        from botocore.exceptions import ClientError

        iam = self.iam
        try:
            metadata = with_throttle_retry(
                lambda: iam.list_access_keys(UserName=listed.name)["AccessKeyMetadata"]
            )
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        try:
            profile = with_throttle_retry(
                lambda: iam.get_login_profile(UserName=listed.name)["LoginProfile"]
            )
            console, password_created = True, as_utc(profile["CreateDate"])
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            console, password_created = False, None
        ordered = sorted(metadata, key=lambda m: (as_utc(m["CreateDate"]), m["AccessKeyId"]))
        seconds = [as_utc(m["CreateDate"]).replace(microsecond=0) for m in ordered]
        # The report names keys by creation second only: reuse its last-use date
        # only when that second identifies one key (two keys made in the same
        # second must never be confused).
        used_before = {
            k.created.replace(microsecond=0): k.last_used
            for k in (known.keys if known is not None else ())
            if k.last_used is not None and seconds.count(k.created.replace(microsecond=0)) == 1
        }
        keys: list[AccessKey] = []
        for slot, m in enumerate(ordered, start=1):
            created = as_utc(m["CreateDate"])
            key_id = str(m["AccessKeyId"])
            last_used = used_before.get(created.replace(microsecond=0))
            if console and last_used is None:
                answer = with_throttle_retry(
                    partial(iam.get_access_key_last_used, AccessKeyId=key_id)
                )
                date = answer.get("AccessKeyLastUsed", {}).get("LastUsedDate")
                last_used = as_utc(date) if date is not None else None
            keys.append(
                AccessKey(
                    slot=slot,
                    created=created,
                    active=m["Status"] == "Active",
                    last_used=last_used,
                    access_key_id=key_id,
                )
            )
        exempt_tag = None
        # Exemptions matter only for a key that can fail: a used key always passes.
        if console and any(k.last_used is None for k in keys):
            exempt_tag = self.exempt_tag(listed.name)
        return IamUser(
            name=listed.name,
            arn=listed.arn,
            created=listed.created,
            console_password=console,
            password_created=password_created,
            keys=tuple(keys),
            exempt_tag=exempt_tag,
        )

    def exempt_tag(self, name: str) -> str | None:
        """The value of the user's ``initkeys:exempt`` tag, if it has one."""
        marker: dict[str, Any] = {}
        while True:
            page = with_throttle_retry(partial(self.iam.list_user_tags, UserName=name, **marker))
            for tag in page.get("Tags", []):
                # IAM user tag keys are case-insensitive (one key, its case as first
                # written): Initkeys:Exempt is the same tag.
                if str(tag.get("Key", "")).casefold() == EXEMPT_TAG.casefold():
                    return str(tag.get("Value", ""))
            if not page.get("IsTruncated"):
                return None
            marker = {"Marker": page["Marker"]}


def with_throttle_retry(call: Callable[[], Any], attempts: int = 6) -> Any:
    """Retry past botocore's own retries when still throttled: throttling never aborts."""
    from botocore.exceptions import ClientError

    delay = 1.0
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            if error_code(exc) not in THROTTLING_CODES or attempt == attempts - 1:
                raise
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 20.0)
    raise AssertionError("unreachable")


def as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    raise TypeError(f"expected a datetime, got {value!r}")
