"""CloudTrail evidence from LookupEvents, served by a local endpoint in its JSON protocol.

moto has no LookupEvents; :mod:`lookup_endpoint` answers it over HTTP to the
real botocore stack (nothing is patched): pages tied to their NextToken, and
ThrottlingException for requests faster than 2 a second or on demand.
"""

from __future__ import annotations

import itertools
import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from lookup_endpoint import LookupEndpoint
from scenario import Scenario, at
from test_cli import here
from trail_company import ACCOUNT, ADMIN, Trail, check_evidence
from trail_records import iam_user, record

import initkeys
from initkeys.aws import AwsContext, Identity, RetryPolicy
from initkeys.aws.context import client_config
from initkeys.aws.retry import DEFAULT_ATTEMPTS
from initkeys.model import Reason, Status, TimeRange
from initkeys.sources.aws import LiveAccount
from initkeys.sources.cloudtrail import LookupTrail, RateLimiter, TrailSpec, trail_readers

FAST = 1000.0  # requests a second, for tests about pages rather than the rate
S = timedelta(seconds=1)


def cloudtrail_client(aws: Any, endpoint: LookupEndpoint) -> Any:
    session = aws.session()
    return session.client(
        "cloudtrail",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        config=client_config(1, DEFAULT_ATTEMPTS),
    )


def audit(aws: Any, endpoint: LookupEndpoint, now: datetime) -> initkeys.AccountAudit:
    client = cloudtrail_client(aws, endpoint)
    return initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url),
        trail=lambda _account: LookupTrail(client, limiter=RateLimiter(FAST), now=lambda: now),
    )


def test_lookup_reads_every_page(aws: Any, trail: Trail) -> None:
    with LookupEndpoint(trail.records, page_size=2, rate=None) as endpoint:
        result = audit(aws, endpoint, now=at("2024-04-01T00:00:00"))
    check_evidence(result, no_trail_note="No CreateAccessKey event for this key was found in")
    assert any("NextToken" in body for body in endpoint.bodies)
    names = {b["LookupAttributes"][0]["AttributeValue"] for b in endpoint.bodies}
    assert names == {"CreateUser", "CreateLoginProfile", "CreateAccessKey"}
    # Only the minutes around the keys in question are asked for, never the 90 days.
    assert all(b["EndTime"] - b["StartTime"] < 3600 for b in endpoint.bodies)


def test_keys_older_than_the_event_history_say_so(aws: Any, trail: Trail) -> None:
    now = at("2024-06-01T00:00:00")  # lee's key (2024-02-10) is older than 90 days
    with LookupEndpoint(trail.records, rate=None) as endpoint:
        result = audit(aws, endpoint, now=now)
    lee = next(f for f in result.findings if f.user == "lee.later-self")
    assert (lee.status, lee.reason) == (Status.WARNING, Reason.UNUSED_KEY)
    assert lee.created_by is None
    assert lee.evidence_note is not None
    assert "before the oldest event LookupEvents keeps (2024-03-03T00:00:00Z)" in lee.evidence_note
    horizon = (now - timedelta(days=90)).timestamp()
    assert all(b["StartTime"] >= horizon for b in endpoint.bodies)
    sam = next(f for f in result.findings if f.user == "sam.self-made")
    assert sam.reason is Reason.SELF_CREATED  # March is still within reach


def test_two_requests_a_second_and_throttling_is_retried(aws: Any) -> None:
    t = at("2024-03-04T10:00:00")
    records = [
        record("CreateUser", ADMIN, t, user="kim"),
        record("CreateLoginProfile", ADMIN, t + 2 * S, user="kim"),
        record("CreateAccessKey", ADMIN, t + 9 * S, user="kim", key_id="AKIAKIMSETUPKEY00001"),
        record(
            "CreateAccessKey", iam_user("kim"), t + 300 * S, user=None, key_id="AKIAKIMOWNKEY000002"
        ),
    ]
    with LookupEndpoint(records, page_size=1, throttle=(2, 4)) as endpoint:
        reader = LookupTrail(
            cloudtrail_client(aws, endpoint), now=lambda: at("2024-04-01T00:00:00")
        )
        evidence = reader.read(ACCOUNT, "aws", [TimeRange(t - 600 * S, t + 900 * S)])
    assert sorted(e.access_key_id or e.name.value for e in evidence.events) == [
        "AKIAKIMOWNKEY000002",
        "AKIAKIMSETUPKEY00001",
        "CreateLoginProfile",
        "CreateUser",
    ]
    # 4 pages (one event each) and the 2 throttled attempts, retried by botocore.
    assert endpoint.throttled == [2, 4]
    assert len(endpoint.arrivals) == 6
    # Never faster than 2 a second, retries included: the endpoint saw no rate breach.
    assert endpoint.too_fast == 0
    gaps = [b - a for a, b in itertools.pairwise(endpoint.arrivals)]
    assert min(gaps) >= 0.45, gaps


