"""A counting HTTP proxy on loopback, in front of the emulator, for benchmarks.

Every tool under test gets this proxy's URL as its AWS endpoint, so every request
it makes is counted here by AWS operation (``iam:ListUsers``), whatever SDK or
client-side counter the tool has. We count HTTP requests as they arrive, so a
retried call counts once per attempt: that is what an account's API quota sees.

The same proxy is also the tool's ``HTTPS_PROXY``: a tool that ignores
``AWS_ENDPOINT_URL`` for some client (a hard-coded regional STS endpoint, a
version check on the internet) then asks this proxy to reach the outside, and we
refuse and record the host instead of letting traffic leave 127.0.0.1.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections import Counter
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

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError(f"the upstream must be on loopback, not {upstream}")
        self._upstream = (parts.hostname, parts.port or 80)
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.blocked: Counter[str] = Counter()
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
            proxy.count(operation(self.command, path, headers, body))
            send = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
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
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    return Handler
