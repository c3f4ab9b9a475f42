"""A small CloudTrail endpoint that answers LookupEvents, in its JSON 1.1 protocol.

The emulator (moto) does not implement LookupEvents, so the tests serve it
themselves, from CloudTrail records, to the real botocore stack: filtered by
event name and time, newest first, in pages tied to their NextToken, with
``ThrottlingException`` when a request comes sooner than the 2 a second AWS
allows, or when a test asks for one.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


def _epoch(stamp: str) -> float:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return moment.timestamp()


class LookupEndpoint:
    def __init__(
        self,
        records: Iterable[dict[str, Any]],
        *,
        page_size: int = 50,
        throttle: Iterable[int] = (),
        rate: float | None = 2.0,
        deny: bool = False,
    ) -> None:
        """``throttle``: request numbers (1 for the first) answered with a throttle;
        ``rate``: the requests a second beyond which a request is throttled (None: any);
        ``deny``: answer every request AccessDeniedException."""
        self.records = sorted(records, key=lambda r: _epoch(r["eventTime"]), reverse=True)
        self.page_size = page_size
        self.throttle = frozenset(throttle)
        self.rate = rate
        self.deny = deny
        self.arrivals: list[float] = []
        self.bodies: list[dict[str, Any]] = []
        self.throttled: list[int] = []
        self.too_fast = 0
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = endpoint.answer(self.headers.get("X-Amz-Target", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
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

    def __enter__(self) -> LookupEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            previous = self.arrivals[-1] if self.arrivals else None
            self.arrivals.append(now)
            number = len(self.arrivals)
            request = json.loads(body or b"{}")
            self.bodies.append(request)
            # A little slack for the network between the client's clock and ours.
            if self.rate and previous is not None and now - previous < 1 / self.rate - 0.05:
                self.too_fast += 1
                return _error("ThrottlingException", "Rate exceeded")
            if number in self.throttle:
                self.throttled.append(number)
                return _error("ThrottlingException", "Rate exceeded")
        if self.deny:
            return _error("AccessDeniedException", "User is not authorized to LookupEvents")
        if target != TARGET:
            return _error("UnknownOperationException", target)
        return self._page(request)

    def _page(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        wanted = {
            a["AttributeKey"]: a["AttributeValue"] for a in request.get("LookupAttributes", [])
        }
        start = float(request.get("StartTime", 0))
        end = float(request.get("EndTime", 1e12))
        matching = [
            r
            for r in self.records
            if start <= _epoch(r["eventTime"]) <= end
            and wanted.get("EventName", r["eventName"]) == r["eventName"]
        ]
        # A token belongs to the query it continues, as in AWS.
        query = hashlib.sha256(
            json.dumps(
                {k: v for k, v in request.items() if k != "NextToken"}, sort_keys=True
            ).encode()
        ).hexdigest()[:12]
        offset = 0
        if "NextToken" in request:
            token_query, _, position = str(request["NextToken"]).partition(":")
            if token_query != query:
                return _error("InvalidNextTokenException", "the token is for another query")
            offset = int(position)
        size = min(int(request.get("MaxResults", 50)), self.page_size)
        page = matching[offset : offset + size]
        answer: dict[str, Any] = {"Events": [_event(r) for r in page]}
        if offset + size < len(matching):
            answer["NextToken"] = f"{query}:{offset + size}"
        return 200, answer


RAW = "__CloudTrailEvent__"
"""A record holding this key is served with its value as ``CloudTrailEvent`` (a hostile
string), instead of the record as JSON: the record's other fields still find it."""


def _event(record: dict[str, Any]) -> dict[str, Any]:
    """A LookupEvents event: a summary, and the whole record as a JSON string."""
    identity = record.get("userIdentity", {})
    return {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "false",
        "AccessKeyId": identity.get("accessKeyId"),
        "EventTime": _epoch(record["eventTime"]),
        "EventSource": record["eventSource"],
        "Username": identity.get("userName") or identity.get("arn", "").rsplit("/", 1)[-1],
        "Resources": [{"ResourceType": "AWS::IAM::User", "ResourceName": _target(record)}],
        "CloudTrailEvent": record[RAW] if RAW in record else json.dumps(record),
    }


def _target(record: dict[str, Any]) -> str | None:
    parameters = record.get("requestParameters") or {}
    return parameters.get("userName")


def _error(code: str, message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"__type": code, "message": message}
