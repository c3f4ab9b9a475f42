"""AWS partitions and their regions: plain data, no boto3 (formats and sources both use it)."""

from __future__ import annotations

import re

from initkeys.errors import InputError

# Global services (IAM) are called in their partition's home region; it is also
# where findings of an offline report go when no region is given.
PARTITION_HOME_REGION = {
    "aws": "us-east-1",
    "aws-cn": "cn-north-1",
    "aws-us-gov": "us-gov-west-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
    "aws-iso-e": "eu-isoe-west-1",
    "aws-iso-f": "us-isof-south-1",
    "aws-eusc": "eusc-de-east-1",
}

_REGION_NAME = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")

# Region name prefixes of the partitions other than "aws" (which has the rest).
_REGION_PREFIXES = (
    ("aws-us-gov", "us-gov-"),
    ("aws-cn", "cn-"),
    ("aws-iso-b", "us-isob-"),
    ("aws-iso-e", "eu-isoe-"),
    ("aws-iso-f", "us-isof-"),
    ("aws-iso", "us-iso-"),
    ("aws-eusc", "eusc-"),
)


def region_partition(region: str) -> str:
    """The partition a region belongs to: ``cn-north-1`` → ``aws-cn``."""
    for partition, prefix in _REGION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


def region_in(partition: str, region: str | None) -> str:
    """``region``, checked against ``partition``; without one, the partition's home region."""
    if region is None:
        return PARTITION_HOME_REGION.get(partition, "us-east-1")
    check_region_name(region)
    if region_partition(region) != partition:
        raise InputError(
            f"region {region} is not in partition {partition}: "
            f"pass a --region of {partition} (for example {region_in(partition, None)})"
        )
    return region


def check_region_name(region: str) -> None:
    """Raise :class:`InputError` unless ``region`` looks like an AWS region name."""
    if not _REGION_NAME.fullmatch(region):
        raise InputError(f"{region!r} is not an AWS region name (for example us-east-1)")
