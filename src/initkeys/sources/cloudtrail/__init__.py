"""Read IAM creation events from CloudTrail: ``--cloudtrail lookup``, ``s3://…`` or a directory.

Three readers behind one small interface (:class:`TrailReader`): each is asked
for the events of one account within some time ranges, and reads only what
can hold them.

- :class:`LookupTrail` calls ``LookupEvents`` (the event history: 90 days,
  at most 2 requests a second per account and region) once per event name and
  range, in the partition's home region, where IAM records its events.
- :class:`S3Trail` reads the log files a trail delivers to S3
  (``PREFIX/AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…json.gz``, or with
  ``o-ORGID/`` before the account for an organization trail): it lists only the
  days of the ranges, and reads only the files delivered while their events
  could be in them.
- :class:`DirectoryTrail` does the same for such files on disk, in any layout.

Every reader keeps ``CreateUser``, ``CreateLoginProfile`` and ``CreateAccessKey``
events of ``iam.amazonaws.com`` that succeeded, as :class:`CreationEvent` records.

One module per job: :mod:`.spec` (the ``--cloudtrail`` value), :mod:`.records` (one
record; the user acted on), :mod:`.collect` (an account's evidence; the record cap),
:mod:`.logfiles` (log file names and content), the readers :mod:`.files`, :mod:`.s3`
and :mod:`.lookup` (with its rate limiter), :mod:`.readers` (which serves an account)
and :mod:`.limits` (how much is read). The names callers use are re-exported here.
"""

from initkeys.sources.cloudtrail.files import DirectoryTrail
from initkeys.sources.cloudtrail.limits import MAX_LOG_BYTES
from initkeys.sources.cloudtrail.logfiles import days_of, may_hold, read_log_file
from initkeys.sources.cloudtrail.lookup import LookupTrail, RateLimiter
from initkeys.sources.cloudtrail.readers import TrailReader, trail_readers
from initkeys.sources.cloudtrail.records import (
    IAM_SOURCE,
    BadRecord,
    created_via,
    creation_event,
    read_record,
)
from initkeys.sources.cloudtrail.s3 import S3Trail
from initkeys.sources.cloudtrail.spec import LOOKUP_NEEDS_ACCOUNT, TrailSpec, parse_trail_source

__all__ = [
    "IAM_SOURCE",
    "LOOKUP_NEEDS_ACCOUNT",
    "MAX_LOG_BYTES",
    "BadRecord",
    "DirectoryTrail",
    "LookupTrail",
    "RateLimiter",
    "S3Trail",
    "TrailReader",
    "TrailSpec",
    "created_via",
    "creation_event",
    "days_of",
    "may_hold",
    "parse_trail_source",
    "read_log_file",
    "read_record",
    "trail_readers",
]
