"""AWS errors as one-line sentences: what went wrong and what to do (exit 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from initkeys.errors import AccessError

if TYPE_CHECKING:
    from initkeys.aws.context import AwsContext

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

DEMO_HINT = "for a first try without AWS: initkeys audit --demo"

# Who needs a policy, for the policies whose name is not a verb ("you audit with").
_POLICY_HOLDERS = {
    "securityhub": "the principal that sends findings to Security Hub",
    "guard": "the event guard's role (or the principal that runs 'initkeys guard simulate')",
}


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


_T = TypeVar("_T")


def unless_missing(call: Callable[[], _T]) -> _T | None:
    """``call()``, or None when IAM answers NoSuchEntity (the user, key or password is gone)."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


def describe_access_error(
    exc: BaseException,
    action: str,
    aws: AwsContext | None = None,
    policy: str = "audit",
    policy_args: str = "",
) -> str:
    """One sentence that says what went wrong with AWS access and what to do; the login
    advice names ``aws``'s profile. ``policy_args`` follows ``initkeys policy POLICY`` in
    the advice (for example `` --cloudtrail s3://bucket``, whose policy has more statements)."""
    from botocore import exceptions as bce

    profile = aws.profile if aws is not None else None
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


@contextmanager
def access_errors(
    action: str,
    aws: AwsContext | None = None,
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
        sentence = describe_access_error(exc, action, aws, policy, policy_args)
        raise AccessError(prefix + sentence + suffix) from None


def is_access_error(exc: BaseException) -> bool:
    """True for errors about reaching or being allowed into AWS (exit 3), and for answers
    that could not be read (a proxy's HTML page, a truncated body)."""
    from botocore import exceptions as bce

    return isinstance(exc, (bce.BotoCoreError, bce.ClientError)) or _is_unreadable_response(exc)
