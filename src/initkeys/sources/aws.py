"""Read a live AWS account's IAM users: identity, credential report, live user reads.

How AWS is reached (session, endpoint, retries, error sentences) is
:mod:`initkeys.aws`. boto3 is imported lazily, so ``initkeys --version`` and offline
audits start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from initkeys.aws import AwsContext, Identity, access_errors, error_code
from initkeys.aws.errors import THROTTLING_CODES, unless_missing
from initkeys.errors import AccessError, InputError
from initkeys.model import AccessKey, CredentialReport, IamUser
from initkeys.sources.credential_report import parse_credential_report
from initkeys.timeutil import as_utc

# The IAM user tag whose value is the reason the organization keeps the user's keys.
EXEMPT_TAG = "initkeys:exempt"

# Report states worth waiting out: ask again after a pause.
_GENERATE_AGAIN = frozenset({"LimitExceeded", *THROTTLING_CODES})
_REPORT_NOT_READY = frozenset(
    {"ReportInProgress", "ReportNotPresent", "ReportExpired", *THROTTLING_CODES}
)


@dataclass(frozen=True)
class ListedUser:
    """A user as ``ListUsers`` shows it."""

    name: str
    arn: str
    created: datetime


def _listed(user: dict[str, Any]) -> ListedUser:
    """A user as ``ListUsers`` and ``GetUser`` answer it."""
    return ListedUser(name=user["UserName"], arn=user["Arn"], created=as_utc(user["CreateDate"]))


class LiveAccount:
    """One AWS account, read through clients of one :class:`AwsContext` that share a
    connection pool."""

    def __init__(self, aws: AwsContext, *, max_workers: int = 8) -> None:
        """``aws.identity``: the account signed in to, when already known (an assumed
        role's, from the AssumeRole answer); :meth:`whoami` then calls nothing."""
        self.aws = aws
        self._max_workers = max_workers
        self._iam: Any = None
        self.identity = aws.identity

    def _client(self, service: str, region: str) -> Any:
        return self.aws.client(service, region, workers=self._max_workers)

    def whoami(self) -> Identity:
        """Account id and partition, from ``sts get-caller-identity`` the first time
        only (none when the identity was given)."""
        if self.identity is None:
            with access_errors("sts:GetCallerIdentity", self.aws):
                answer = self._client("sts", self.aws.region or "us-east-1").get_caller_identity()
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
        return self._client(service, self.aws.home_region(self.whoami().partition))

    def credential_report(
        self, *, timeout: float = 300.0, on_wait: Callable[[str], None] | None = None
    ) -> CredentialReport:
        """Generate the credential report if needed, wait for it (on the context's
        retry clock and sleep), then read it."""
        from botocore.exceptions import ClientError

        retry = self.aws.retry
        deadline = retry.clock() + timeout
        # A report takes seconds (AWS makes it): pause as the policy's schedule says.
        delays = retry.polling.delays()
        while True:
            state = None
            with access_errors("iam:GenerateCredentialReport", self.aws):
                try:
                    state = self.iam.generate_credential_report()["State"]
                except ClientError as exc:
                    if error_code(exc) not in _GENERATE_AGAIN:
                        raise
            if state == "COMPLETE":
                answer = None
                with access_errors("iam:GetCredentialReport", self.aws):
                    try:
                        answer = self.iam.get_credential_report()
                    except ClientError as exc:
                        if error_code(exc) not in _REPORT_NOT_READY:
                            raise
                if answer is not None:
                    return self._parse_report(answer)
            remaining = deadline - retry.clock()
            if remaining <= 0:
                raise AccessError(
                    f"the credential report was not ready after {timeout:.0f}s "
                    "(GenerateCredentialReport state "
                    f"{state or 'throttled'}); run again later or raise --report-timeout"
                )
            if on_wait is not None:
                on_wait(state or "throttled")
            retry.sleep(min(next(delays) * (0.5 + retry.jitter()), remaining))

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
        with access_errors("iam:ListUsers", self.aws):
            pages = self.iam.get_paginator("list_users").paginate(
                PaginationConfig={"PageSize": 1000}
            )
            for page in pages:
                for u in page["Users"]:
                    users[u["UserName"]] = _listed(u)
        return users

    def get_user(self, name: str) -> ListedUser | None:
        """One user by name (``GetUser``), or None when there is no such user: the
        event guard reads the one user an event names, not the whole account."""
        answer = unless_missing(lambda: self.iam.get_user(UserName=name))
        if answer is None:
            return None
        return _listed(answer["User"])

    def read_user(self, listed: ListedUser, known: IamUser | None = None) -> IamUser | None:
        """Read one user live: keys, their last use, and the login profile.

        Returns None when the user no longer exists. ``known`` is the report's
        row for the user: keys the report already shows as used keep their
        last-use date (a used key cannot become unused), saving a call.
        """
        iam = self.iam
        listing = unless_missing(lambda: iam.list_access_keys(UserName=listed.name))
        if listing is None:
            return None
        metadata = listing["AccessKeyMetadata"]
        profile = unless_missing(lambda: iam.get_login_profile(UserName=listed.name))
        console, password_created = False, None
        if profile is not None:
            console, password_created = True, as_utc(profile["LoginProfile"]["CreateDate"])
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
                answer = iam.get_access_key_last_used(AccessKeyId=key_id)
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
            page = self.iam.list_user_tags(UserName=name, **marker)
            for tag in page.get("Tags", []):
                # IAM user tag keys are case-insensitive (one key, its case as first
                # written): Initkeys:Exempt is the same tag.
                if str(tag.get("Key", "")).casefold() == EXEMPT_TAG.casefold():
                    return str(tag.get("Value", ""))
            if not page.get("IsTruncated"):
                return None
            marker = {"Marker": page["Marker"]}
