"""One AWS context: the session, how to reach AWS, and how calls are counted and retried.

Every module that calls AWS takes an :class:`AwsContext` and makes its clients
through :meth:`AwsContext.client`; only this constructor and the command line take
a profile, a region or an endpoint URL. boto3 is imported lazily.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from initkeys.aws.retry import DEFAULT_POLICY, RetryPolicy
from initkeys.errors import InputError
from initkeys.partitions import PARTITION_HOME_REGION

# boto3 Sessions are not thread-safe: clients are made one at a time (they are
# thread-safe once made, and making one is CPU-bound anyway).
CLIENT_LOCK = threading.RLock()


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


# botocore's model loader of each data path, shared by every session initkeys opens:
# a new session's own loader would read the service models from disk again (about
# 0.1 s of CPU each), which a long-lived process (a Lambda function, a notebook, the
# tests) that opens many sessions pays each time. The models are static files.
_LOADERS: dict[object, Any] = {}


def share_models(session: Any) -> None:
    """Make ``session`` (a boto3 Session) read service models through the one loader of
    its data path."""
    # boto3 has no public way to share its model loader: its botocore session does.
    core = session._session
    with CLIENT_LOCK:
        key = core.get_config_variable("data_path")
        shared = _LOADERS.setdefault(key, core.get_component("data_loader"))
        core.register_component("data_loader", shared)


def client_config(workers: int, max_attempts: int | None = None) -> Any:
    """Standard retry mode, timeouts, and a pool sized for ``workers`` threads;
    without ``max_attempts`` botocore takes the user's own (AWS_MAX_ATTEMPTS, the
    profile's), which a context's :class:`RetryPolicy` then reads from the client."""
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": "standard"}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts
    return Config(
        retries=retries,
        max_pool_connections=max(10, workers + 2),
        connect_timeout=10,
        read_timeout=60,
    )


@dataclass(frozen=True)
class AwsContext:
    """How initkeys reaches one AWS account: a boto3 session (or an assumed role's),
    the profile (named in advice about expired logins), the endpoint URL, the call
    counter and the retry policy. ``identity``: whom the session signs in as, when
    known already (an assumed role's, from the AssumeRole answer)."""

    session: Any
    profile: str | None = None
    endpoint_url: str | None = None
    counter: ApiCallCounter | None = None
    retry: RetryPolicy = field(default=DEFAULT_POLICY)
    identity: Identity | None = None
    clock: Callable[[], datetime] | None = None

    def now(self) -> datetime:
        """The time of the account reached (aware UTC): what journals are dated with."""
        return self.clock() if self.clock is not None else datetime.now(timezone.utc)

    @classmethod
    def open(
        cls,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        session: Any = None,
        counter: ApiCallCounter | None = None,
        retry: RetryPolicy | None = None,
    ) -> AwsContext:
        """The context of ``session``, or of a new session from the standard credential
        chain with ``profile`` and ``region`` (InputError for an unknown profile)."""
        if session is None:
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                session = boto3.Session(profile_name=profile, region_name=region)
            except ProfileNotFound:
                raise InputError(
                    f"AWS profile {profile!r} not found in ~/.aws/config or ~/.aws/credentials"
                ) from None
            share_models(session)
        return cls(
            session,
            profile=profile,
            endpoint_url=endpoint_url,
            counter=counter,
            retry=retry or DEFAULT_POLICY,
        )

    @classmethod
    def from_session(cls, aws: AwsContext | Any = None) -> AwsContext:
        """``aws`` itself, or the context of a plain boto3 Session (None: a new session
        from the standard credential chain), as the Python API has always taken."""
        return aws if isinstance(aws, AwsContext) else cls.open(session=aws)

    @property
    def region(self) -> str | None:
        region = getattr(self.session, "region_name", None)
        return region if isinstance(region, str) else None

    @property
    def partition(self) -> str | None:
        """The partition signed in to, when the identity is known."""
        return self.identity.partition if self.identity is not None else None

    def home_region(self, partition: str) -> str:
        """Where a global service (IAM, its CloudTrail events) is called in ``partition``."""
        return PARTITION_HOME_REGION.get(partition, self.region) or "us-east-1"

    def client(self, service: str, region: str | None = None, *, workers: int = 1) -> Any:
        """A client of ``service`` in ``region`` (default: the session's, else
        us-east-1), counted and retried by this context."""
        kwargs: dict[str, Any] = {
            "region_name": region or self.region or "us-east-1",
            "config": client_config(workers, self.retry.max_attempts),
        }
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        with CLIENT_LOCK:
            client = self.session.client(service, **kwargs)
        if self.counter is not None:
            self.counter.attach(client)
        self.retry.attach(client)
        return client

    def signed_in_as(self, session: Any, identity: Identity | None) -> AwsContext:
        """This context for another session (an assumed role's) of the same run."""
        return replace(self, session=session, identity=identity)

    def counting(self, counter: ApiCallCounter | None) -> AwsContext:
        return self if counter is None else replace(self, counter=counter)
