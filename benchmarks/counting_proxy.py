"""A counting HTTP proxy on loopback, in front of the emulator, for benchmarks.

Every tool under test gets this proxy's URL as its AWS endpoint, so every request
it makes is counted here by AWS operation (``iam:ListUsers``), whatever SDK or
client-side counter the tool has. We count HTTP requests as they arrive, so a
retried call counts once per attempt: that is what an account's API quota sees.

The same proxy is also the tool's ``HTTPS_PROXY``: a tool that ignores
``AWS_ENDPOINT_URL`` for some client (a hard-coded regional STS endpoint, a
version check on the internet) then asks this proxy to reach the outside, and we
refuse and record the host instead of letting traffic leave 127.0.0.1.

With a :class:`Realism`, the proxy also behaves like AWS seen from afar: every
answer waits a jittered delay (the network), ``GenerateCredentialReport`` says
STARTED (the emulator), then INPROGRESS, until some seconds after an account first asked, and
IAM and STS calls over a per-account or per-principal rate get the ``Throttling``
error those services send. See :class:`Realism` for the rates and their source.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Headers that describe one hop, not the message: never forwarded as they came.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# SigV4: "Credential=AKID/20261127/us-east-1/iam/aws4_request" names the service.
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
# AssumeRole: the member account is in the role's ARN; the answer names the new key.
_ROLE_ACCOUNT = re.compile(r"arn:[\w-]+:iam::(\d{12}):role/")
_NEW_KEY = re.compile(rb"<AccessKeyId>([A-Z0-9]+)</AccessKeyId>")
# The account moto gives the long-term test credentials ("testing").
DEFAULT_ACCOUNT = "123456789012"
# Bounds: the proxy's own state never grows without limit, whatever a client sends.
_MAX_PRINCIPALS = 200_000
_MAX_DELAY = 10.0
_XMLNS = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


@dataclass(frozen=True)
class Rate:
    """A token bucket: ``per_second`` tokens a second, at most ``burst`` saved up."""

    per_second: float
    burst: float


@dataclass(frozen=True)
class Realism:
    """How far away and how strict the emulated AWS is.

    ``latency``: seconds each answer waits, jittered uniformly by ``jitter``
    (0.2: ±20 %) from a generator seeded with ``seed``, so runs are repeatable.
    ``report_delay``: seconds after an account's first GenerateCredentialReport
    until the report is COMPLETE (STARTED on that first call, INPROGRESS after).

    Rates. AWS publishes no request rate for IAM or STS: its quota page lists only
    object sizes and counts, the IAM/STS throttling article ("Throttling: Rate
    exceeded", HTTP 400) says the limits are per account and cannot be raised, and
    the AWS Security Blog ("How to monitor and query IAM resources at scale, part
    2") says both services throttle with token buckets whose size and refill
    depend on the API, without numbers. A call counts against the account its
    credentials belong to (the assumed role's account, not the caller's). So the
    numbers here are our own, chosen low on purpose: IAM 20 calls/s (burst 40) per
    account and 10/s (burst 20) per principal (one access key, so one role
    session); STS 50/s (burst 100) per account and 20/s (burst 40) per principal.
    Only IAM and STS are throttled; Organizations' ListAccounts is not.
    """

    latency: float = 0.060
    jitter: float = 0.2
    seed: int = 13
    report_delay: float = 4.0
    iam_account: Rate = Rate(20, 40)
    iam_principal: Rate = Rate(10, 20)
    sts_account: Rate = Rate(50, 100)
    sts_principal: Rate = Rate(20, 40)

    def __post_init__(self) -> None:
        if not (0 <= self.latency <= _MAX_DELAY and 0 <= self.jitter < 1):
            raise ValueError("latency must be 0..10 s and jitter 0..1")
        if not 0 <= self.report_delay <= 600:
            raise ValueError("report_delay must be 0..600 s")


class _Buckets:
    """Token buckets by key, refilled lazily on each take (no timer thread)."""

    def __init__(self, rate: Rate) -> None:
        self._rate = rate
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str, now: float) -> bool:
        tokens, when = self._state.get(key, (self._rate.burst, now))
        tokens = min(self._rate.burst, tokens + (now - when) * self._rate.per_second)
        if len(self._state) < _MAX_PRINCIPALS or key in self._state:
            self._state[key] = (tokens - 1 if tokens >= 1 else tokens, now)
        return tokens >= 1


def operation(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """``service:Operation`` of one AWS request, from what is on the wire.

    Query protocols (IAM, STS, EC2) name the action in the form body or query
    string; JSON protocols (Organizations, ...) in ``X-Amz-Target``; REST
    protocols only by method and path, so those count as ``service:GET /path``.
    """
    scope = _SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "unsigned"
    target = headers.get("x-amz-target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    parts = urlsplit(path)
    action = parse_qs(parts.query).get("Action")
    if not action and "x-www-form-urlencoded" in headers.get("content-type", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return f"{service}:{action[0]}"
    return f"{service}:{method} {parts.path}"


class CountingProxy:
    """Forwards to ``upstream`` (``http://127.0.0.1:PORT``), counting; refuses the rest.

    Use as a context manager; :attr:`url` is the endpoint to give the tools.
    """

    def __init__(self, upstream: str, realism: Realism | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError(f"the upstream must be on loopback, not {upstream}")
        self._upstream = (parts.hostname, parts.port or 80)
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.blocked: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()  # by operation
        # By the bucket that was empty ("sts:principal", "iam:account"...): which bites first.
        self.throttled_by: Counter[str] = Counter()
        # Time the emulator took to answer what was forwarded: is it the bottleneck?
        self.upstream_seconds = 0.0
        self.forwarded = 0
        self.realism = realism
        self._random = random.Random(realism.seed if realism else 0)
        self._accounts: dict[str, str] = {}  # access key id -> account
        self._first_report: dict[str, float] = {}  # account -> first Generate call
        self._buckets: dict[str, _Buckets] = {}
        if realism is not None:
            self._buckets = {
                "iam:account": _Buckets(realism.iam_account),
                "iam:principal": _Buckets(realism.iam_principal),
                "sts:account": _Buckets(realism.sts_account),
                "sts:principal": _Buckets(realism.sts_principal),
            }
        self._local = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="counting-proxy", daemon=True
        )

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def count(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    def reset(self) -> None:
        """Forget counts, throttles and report timers (between two measured runs);
        the access keys learnt from AssumeRole are kept, they stay valid."""
        with self._lock:
            self.calls.clear()
            self.blocked.clear()
            self.throttled.clear()
            self.throttled_by.clear()
            self.upstream_seconds = 0.0
            self.forwarded = 0
            self._first_report.clear()
            for buckets in self._buckets.values():
                buckets._state.clear()

    def delay(self) -> float:
        """Seconds this answer waits: the latency, jittered (0 without realism)."""
        if self.realism is None:
            return 0.0
        with self._lock:
            spread = self._random.uniform(-self.realism.jitter, self.realism.jitter)
        return self.realism.latency * (1 + spread)

    def account_of(self, key: str) -> str:
        with self._lock:
            return self._accounts.get(key, DEFAULT_ACCOUNT)

    def learn(self, key: bytes, account: str) -> None:
        with self._lock:
            if len(self._accounts) < _MAX_PRINCIPALS:
                self._accounts[key.decode("ascii")] = account

    def admit(self, op: str, key: str) -> bool:
        """False if this IAM or STS call is over its account's or its principal's rate."""
        service = op.split(":", 1)[0]
        if self.realism is None or service not in {"iam", "sts"}:
            return True
        account = self.account_of(key)
        now = time.monotonic()
        with self._lock:
            # Both buckets are charged, as AWS would count the call against both.
            by_account = self._buckets[f"{service}:account"].take(account, now)
            by_principal = self._buckets[f"{service}:principal"].take(key, now)
            if by_account and by_principal:
                return True
            self.throttled[op] += 1
            for scope, admitted in (("account", by_account), ("principal", by_principal)):
                if not admitted:
                    self.throttled_by[f"{service}:{scope}"] += 1
            return False

    def report_state(self, key: str) -> str | None:
        """What the proxy answers to this GenerateCredentialReport, None: the emulator's.

        An account's first call answers STARTED (the call still reaches the emulator,
        which makes its report then, so a later run on the same emulator starts over
        too); until ``report_delay`` seconds later, INPROGRESS; after that the
        emulator answers, COMPLETE."""
        if self.realism is None:
            return None
        account = self.account_of(key)
        now = time.monotonic()
        with self._lock:
            first = self._first_report.get(account)
            if first is None:
                if len(self._first_report) < _MAX_PRINCIPALS:
                    self._first_report[account] = now
                return "STARTED"
        return "INPROGRESS" if now - first < self.realism.report_delay else None

    def served(self, seconds: float) -> None:
        with self._lock:
            self.upstream_seconds += seconds
            self.forwarded += 1

    def block(self, host: str) -> None:
        with self._lock:
            self.blocked[host] += 1

    def upstream(self, fresh: bool = False) -> http.client.HTTPConnection:
        """This handler thread's keep-alive connection to the emulator."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            host, port = self._upstream
            conn = http.client.HTTPConnection(host, port, timeout=300)
            self._local.conn = conn
        return conn


def _make_handler(proxy: CountingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as SDKs expect: one TCP connection serves many calls.
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_CONNECT(self) -> None:
            # An HTTPS tunnel to anywhere: the tool went around its endpoint.
            proxy.block(self.path)
            self._refuse()

        def _refuse(self) -> None:
            body = b"blocked by the benchmark: only the emulator on 127.0.0.1 is reachable\n"
            self.send_response(403)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self) -> None:
            path = self.path
            if "://" in path:
                # Absolute form: a plain-HTTP proxy request. Only our own address passes.
                parts = urlsplit(path)
                if parts.netloc != urlsplit(proxy.url).netloc:
                    proxy.block(parts.netloc)
                    self._refuse()
                    return
                path = parts.path + (f"?{parts.query}" if parts.query else "")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            op = operation(self.command, path, headers, body)
            proxy.count(op)
            state: str | None = None
            if proxy.realism is not None:
                time.sleep(proxy.delay())  # the network, both ways, before any answer
                found = _ACCESS_KEY.search(headers.get("authorization", ""))
                key = found.group(1) if found else "unsigned"
                if not proxy.admit(op, key):
                    self._aws_answer(op, 400, "Throttling", "Rate exceeded")
                    return
                if op == "iam:GenerateCredentialReport":
                    state = proxy.report_state(key)
                    if state == "INPROGRESS":
                        self._aws_answer(op, 200, state, "")
                        return
            send = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            began = time.perf_counter()
            for attempt in (0, 1):
                conn = proxy.upstream(fresh=attempt > 0)
                try:
                    conn.request(self.command, path, body=body, headers=send)
                    response = conn.getresponse()
                    data = response.read()
                    break
                except (ConnectionError, http.client.HTTPException):
                    # The emulator closed an idle keep-alive connection: reconnect once.
                    if attempt:
                        raise
            proxy.served(time.perf_counter() - began)
            if state == "STARTED" and response.status == 200:
                self._aws_answer(op, 200, state, "")
                return
            if op == "sts:AssumeRole" and response.status == 200:
                # Later calls signed with the new key count against the member account.
                role = _ROLE_ACCOUNT.search(
                    parse_qs(body.decode("utf-8", "replace")).get("RoleArn", [""])[0]
                )
                new_key = _NEW_KEY.search(data)
                if role and new_key:
                    proxy.learn(new_key.group(1), role.group(1))
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _aws_answer(self, op: str, status: int, code: str, message: str) -> None:
            """An answer made here, in the query protocol's XML: a Throttling error,
            or GenerateCredentialReport's state (``code``) while the report is made."""
            service, action = op.split(":", 1)
            xmlns = _XMLNS.get(service, _XMLNS["iam"])
            request_id = "00000000-0000-4000-8000-000000000013"
            if status == 200:
                text = (
                    f'<{action}Response xmlns="{xmlns}"><{action}Result>'
                    f"<State>{code}</State><Description>Report generation in progress"
                    f"</Description></{action}Result><ResponseMetadata><RequestId>"
                    f"{request_id}</RequestId></ResponseMetadata></{action}Response>"
                )
            else:
                text = (
                    f'<ErrorResponse xmlns="{xmlns}"><Error><Type>Sender</Type>'
                    f"<Code>{code}</Code><Message>{message}</Message></Error>"
                    f"<RequestId>{request_id}</RequestId></ErrorResponse>"
                )
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    return Handler
