"""Which reader serves an account, behind one small interface (:class:`TrailReader`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from initkeys.aws import AwsContext
from initkeys.errors import InputError
from initkeys.model import TimeRange, TrailEvidence
from initkeys.sources.aws import LiveAccount
from initkeys.sources.cloudtrail.files import DirectoryTrail
from initkeys.sources.cloudtrail.lookup import LookupTrail
from initkeys.sources.cloudtrail.s3 import S3Trail
from initkeys.sources.cloudtrail.spec import LOOKUP_NEEDS_ACCOUNT, TrailSpec


class TrailReader(Protocol):
    """Reads the creation events of one account that happened within ``ranges``."""

    source: str

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        """The events found, the ranges read, and what got in the way."""
        ...


def trail_readers(
    spec: TrailSpec, *, aws: AwsContext | None = None, policy: str = "audit"
) -> Callable[[LiveAccount | None], TrailReader]:
    """Which reader serves an audited account: LookupEvents in that account (through its
    own context), or the one bucket or directory every account's logs are in (an
    organization's trail bucket is read with ``aws``, the signed-in account's).

    A bucket is listed once here (``AWSLogs/``), so that a wrong name (InputError)
    or a denied list (AccessError) ends the run before the audit, not after it.
    A denial names ``initkeys policy POLICY --cloudtrail SOURCE`` (``audit``, or
    ``remediate`` for a remediation's own audit)."""
    if spec.kind == "directory":
        assert spec.path is not None
        directory = DirectoryTrail(spec.path)
        return lambda _account: directory
    if spec.kind == "s3":
        assert spec.bucket is not None and aws is not None
        client = aws.client("s3", workers=8)
        bucket = S3Trail(client, spec.bucket, spec.prefix, policy=policy)
        bucket.owners()  # fail now, not after the audit, on a wrong bucket or a denied list
        return lambda _account: bucket

    def lookup(account: LiveAccount | None) -> TrailReader:
        if account is None:
            raise InputError(LOOKUP_NEEDS_ACCOUNT)
        return LookupTrail(
            account.home_client("cloudtrail"), policy=policy, retry=account.aws.retry
        )

    return lookup
