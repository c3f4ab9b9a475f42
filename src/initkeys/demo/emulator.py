"""An AWS emulator (moto) with a clock that tests and the demo can set.

Stock moto has no clock API in server mode, yet every IAM date the control
depends on (user and key creation, key last use) comes from moto's clock. We
replace ``moto.core.utils.utcnow`` with a function that reads a :class:`Clock`
and serve ``/_initkeys/clock`` next to moto's own endpoints:

- ``GET``    → ``{"now": "…Z", "frozen": bool}``
- ``POST``   ``{"now": "2022-03-01T10:00:00Z"}`` freezes time at that instant
- ``DELETE`` returns to real time

Run ``python -m initkeys.demo.emulator --port 0`` for a foreground emulator; it
prints ``ready <url>`` once it listens. moto is imported only when an emulator
starts, so importing this module stays cheap.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from types import FrameType
from typing import TYPE_CHECKING, Any

from initkeys.closing import Closing
from initkeys.errors import InputError
from initkeys.timeutil import format_utc, parse_utc

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "CLOCK_PATH",
    "Clock",
    "ClockMiddleware",
    "Emulator",
    "install_clock",
    "main",
    "parse_instant",
    "start_emulator",
]

CLOCK_PATH = "/_initkeys/clock"


class Clock:
    """Real UTC time, or a frozen instant. Safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None

    def set(self, dt: datetime) -> None:
        """Freeze time at ``dt``; a naive ``dt`` is taken as UTC."""
        with self._lock:
            self._frozen = to_naive_utc(dt)

    def reset(self) -> None:
        with self._lock:
            self._frozen = None

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen is not None

    def now(self) -> datetime:
        """Naive UTC, the way moto represents time."""
        with self._lock:
            frozen = self._frozen
        return frozen if frozen is not None else _real_utcnow()


def _real_utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_naive_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


def parse_instant(text: str) -> datetime:
    """``2022-03-01T10:00:00Z`` (or any ISO 8601 instant in 1970..9000) as naive UTC."""
    moment = parse_utc(text)
    if moment is None:
        raise ValueError(f"not a timestamp: {text[:40]!r}")
    return to_naive_utc(moment)


# moto's state is process-global, so one clock drives it: the last installed.
_active_clock: Clock | None = None
_original_utcnow: Callable[[], datetime] | None = None
_install_lock = threading.Lock()


def _clocked_utcnow() -> datetime:
    clock = _active_clock
    return clock.now() if clock is not None else _real_utcnow()


def install_clock(clock: Clock) -> None:
    """Make moto read time from ``clock``, in every moto module, loaded or not.

    Raises InputError when moto is not installed.
    """
    global _active_clock, _original_utcnow
    try:
        import moto.core.utils as moto_utils
    except ImportError as exc:
        from initkeys.demo import emulator_unavailable

        raise emulator_unavailable(exc) from exc
    with _install_lock:
        _active_clock = clock
        if _original_utcnow is None:
            _original_utcnow = moto_utils.utcnow
        # Backends loaded later (moto imports them lazily) run
        # ``from moto.core.utils import utcnow`` and get ours ...
        moto_utils.utcnow = _clocked_utcnow
        # ... while modules already loaded hold the original by name.
        _sweep_modules(_original_utcnow)


def _sweep_modules(original: Callable[[], datetime]) -> None:
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "moto" or name.startswith("moto.")):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                setattr(module, attr, _clocked_utcnow)


