"""How initkeys reaches AWS: one :class:`AwsContext` (session, endpoint, counter, retry
policy), error sentences (:func:`access_errors`), and the one :class:`RetryPolicy`."""

from initkeys.aws.context import (
    CLIENT_LOCK,
    ApiCallCounter,
    AwsContext,
    Identity,
    identity_from_arn,
)
from initkeys.aws.errors import (
    BAD_CREDENTIAL_CODES,
    EXPIRED_CODES,
    access_errors,
    describe_access_error,
    error_code,
    is_access_error,
)
from initkeys.aws.retry import PollSchedule, RetryPolicy

__all__ = [
    "BAD_CREDENTIAL_CODES",
    "CLIENT_LOCK",
    "EXPIRED_CODES",
    "ApiCallCounter",
    "AwsContext",
    "Identity",
    "PollSchedule",
    "RetryPolicy",
    "access_errors",
    "describe_access_error",
    "error_code",
    "identity_from_arn",
    "is_access_error",
]
