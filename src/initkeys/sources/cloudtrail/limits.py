"""How much one audit reads of a trail: the bounds that stop hostile or broken input.

Readers look them up here when they read (``limits.MAX_LOG_BYTES``), so that tests can
lower them on this module."""

from __future__ import annotations

# A trail delivers a file per region every few minutes, of at most a few MB, and an
# event is at most 256 KB: real evidence is far within these.
MAX_LOG_BYTES = 1 << 30
"""Largest log file read, once decompressed (1 GiB): a gzip bomb stops here."""
MAX_DOWNLOAD_BYTES = 1 << 30
"""Largest log object downloaded from S3, as stored (1 GiB, compressed)."""
MAX_RECORDS = 10_000_000
"""Records read for one account, all files together. A busy account logs a few
hundred thousand management events a day and only the days around the keys in
question are read, so ten million is far beyond real evidence, yet parsing that
many (10-20 GB of JSON) already takes several minutes: past it, reading stops and
the note says so, rather than an audit that never ends."""
MAX_EVENT_CHARS = 1 << 20
"""Longest ``CloudTrailEvent`` string read from ``LookupEvents`` (1 MiB)."""


def describe_size(size: int) -> str:
    """``1 GiB``, ``64 KiB``, ``300 bytes``: a size for people."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size:,} bytes"
