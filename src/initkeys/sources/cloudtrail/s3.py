"""``--cloudtrail s3://BUCKET/PREFIX``: a trail's log files in S3."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from initkeys.aws import access_errors, error_code
from initkeys.errors import InputError
from initkeys.model import TimeRange, TrailEvidence
from initkeys.partitions import PARTITION_HOME_REGION
from initkeys.sources.cloudtrail import limits
from initkeys.sources.cloudtrail.collect import Collector
from initkeys.sources.cloudtrail.limits import describe_size
from initkeys.sources.cloudtrail.logfiles import (
    LOG_SUFFIXES,
    days_of,
    may_hold,
    read_capped,
    read_log_file,
)


class S3Trail:
    """A trail's log files in S3, read only for the days and delivery times that matter.

    ``client`` retries on its own (one made by an :class:`~initkeys.aws.AwsContext`
    retries as the context's policy says, throttling included)."""

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, policy: str = "audit"
    ) -> None:
        self._s3 = client
        self._policy = policy
        self.bucket = bucket
        self.prefix = prefix
        self.source = f"s3://{bucket}/{prefix}".rstrip("/")
        self._lock = threading.Lock()
        self._owners: tuple[str, ...] | None = None

    @property
    def _logs(self) -> str:
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"

    def owners(self) -> tuple[str, ...]:
        """The folders under ``AWSLogs/``: account ids, and organization ids (``o-…``).
        Listed once (one request per 1,000), which also proves the bucket can be read."""
        with self._lock:
            if self._owners is None:
                found: list[str] = []
                for page in self._pages(Prefix=self._logs, Delimiter="/"):
                    for common in page.get("CommonPrefixes", []):
                        found.append(str(common["Prefix"])[len(self._logs) :].strip("/"))
                self._owners = tuple(found)
            return self._owners

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        region = PARTITION_HOME_REGION.get(partition, "us-east-1")
        owners = self.owners()
        bases = [f"{self._logs}{account_id}/CloudTrail/{region}/"] if account_id in owners else []
        bases += [
            f"{self._logs}{org}/{account_id}/CloudTrail/{region}/"
            for org in owners
            if org.startswith("o-")
        ]
        collector = Collector(account_id)
        for base in bases:
            for day in days_of(ranges):
                day_prefix = f"{base}{day:%Y/%m/%d}/"
                for page in self._pages(Prefix=day_prefix):
                    for item in page.get("Contents", []):
                        key = str(item["Key"])
                        if key.endswith(LOG_SUFFIXES) and may_hold(key, ranges):
                            collector.add_file(
                                f"s3://{self.bucket}/{key}", partial(self._read_object, key)
                            )
        if not bases:
            collector.problems.append(
                f"{self.source} has no log folder for account {account_id} "
                f"(AWSLogs/{account_id}/ or AWSLogs/o-…/{account_id}/)"
            )
        return collector.evidence(self.source, ranges)

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        with self._errors("s3:ListBucket"):
            paginator = self._s3.get_paginator("list_objects_v2")
            yield from paginator.paginate(Bucket=self.bucket, **kwargs)

    def _read_object(self, key: str) -> list[Any]:
        return read_log_file(self._get(key), key)

    def _get(self, key: str) -> bytes:
        """The object as stored (gzipped), at most :data:`MAX_DOWNLOAD_BYTES` of it."""
        from botocore.exceptions import BotoCoreError, ClientError

        with self._errors("s3:GetObject"):
            try:
                # The client retries a throttled download (the context's policy).
                answer = self._s3.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                # A lifecycle rule moved it to Glacier: one unreadable file, not the end.
                if error_code(exc) == "InvalidObjectState":
                    raise ValueError("archived; restore it to read it") from None
                raise
            body = answer["Body"]
            try:
                size = answer.get("ContentLength")
                if isinstance(size, int) and size > limits.MAX_DOWNLOAD_BYTES:
                    limit = describe_size(limits.MAX_DOWNLOAD_BYTES)
                    raise ValueError(
                        f"{describe_size(size)} stored, more than {limit} (initkeys' limit); "
                        "not read"
                    )
                # The length S3 states is not trusted either: the download stops at the limit.
                return read_capped(body.read, limits.MAX_DOWNLOAD_BYTES, "stored")
            except BotoCoreError as exc:
                # One object whose download broke off is a note, like an unreadable file:
                # the rest of the trail is still evidence.
                raise ValueError(f"the download broke off ({type(exc).__name__})") from None
            finally:
                body.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """A missing bucket is a bad ``--cloudtrail`` (exit 2); other AWS errors are access
        errors (exit 3) that name the call and the bucket."""
        with access_errors(
            f"{action} on {self.source}",
            policy=self._policy,
            policy_args=f" --cloudtrail {self.source}",
        ):
            try:
                yield
            except Exception as exc:
                if error_code(exc) == "NoSuchBucket":
                    raise InputError(f"--cloudtrail {self.source}: no such bucket") from None
                raise
