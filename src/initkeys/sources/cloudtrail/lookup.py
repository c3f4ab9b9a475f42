"""``--cloudtrail lookup``: ``LookupEvents``, at most 2 requests a second."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from initkeys.aws import access_errors
from initkeys.aws.retry import DEFAULT_POLICY, RetryPolicy
from initkeys.inputs import BadJson, load_json
from initkeys.model import EventName, TimeRange, TrailEvidence
from initkeys.sources.cloudtrail import limits
from initkeys.sources.cloudtrail.collect import Collector
from initkeys.sources.cloudtrail.limits import describe_size
from initkeys.sources.cloudtrail.records import EVENT_NAMES, BadRecord
from initkeys.timeutil import as_utc

# LookupEvents: the event history holds 90 days; 2 requests a second per account and region.
LOOKUP_DAYS = 90
LOOKUP_RATE = 2.0
# What we send: a tenth under the limit, because AWS counts requests as they arrive, and
# network delay can bring two evenly sent requests closer together than they left.
_LOOKUP_PACE = LOOKUP_RATE * 0.9
_LOOKUP_PAGE = 50  # the API's largest page


class RateLimiter:
    """At most ``rate`` requests a second, evenly spaced: a token bucket holding one
    token, so that no burst can exceed the rate in any one second. Threads wait
    their turn. It waits on the clock and sleep of ``policy`` (the AWS context's
    retry policy, whose retries it spaces too), unless ``clock`` or ``sleep`` is given."""

    def __init__(
        self,
        rate: float = LOOKUP_RATE,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock or policy.clock
        self._sleep = sleep or policy.sleep
        self._lock = threading.Lock()
        self._next: float | None = None

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if self._next is not None and now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class LookupTrail:
    """``LookupEvents`` in one account's home region, one event name at a time.

    Every HTTP attempt, the retries of a ``ThrottlingException`` included, first
    waits for the rate limiter, so the account's 2 requests a second are never
    exceeded by us. The client retries on its own (one made by an
    :class:`~initkeys.aws.AwsContext` with the context's ``retry``, which is also
    the limiter's clock and sleep): no second layer of retries is added here.
    """

    source = "LookupEvents"

    def __init__(
        self,
        client: Any,
        *,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        policy: str = "audit",
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self._client = client
        self._policy = policy
        self._limiter = limiter or RateLimiter(_LOOKUP_PACE, policy=retry)
        self._now = now
        client.meta.events.register(
            "before-send.cloudtrail.LookupEvents", lambda **_: self._limiter.wait()
        )

    def read(self, account_id: str, partition: str, ranges: Sequence[TimeRange]) -> TrailEvidence:
        del partition  # the client is already in the partition's home region
        now = as_utc(self._now())
        horizon = now - timedelta(days=LOOKUP_DAYS)
        reachable = [
            TimeRange(max(r.start, horizon), min(r.end, now))
            for r in ranges
            if r.end >= horizon and r.start <= now
        ]
        collector = Collector(account_id)
        for span in reachable:
            for name in EVENT_NAMES:
                # Past the limit, no more pages are asked for.
                if collector.records < limits.MAX_RECORDS:
                    collector.add_records(self._records(name, span))
                else:
                    collector.capped = True
        return collector.evidence(self.source, reachable, log_files=False, horizon=horizon)

    def _records(self, name: EventName, span: TimeRange) -> Iterator[Any]:
        """The page's records, and a :class:`BadRecord` for each ``CloudTrailEvent``
        that is not one (counted in the evidence note, like a bad record in a file)."""
        request: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name.value}],
            "StartTime": span.start,
            "EndTime": span.end,
            "MaxResults": _LOOKUP_PAGE,
        }
        while True:
            with access_errors(
                "cloudtrail:LookupEvents", policy=self._policy, policy_args=" --cloudtrail lookup"
            ):
                page = self._client.lookup_events(**request)
            for event in page.get("Events", []):
                yield lookup_record(event)
            token = page.get("NextToken")
            if not token:
                return
            request["NextToken"] = token


def lookup_record(event: Any) -> Any:
    """One ``LookupEvents`` result's ``CloudTrailEvent``, decoded (:func:`load_json`), or
    a :class:`BadRecord` saying why it is not a record."""
    text = event.get("CloudTrailEvent") if isinstance(event, Mapping) else None
    if not isinstance(text, str):
        return BadRecord("CloudTrailEvent is not a JSON string")
    if len(text) > limits.MAX_EVENT_CHARS:
        return BadRecord(f"CloudTrailEvent is longer than {describe_size(limits.MAX_EVENT_CHARS)}")
    try:
        return load_json(text)
    except BadJson:
        return BadRecord("CloudTrailEvent is not JSON initkeys reads")