class ClockMiddleware:
    """Serves :data:`CLOCK_PATH`; hands every other request to moto's app."""

    def __init__(self, app: WSGIApplication, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != CLOCK_PATH:
            return self.app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method == "GET":
            return self._state(start_response)
        if method == "DELETE":
            self.clock.reset()
            return self._state(start_response)
        if method == "POST":
            try:
                self.clock.set(parse_instant(_read_now(environ)))
            except (ValueError, TypeError, KeyError) as exc:
                return _json(start_response, "400 Bad Request", {"error": f"bad clock: {exc}"})
            return self._state(start_response)
        return _json(
            start_response,
            "405 Method Not Allowed",
            {"error": f"{method} not allowed; use GET, POST or DELETE"},
            [("Allow", "GET, POST, DELETE")],
        )

    def _state(self, start_response: StartResponse) -> Iterable[bytes]:
        body = {"now": format_utc(self.clock.now()), "frozen": self.clock.frozen}
        return _json(start_response, "200 OK", body)


def _read_now(environ: WSGIEnvironment) -> str:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    payload = json.loads(raw.decode("utf-8") or "{}")
    if not isinstance(payload, dict) or not isinstance(payload.get("now"), str):
        raise ValueError('expected a JSON body like {"now": "2022-03-01T10:00:00Z"}')
    return str(payload["now"])


def _json(
    start_response: StartResponse,
    status: str,
    body: dict[str, Any],
    extra_headers: Sequence[tuple[str, str]] = (),
) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(status, [*headers, *extra_headers])
    return [data]


class Emulator(Closing):
    """A running in-process emulator; stop it with :meth:`stop` or ``with``."""

    def __init__(self, server: Any, thread: threading.Thread, clock: Clock, url: str) -> None:
        self._server = server
        self._thread = thread
        self.clock = clock
        self.endpoint_url = url
        self._stopped = False

    def set_time(self, dt: datetime) -> None:
        """Freeze the emulator's clock at ``dt`` (naive means UTC)."""
        self.clock.set(dt)

    def now(self) -> datetime:
        """The emulator's time, aware UTC."""
        return self.clock.now().replace(tzinfo=timezone.utc)

    def start_over(self, seed: int) -> None:
        """Forget every resource, and seed moto's random with ``seed``: the same calls
        then make the same ids (moto's state is the process's, shared by every
        emulator started in it)."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Seed moto's random (key and user ids) with ``seed``."""
        from moto.moto_api._internal import mock_random

        mock_random.seed(seed)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    close = stop  # what ``with`` calls


def start_emulator(host: str = "127.0.0.1", port: int = 0, clock: Clock | None = None) -> Emulator:
    """Run moto with a settable clock in a background thread; port 0 picks a free port.

    Raises InputError when moto (with its server extra) is not installed.
    """
    clock = clock if clock is not None else Clock()
    # Before moto's backends load, so that none of them keeps real time.
    install_clock(clock)
    try:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server
    except ImportError as exc:
        from initkeys.demo import emulator_unavailable

        raise emulator_unavailable(exc) from exc

    class QuietHandler(MotoRequestHandler):
        # One log line per request on stderr would drown the demo's output.
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    app = ClockMiddleware(DomainDispatcherApplication(create_backend_app), clock)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    except SystemExit as exc:
        # werkzeug exits the process when the port is taken; a library must not.
        raise OSError(f"cannot listen on {host}:{port}: address in use") from exc
    bound_port = int(server.server_port)
    url_host = f"[{host}]" if ":" in host else host
    # A short poll interval makes stop() take a tenth of a second, not half.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.1,), name="initkeys-emulator", daemon=True
    )
    thread.start()
    return Emulator(server, thread, clock, f"http://{url_host}:{bound_port}")


def main(argv: Sequence[str] | None = None) -> int:
    """Foreground emulator until SIGTERM or SIGINT; prints ``ready <url>`` when listening."""
    parser = argparse.ArgumentParser(
        prog="python -m initkeys.demo.emulator",
        description="AWS emulator (moto) with a settable clock at " + CLOCK_PATH,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        emulator = start_emulator(args.host, args.port)
    except (InputError, OSError) as exc:
        print(f"initkeys: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 3
    with emulator:
        print(f"ready {emulator.endpoint_url}", flush=True)
        # A timeout keeps the wait responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
