"""Throttling, expired tokens and slow reports, injected on the wire by a proxy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from faults import FaultProxy, error_xml, instant_retries, report_state_xml
from scenario import NOW, Scenario, at

import initkeys
from initkeys.aws import AwsContext
from initkeys.model import Reason, Status

S = timedelta(seconds=1)


@pytest.fixture
def account(aws: Any) -> Any:
    s = Scenario(aws)
    for i in range(6):
        t = at(f"2023-0{i + 1}-01T10:00:00")
        s.user(f"user{i}", t)
        s.key(f"user{i}", t + 30 * S)
    s.user("fine", at("2020-01-01T00:00:00"))
    s.settle(NOW)
    return aws


def verdicts(result: initkeys.AccountAudit) -> list[tuple[str, Status, Reason]]:
    return sorted((f.user, f.status, f.reason) for f in result.findings)


def test_throttling_is_retried_and_never_aborts(account: Any) -> None:
    expected = verdicts(
        initkeys.audit_account(AwsContext(account.session(), endpoint_url=account.endpoint_url))
    )

    def throttle(action: str, count: int) -> tuple[int, str] | None:
        # Every other call of each per-user read, and the first report calls.
        if action in {"ListAccessKeys", "GetLoginProfile", "GetAccessKeyLastUsed"} and count % 2:
            return 400, error_xml("Throttling", "Rate exceeded")
        if action == "GenerateCredentialReport" and count == 1:
            return 409, error_xml("LimitExceeded", "too many report requests")
        if action == "GetCredentialReport" and count == 1:
            return 410, error_xml("ReportInProgress", "not yet")
        return None

    with FaultProxy(account.endpoint_url, throttle) as proxy:
        result = initkeys.audit_account(
            AwsContext(account.session(), endpoint_url=proxy.url, retry=instant_retries())
        )
    assert verdicts(result) == expected
    assert proxy.injected["ListAccessKeys"] >= 3
    assert not [f for f in result.findings if f.status is Status.ERROR]


def test_throttling_beyond_botocores_retries_is_still_retried(account: Any) -> None:
    session = account.fresh_session()  # its own: the config change must not leak
    session._session.set_config_variable("max_attempts", 2)  # botocore gives up early

    def throttle(action: str, count: int) -> tuple[int, str] | None:
        if action == "ListAccessKeys" and count <= 3:
            return 400, error_xml("Throttling", "Rate exceeded")
        return None

    with FaultProxy(account.endpoint_url, throttle) as proxy:
        result = initkeys.audit_account(
            AwsContext(session, endpoint_url=proxy.url, retry=instant_retries()), max_workers=1
        )
    assert [f.status for f in result.findings if f.user.startswith("user")] == [Status.FAIL] * 6
    assert proxy.injected["ListAccessKeys"] == 3


def test_expired_token_says_so(account: Any) -> None:
    def expire(action: str, count: int) -> tuple[int, str] | None:
        return (
            403,
            error_xml("ExpiredToken", "The security token included in the request is expired"),
        )

    with (
        FaultProxy(account.endpoint_url, expire) as proxy,
        pytest.raises(initkeys.AccessError, match="session token has expired"),
    ):
        initkeys.audit_account(AwsContext(account.session(), endpoint_url=proxy.url))


def test_report_that_never_completes_times_out_clearly(account: Any) -> None:
    def never(action: str, count: int) -> tuple[int, str] | None:
        if action == "GenerateCredentialReport":
            return 200, report_state_xml("INPROGRESS")
        return None

    with FaultProxy(account.endpoint_url, never) as proxy:
        with pytest.raises(initkeys.AccessError, match="not ready after 2s"):
            initkeys.audit_account(
                AwsContext(account.session(), endpoint_url=proxy.url, retry=instant_retries()),
                report_timeout=2,
            )
        assert proxy.counts["GenerateCredentialReport"] >= 2


def test_a_denied_user_read_is_an_error_finding_not_an_abort(account: Any) -> None:
    def deny(action: str, count: int) -> tuple[int, str] | None:
        if action == "GetLoginProfile" and count == 1:
            return 403, error_xml("AccessDenied", "not allowed")
        return None

    with FaultProxy(account.endpoint_url, deny) as proxy:
        result = initkeys.audit_account(
            AwsContext(account.session(), endpoint_url=proxy.url), max_workers=1
        )
    errors = [f for f in result.findings if f.status is Status.ERROR]
    assert len(errors) == 1
    assert errors[0].reason is Reason.LIVE_READ_FAILED
    assert "AccessDenied" in errors[0].message
    assert sum(f.status is Status.FAIL for f in result.findings) == 5


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]
)
def test_other_partitions(aws: Any, region: str, partition: str) -> None:
    import boto3

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    iam = session.client("iam", endpoint_url=aws.endpoint_url)
    aws.set_time(at("2024-01-01T00:00:00"))
    iam.create_user(UserName="wei")
    iam.create_login_profile(UserName="wei", Password="Correct-Horse-9!")
    iam.create_access_key(UserName="wei")
    aws.set_time(NOW)
    result = initkeys.audit_account(AwsContext(session, endpoint_url=aws.endpoint_url))
    assert result.partition == partition
    (finding,) = result.findings
    assert finding.arn == f"arn:{partition}:iam::123456789012:user/wei"
    assert finding.status is Status.FAIL
