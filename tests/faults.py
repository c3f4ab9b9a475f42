"""A small fault-injecting HTTP proxy between initkeys and the emulator.

It forwards every request to the emulator, except those a rule answers itself
(throttling, expired tokens, a report that is never ready), so the real
botocore stack meets real error responses on the wire. A rule can also drop
the connection (before or after the emulator acted) or hold a request back.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Drop:
    """Close the connection without an answer; ``after_forward``: once the emulator acted."""

    after_forward: bool = False


@dataclass(frozen=True)
class Delay:
    """Hold the request this long, then forward it (even if the client has gone)."""

    seconds: float


DROP = Drop()
DROP_AFTER_FORWARD = Drop(after_forward=True)

# A rule sees the API action (or, for REST APIs, the request path) and how many
# times it was asked for so far (1 for the first), and returns (status, body:
# XML, or JSON for REST APIs) to answer itself, a Drop or
# a Delay, or None to forward the request.
Rule = Callable[[str, int], "tuple[int, str] | Drop | Delay | None"]


def error_xml(code: str, message: str = "injected by the test") -> str:
    return (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )


def report_state_xml(state: str) -> str:
    return (
        '<GenerateCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<GenerateCredentialReportResult><State>{state}</State>"
        "<Description>injected by the test</Description></GenerateCredentialReportResult>"
        "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
        "</GenerateCredentialReportResponse>"
    )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client killed mid-request (a test does that on purpose) is no news


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        rule: Rule,
        rewrite: Callable[[str, bytes], bytes] | None = None,
    ) -> None:
        """``rewrite(action, body)``: what the client gets instead of the emulator's answer
        to a forwarded request (for answers a test changes, such as a shorter session)."""
        self.upstream = urllib.parse.urlsplit(upstream)
        self.rule = rule
        self.rewrite = rewrite
        self.counts: dict[str, int] = {}
        self.injected: dict[str, int] = {}
        # Every request that reached the emulator: (action, its parameters).
        self.forwarded: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def do_POST(self) -> None:
                with proxy._lock:
                    proxy._in_flight += 1
                try:
                    self._handle()
                finally:
                    with proxy._idle:
                        proxy._in_flight -= 1
                        proxy._idle.notify_all()

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                # Query APIs (IAM, STS) name the action; REST APIs (Security Hub) the path.
                action = query.get("Action", [self.path.split("?")[0]])[0]
                with proxy._lock:
                    count = proxy.counts[action] = proxy.counts.get(action, 0) + 1
                proxy._local.params = {k: v[0] for k, v in query.items()}
                proxy._local.headers = {k.lower(): v for k, v in self.headers.items()}
                answer = proxy.rule(action, count)
                if isinstance(answer, Delay):
                    time.sleep(answer.seconds)
                    answer = None
                if answer is not None:
                    with proxy._lock:
                        proxy.injected[action] = proxy.injected.get(action, 0) + 1
                if isinstance(answer, Drop):
                    if answer.after_forward:
                        self._send_upstream(action, query, body)
                    self.close_connection = True  # no answer: the client sees a dropped line
                    return
                if answer is not None:
                    status, text = answer
                    self._reply(status, text.encode(), "text/xml")
                    return
                status, data, content_type = self._send_upstream(action, query, body)
                if proxy.rewrite is not None:
                    data = proxy.rewrite(action, data)
                self._reply(status, data, content_type)

            def _send_upstream(
                self, action: str, query: dict[str, list[str]], body: bytes
            ) -> tuple[int, bytes, str]:
                with proxy._lock:
                    proxy.forwarded.append((action, {k: v[0] for k, v in query.items()}))
                up = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                up.request("POST", self.path, body=body, headers=headers)
                response = up.getresponse()
                data = response.read()
                up.close()
                return response.status, data, response.getheader("Content-Type") or "text/xml"

            def _reply(self, status: int, data: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True  # the client went away (killed)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def params(self) -> dict[str, str]:
        """The parameters of the request a rule is judging (for rules about one key)."""
        return dict(getattr(self._local, "params", {}))

    @property
    def headers(self) -> dict[str, str]:
        """The headers (lower-case names) of the request a rule is judging."""
        return dict(getattr(self._local, "headers", {}))

    def calls(self, action: str, **params: str) -> int:
        """How many ``action`` requests with these parameters reached the emulator."""
        with self._lock:
            return sum(
                1
                for name, query in self.forwarded
                if name == action and all(query.get(k) == v for k, v in params.items())
            )

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until no request is being held or forwarded."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout):
                raise TimeoutError("the proxy still has requests in flight")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def instant_retries() -> Any:
    """A retry policy whose waits move a clock of its own instead of sleeping: for tests
    that need the retries (and the report's time-out), not the wall time."""
    from initkeys.aws import RetryPolicy

    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return RetryPolicy(sleep=sleep, clock=lambda: now[0])
