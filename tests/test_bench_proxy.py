"""The benchmarks' latency proxy (benchmarks/counting_proxy.py, with a Realism) against a
real emulator process: delay, credential report in progress, throttling, loopback only."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from counting_proxy import CountingProxy, Rate, Realism

from initkeys.aws.errors import THROTTLING_CODES

_NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
_ROLE = "arn:aws:iam::{}:role/OrganizationAccountAccessRole"


@pytest.fixture
def realistic(aws: Any) -> Iterator[tuple[Any, CountingProxy]]:
    realism = Realism(
        latency=0.05,
        report_delay=0.6,
        iam_account=Rate(1000, 1000),
        iam_principal=Rate(1000, 1000),
    )
    with CountingProxy(aws.endpoint_url, realism) as proxy:
        yield aws, proxy


def _iam(aws: Any, proxy: CountingProxy, **creds: str) -> Any:
    session = aws.fresh_session()
    if creds:
        import boto3

        session = boto3.Session(region_name="us-east-1", **creds)
    return session.client("iam", endpoint_url=proxy.url, config=_NO_RETRY)


def test_every_answer_waits_the_latency(realistic: tuple[Any, CountingProxy]) -> None:
    aws, proxy = realistic
    iam = _iam(aws, proxy)
    start = time.perf_counter()
    iam.list_users()
    assert time.perf_counter() - start >= 0.05 * 0.8
    assert proxy.calls["iam:ListUsers"] == 1


def test_credential_report_is_in_progress_until_the_delay(
    realistic: tuple[Any, CountingProxy],
) -> None:
    aws, proxy = realistic
    iam = _iam(aws, proxy)
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "INPROGRESS"
    time.sleep(0.7)
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    assert iam.get_credential_report()["Content"].startswith(b"user,arn")


def test_over_the_principal_rate_is_throttled_as_iam_does(aws: Any) -> None:
    realism = Realism(latency=0.0, iam_principal=Rate(0.5, 3))
    with CountingProxy(aws.endpoint_url, realism) as proxy:
        iam = _iam(aws, proxy)
        codes = []
        for _ in range(5):
            try:
                iam.list_users()
                codes.append("ok")
            except ClientError as exc:
                codes.append(exc.response["Error"]["Code"])
                assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400
                assert exc.response["Error"]["Message"] == "Rate exceeded"
        assert codes[:3] == ["ok"] * 3  # the burst
        assert "Throttling" in codes[3:]
        assert "Throttling" in THROTTLING_CODES  # initkeys retries it
        assert proxy.throttled["iam:ListUsers"] == codes.count("Throttling")
        # The principal's bucket was the one that ran dry, not the account's.
        assert proxy.throttled_by == {"iam:principal": codes.count("Throttling")}


def test_a_second_run_waits_for_its_report_again(aws: Any) -> None:
    # The emulator keeps the report of an earlier run; a fresh proxy starts it over.
    for _ in range(2):
        with CountingProxy(aws.endpoint_url, Realism(latency=0.0, report_delay=5)) as proxy:
            iam = _iam(aws, proxy)
            assert iam.generate_credential_report()["State"] == "STARTED"
            assert iam.generate_credential_report()["State"] == "INPROGRESS"


def test_an_assumed_role_counts_against_its_own_account(
    realistic: tuple[Any, CountingProxy],
) -> None:
    aws, proxy = realistic
    member = "210987654321"
    sts = aws.fresh_session().client("sts", endpoint_url=proxy.url)
    creds = sts.assume_role(RoleArn=_ROLE.format(member), RoleSessionName="bench")["Credentials"]
    assert proxy.account_of(creds["AccessKeyId"]) == member
    assert proxy.account_of("AKIAUNKNOWN") == "123456789012"
    # The member's report starts on its own first call, whatever the caller's did.
    _iam(aws, proxy).generate_credential_report()
    member_iam = _iam(
        aws,
        proxy,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert member_iam.generate_credential_report()["State"] == "STARTED"


def test_without_realism_the_proxy_only_counts(aws: Any) -> None:
    with CountingProxy(aws.endpoint_url) as proxy:
        iam = aws.fresh_session().client("iam", endpoint_url=proxy.url, config=_NO_RETRY)
        for _ in range(30):
            iam.list_users()
        assert proxy.throttled == {}
        assert proxy.calls["iam:ListUsers"] == 30


def test_upstream_must_be_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        CountingProxy("http://203.0.113.9:80", Realism())
    with pytest.raises(ValueError):
        Realism(latency=60.0)
