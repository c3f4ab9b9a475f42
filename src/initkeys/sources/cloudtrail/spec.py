"""``--cloudtrail SOURCE``: ``lookup``, ``s3://BUCKET/PREFIX`` or a directory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from initkeys.errors import InputError

LOOKUP_NEEDS_ACCOUNT = (
    "--cloudtrail lookup reads the signed-in account's event history; with "
    "--credential-report give the trail's s3://BUCKET/PREFIX or a directory of its log files"
)

# Lower case since 2018; older buckets in us-east-1 may have capitals and underscores.
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$")


@dataclass(frozen=True)
class TrailSpec:
    """``--cloudtrail SOURCE``, parsed: ``lookup``, ``s3://BUCKET/PREFIX`` or a directory."""

    kind: str
    """``lookup``, ``s3`` or ``directory``."""
    bucket: str | None = None
    prefix: str = ""
    """The trail's S3 key prefix (what comes before ``AWSLogs/``), without slashes at its ends."""
    path: str | None = None


def parse_trail_source(text: str) -> TrailSpec:
    """``--cloudtrail``'s value; a bad one is an :class:`InputError` (exit 2)."""
    value = text.strip()
    if value == "lookup":
        return TrailSpec("lookup")
    if value.lower().startswith("s3://"):
        bucket, _, prefix = value[5:].partition("/")
        if not _BUCKET.match(bucket):
            raise InputError(f"--cloudtrail {text}: {bucket!r} is not an S3 bucket name")
        prefix = prefix.strip("/")
        # Accept the prefix with AWSLogs too: it is what the console shows.
        if prefix == "AWSLogs" or prefix.endswith("/AWSLogs"):
            prefix = prefix[: -len("AWSLogs")].rstrip("/")
        return TrailSpec("s3", bucket=bucket, prefix=prefix)
    if value and os.path.isdir(value):
        return TrailSpec("directory", path=value)
    if value and os.path.exists(value):
        raise InputError(f"--cloudtrail {text}: not a directory (give the folder of the log files)")
    raise InputError(
        f"--cloudtrail {text!r}: expected 'lookup', s3://BUCKET/PREFIX, or a directory "
        "of CloudTrail log files"
    )
