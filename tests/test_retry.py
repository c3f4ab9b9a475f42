"""The one retry policy: retries counted and waited for through an injected sleep."""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import islice
from typing import Any

import pytest
from faults import FaultProxy, error_xml, report_state_xml
from scenario import NOW, Scenario, at

import initkeys
from initkeys.aws import ApiCallCounter, AwsContext, PollSchedule, RetryPolicy
from initkeys.model import Reason, Status

S = timedelta(seconds=1)


class Recorder:
    """A sleep that only remembers, and a clock that moves only when it sleeps."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    @property
    def retries(self) -> list[float]:
        """The waits between attempts of a call (with ``one_user`` the report is already
        made: no polling pause comes between them)."""
        return [s for s in self.slept if s >= 1.0]

    def policy(self, **kwargs: Any) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, clock=self.clock, jitter=lambda: 1.0, **kwargs)


@pytest.fixture
def one_user(aws: Any) -> Any:
    s = Scenario(aws)
    s.user("ana", at("2023-01-01T10:00:00"))
    s.key("ana", at("2023-01-01T10:00:30"))
    s.settle(NOW)
    # The report already made, as AWS keeps one for hours: these tests count the waits
    # between a call's attempts, and no polling pause comes between them.
    aws.session().client("iam", endpoint_url=aws.endpoint_url).generate_credential_report()
    return aws


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(jitter=lambda: 1.0, base=1.0, cap=20.0)
    assert [policy.backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 20, 20]
    assert RetryPolicy(jitter=lambda: 0.5).backoff(3) == 2.0


def test_throttling_is_retried_with_the_injected_sleep(one_user: Any) -> None:
    recorder = Recorder()

    def throttle(action: str, count: int) -> tuple[int, str] | None:
        if action == "ListAccessKeys" and count <= 4:
            return 400, error_xml("Throttling", "Rate exceeded")
        return None

    started = time.monotonic()
    with FaultProxy(one_user.endpoint_url, throttle) as proxy:
        aws = AwsContext(one_user.session(), endpoint_url=proxy.url, retry=recorder.policy())
        result = initkeys.audit_account(aws)
    assert time.monotonic() - started < 10  # nothing slept for real (4 waits would be 15 s)
    assert proxy.injected["ListAccessKeys"] == 4
    assert recorder.retries == [1.0, 2.0, 4.0, 8.0]
    (finding,) = result.findings
    assert (finding.status, finding.reason) == (Status.FAIL, Reason.SETUP_KEY_UNUSED)


def test_throttling_gets_rounds_more_attempts_than_other_errors(one_user: Any) -> None:
    recorder = Recorder()
    counter = ApiCallCounter()

    def fail(action: str, count: int) -> tuple[int, str] | None:
        if action == "ListAccessKeys":
            return 400, error_xml("Throttling", "Rate exceeded")
        if action == "GetLoginProfile":
            return 500, error_xml("InternalError", "try again")
        return None

    with FaultProxy(one_user.endpoint_url, fail) as proxy:
        aws = AwsContext(
            one_user.session(),
            endpoint_url=proxy.url,
            counter=counter,
            retry=recorder.policy(max_attempts=2, throttle_rounds=3),
        )
        result = initkeys.audit_account(aws, max_workers=1)
    # Throttled: 2 attempts x 3 rounds, then the read fails (an ERROR, never an abort).
    assert proxy.counts["ListAccessKeys"] == 6
    assert proxy.counts.get("GetLoginProfile", 0) == 0  # the user read stopped at its first call
    (finding,) = result.findings
    assert finding.status is Status.ERROR and finding.reason is Reason.LIVE_READ_FAILED
    assert len(recorder.retries) == 5
    assert counter.attempts - counter.total == 5  # botocore itself retried nothing more


def test_a_server_error_gets_max_attempts_only(one_user: Any) -> None:
    recorder = Recorder()

    def fail(action: str, count: int) -> tuple[int, str] | None:
        if action == "ListUsers":
            return 500, error_xml("InternalError", "try again")
        return None

    with FaultProxy(one_user.endpoint_url, fail) as proxy:
        aws = AwsContext(
            one_user.session(), endpoint_url=proxy.url, retry=recorder.policy(max_attempts=3)
        )
        with pytest.raises(initkeys.AccessError, match="iam:ListUsers failed"):
            initkeys.audit_account(aws)
    assert proxy.counts["ListUsers"] == 3
    assert recorder.retries == [1.0, 2.0]


def test_report_polling_waits_on_the_policys_clock(one_user: Any) -> None:
    recorder = Recorder()

    def never(action: str, count: int) -> tuple[int, str] | None:
        if action == "GenerateCredentialReport":
            return 200, report_state_xml("INPROGRESS")
        return None

    started = time.monotonic()
    with FaultProxy(one_user.endpoint_url, never) as proxy:
        aws = AwsContext(one_user.session(), endpoint_url=proxy.url, retry=recorder.policy())
        with pytest.raises(initkeys.AccessError, match="not ready after 60s"):
            initkeys.audit_account(aws, report_timeout=60)
        assert proxy.counts["GenerateCredentialReport"] >= 5
    assert time.monotonic() - started < 10
    assert sum(recorder.slept) == pytest.approx(60.0)  # the last wait ends at the deadline
    # The schedule (1 s, x1.5, at most 4 s; jitter x1.5 here). It was 0.1 s, x2, at most
    # 8 s: a changed contract (issue 13, benchmarks/report_polling.py), not a weaker test.
    assert recorder.slept[:5] == [1.5, 2.25, 3.375, 5.0625, 6.0]
    assert max(recorder.slept) <= 4.0 * 1.5
    assert proxy.counts["GenerateCredentialReport"] == len(recorder.slept) + 1


def test_report_polling_schedule_is_the_policys() -> None:
    """The default: 1 s, then 1.5 times longer, at most 4 s; a policy may carry its own."""
    assert list(islice(RetryPolicy().polling.delays(), 6)) == [1.0, 1.5, 2.25, 3.375, 4.0, 4.0]
    fast = PollSchedule(first=0.1, growth=2.0, cap=0.3)
    assert list(islice(RetryPolicy(polling=fast).polling.delays(), 4)) == [0.1, 0.2, 0.3, 0.3]


def test_the_users_max_attempts_is_the_budget(one_user: Any) -> None:
    session = one_user.fresh_session()
    session._session.set_config_variable("max_attempts", 2)  # as AWS_MAX_ATTEMPTS=2 does
    recorder = Recorder()

    def fail(action: str, count: int) -> tuple[int, str] | None:
        if action == "ListUsers":
            return 503, error_xml("ServiceUnavailable", "busy")
        return None

    with FaultProxy(one_user.endpoint_url, fail) as proxy:
        aws = AwsContext(session, endpoint_url=proxy.url, retry=recorder.policy())
        with pytest.raises(initkeys.AccessError):
            initkeys.audit_account(aws)
    assert proxy.counts["ListUsers"] == 2
