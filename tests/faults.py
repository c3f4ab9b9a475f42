"""A small fault-injecting HTTP proxy between initkeys and the emulator.

It forwards every request to the emulator, except those a rule answers itself
(throttling, expired tokens, a report that is never ready), so the real
botocore stack meets real error responses on the wire.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A rule sees the API action and how many times it was asked for so far
# (1 for the first), and returns (status, XML body) to answer itself, or None.
Rule = Callable[[str, int], "tuple[int, str] | None"]


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


class FaultProxy:
    def __init__(self, upstream: str, rule: Rule) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.rule = rule
        self.counts: dict[str, int] = {}
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get(
                    "Action", ["?"]
                )[0]
                with proxy._lock:
                    count = proxy.counts[action] = proxy.counts.get(action, 0) + 1
                answer = proxy.rule(action, count)
                if answer is not None:
                    with proxy._lock:
                        proxy.injected[action] = proxy.injected.get(action, 0) + 1
                    status, text = answer
                    self._reply(status, text.encode(), "text/xml")
                    return
                self._forward(body)

            def _forward(self, body: bytes) -> None:
                up = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                up.request("POST", self.path, body=body, headers=headers)
                response = up.getresponse()
                data = response.read()
                up.close()
                self._reply(response.status, data, response.getheader("Content-Type") or "text/xml")

            def _reply(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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