def test_the_rate_and_the_retries_run_on_the_context_policy(aws: Any) -> None:
    """The reader that ``--cloudtrail lookup`` makes: its client is the context's, retried
    by the context's policy (no second layer), and the rate limiter waits on that policy's
    clock and sleep, so an injected sleep keeps 2 requests a second without real waiting."""
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    retry = RetryPolicy(sleep=sleep, clock=lambda: clock[0], jitter=lambda: 1.0)
    t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    records = [
        record("CreateUser", ADMIN, t, user="kim"),
        record("CreateAccessKey", ADMIN, t + 9 * S, user="kim", key_id="AKIAKIMSETUPKEY00001"),
    ]
    sent: list[float] = []
    with LookupEndpoint(records, page_size=1, throttle=(2, 4), rate=None) as endpoint:
        context = AwsContext.open(
            session=aws.session(), endpoint_url=endpoint.url, retry=retry
        ).signed_in_as(aws.session(), Identity(ACCOUNT, "aws", ADMIN.identity["arn"]))
        reader = trail_readers(TrailSpec("lookup"))(LiveAccount(context))
        assert isinstance(reader, LookupTrail)
        reader._client.meta.events.register(  # after the limiter's own hook
            "before-send.cloudtrail.LookupEvents", lambda **_: sent.append(clock[0])
        )
        evidence = reader.read(ACCOUNT, "aws", [TimeRange(t - 600 * S, t + 900 * S)])
    assert sorted(e.access_key_id or e.name.value for e in evidence.events) == [
        "AKIAKIMSETUPKEY00001",
        "CreateUser",
    ]
    # A page for each of the 3 event names, and the 2 throttled attempts, retried once
    # each by the policy (after a wait of base * jitter = 1 s).
    assert endpoint.throttled == [2, 4]
    assert len(endpoint.arrivals) == len(sent) == 5
    assert sleeps.count(1.0) >= 2
    # Every attempt, retries included, at least 0.5 s after the one before on the policy's clock.
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.5, gaps


def test_denied_lookup_is_an_access_error_naming_the_policy(aws: Any, trail: Trail) -> None:
    with (
        LookupEndpoint(trail.records, rate=None, deny=True) as endpoint,
        pytest.raises(initkeys.AccessError) as caught,
    ):
        audit(aws, endpoint, now=at("2024-04-01T00:00:00"))
    message = str(caught.value)
    assert "access denied for cloudtrail:LookupEvents (AccessDeniedException)" in message
    assert "'initkeys policy audit --cloudtrail lookup'" in message


def test_cli_audit_with_lookup(aws: Any) -> None:
    """The command line, as a user runs it: IAM and STS at the emulator, CloudTrail at
    the endpoint (AWS_ENDPOINT_URL_<SERVICE>), the real clock and the real rate."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    t = now - timedelta(days=20)
    s = Scenario(aws)
    s.user("kim", t)
    own = s.key("kim", t + 240 * S)
    s.user("ola", t + 3600 * S)
    setup = s.key("ola", t + 3630 * S)
    s.settle(now)
    records = [
        record("CreateUser", ADMIN, t, user="kim"),
        record(
            "CreateAccessKey", iam_user("kim"), t + 240 * S, user=None, key_id=own.access_key_id
        ),
        record("CreateUser", ADMIN, t + 3600 * S, user="ola"),
        record("CreateAccessKey", ADMIN, t + 3630 * S, user="ola", key_id=setup.access_key_id),
    ]
    with LookupEndpoint(records) as endpoint:
        env = dict(
            os.environ,
            AWS_ENDPOINT_URL_IAM=aws.endpoint_url,
            AWS_ENDPOINT_URL_STS=aws.endpoint_url,
            AWS_ENDPOINT_URL_CLOUDTRAIL=endpoint.url,
        )
        proc = here(["audit", "--cloudtrail", "lookup", "--format", "json"], env)
    assert proc.returncode == 1, proc.stderr
    findings = {f["user"]: f for f in json.loads(proc.stdout)["accounts"][0]["findings"]}
    assert (findings["kim"]["status"], findings["kim"]["reason"]) == ("PASS", "self-created")
    assert findings["kim"]["created_via"] == "cli"
    assert (findings["ola"]["status"], findings["ola"]["created_by"]) == (
        "FAIL",
        ADMIN.identity["arn"],
    )
    assert endpoint.too_fast == 0
