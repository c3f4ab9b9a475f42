"""The one retry policy for every AWS call initkeys makes, with an injectable clock and sleep.

botocore's standard mode decides *whether* an attempt may be retried (throttling,
transient 5xx, dropped connections); this policy decides *how often* and *how long
to wait*, and does the waiting through ``sleep`` (tests inject one, nothing sleeps
for real). One budget replaces the three layers there were (botocore's 10 retries,
a wrapper's 6 rounds around them, then the report polling): a throttled call may
be tried ``throttle_rounds`` times as often as any other, so throttling never aborts
an audit, and the credential report is polled on ``clock``/``sleep`` too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from initkeys.aws.errors import THROTTLING_CODES

# botocore's total attempts when neither the policy nor the user's AWS configuration
# (AWS_MAX_ATTEMPTS, the profile's max_attempts) says: standard mode with 10 retries.
DEFAULT_ATTEMPTS = 11
# How many times as many attempts a throttled call gets: throttling never aborts a run.
THROTTLE_ROUNDS = 6
_NO_LIMIT = 1_000_000  # botocore's own attempt limit is replaced by the policy's


@dataclass(frozen=True)
class PollSchedule:
    """The pauses between polls of a job AWS runs for us (the credential report):
    ``first`` seconds, ``growth`` times longer each time, at most ``cap``; the policy
    jitters each (x 0.5..1.5). The default came from benchmarks/report_polling.py and
    org_audit.py: a report takes seconds, so polling at 0.1 s only spends calls."""

    first: float = 1.0
    growth: float = 1.5
    cap: float = 4.0

    def delays(self) -> Iterator[float]:
        """The un-jittered pauses, one per poll that found the job unfinished."""
        delay = self.first
        while True:
            yield delay
            delay = min(delay * self.growth, self.cap)


REPORT_POLLING = PollSchedule()


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them.

    ``max_attempts``: attempts of a call (None: the user's AWS configuration, else
    :data:`DEFAULT_ATTEMPTS`); a throttled call gets ``throttle_rounds`` times as many.
    The wait before attempt n+1 is ``jitter() * min(base * 2**(n-1), cap)`` seconds.
    ``polling``: the pauses between credential report polls (each ``x (0.5 + jitter())``).
    """

    max_attempts: int | None = None
    throttle_rounds: int = THROTTLE_ROUNDS
    base: float = 1.0
    cap: float = 20.0
    polling: PollSchedule = REPORT_POLLING
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after ``attempt`` (1 for the first) failed."""
        return float(self.jitter() * min(self.base * 2 ** (attempt - 1), self.cap))

    def limit(self, attempts: int, throttled: bool) -> int:
        return attempts * self.throttle_rounds if throttled else attempts

    def attach(self, client: Any) -> None:
        """Make ``client``'s retries this policy's: botocore still classifies each
        failed attempt, the policy counts and waits (through ``sleep``)."""
        from botocore.retries.standard import (
            RetryContext,
            StandardRetryConditions,
            ThrottledRetryableChecker,
        )

        configured = client.meta.config.retries or {}
        budget = self.max_attempts or configured.get("total_max_attempts") or DEFAULT_ATTEMPTS
        retryable = StandardRetryConditions(max_attempts=_NO_LIMIT)
        throttling = ThrottledRetryableChecker()

        def needs_retry(
            attempts: int,
            response: Any = None,
            caught_exception: Any = None,
            operation: Any = None,
            request_dict: Any = None,
            **_: Any,
        ) -> float | bool:
            http, parsed = response if response is not None else (None, None)
            context = RetryContext(
                attempt_number=attempts,
                operation_model=operation,
                parsed_response=parsed,
                http_response=http,
                caught_exception=caught_exception,
                request_context=(request_dict or {}).get("context"),
            )
            if not retryable.is_retryable(context):
                return False  # False, not None: botocore's own handler is not asked
            code = str(((parsed or {}).get("Error") or {}).get("Code", ""))
            throttled = code in THROTTLING_CODES or throttling.is_retryable(context)
            if attempts >= self.limit(budget, throttled):
                return False
            self.sleep(self.backoff(attempts))
            return 0  # already waited: botocore sleeps 0 s and sends the next attempt

        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register_first(f"needs-retry.{service}", needs_retry)


DEFAULT_POLICY = RetryPolicy()
