"""How conftest starts the tests' emulator: ``initkeys.demo.emulator``'s own main, plus
what only the tests want (a test tool, not part of initkeys).

- moto's CloudFormation imports API Gateway, which imports jsonschema, whose
  FormatChecker imports rfc3987_syntax: some forty lark grammars built at import, about
  2 s of CPU in every emulator that deploys a stack. It only checks the "iri" formats of
  OpenAPI documents, which no test sends, so it is left out here as in conftest.
- moto's per-request lookups of things that never change are remembered
  (:func:`_cache_moto_lookups`).
- ``INITKEYS_EMULATOR_PROFILE=DIR`` runs the emulator with every thread under cProfile
  and writes ``DIR/emulator-<pid>.prof`` on exit (read it with ``pstats``). cProfile
  sees only the thread that enables it, and moto answers each request in a thread of its
  own, so every thread gets a profiler and they are merged at the end.
"""

from __future__ import annotations

import contextlib
import cProfile
import functools
import os
import pstats
import sys
import threading
from pathlib import Path
from typing import Any

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from initkeys.demo.emulator import main  # noqa: E402  (after the import block above)


def _cache_moto_lookups() -> None:
    """Remember three answers moto works out again on every request, though they never
    change while it runs: about 2 of its 5 ms of CPU per request (measured with
    1,500 GetUser calls), on the tens of thousands of requests of a test run.

    - ``list_of_moto_modules`` lists moto's package folder (some 190 stats) to tell
      whether a host names a backend, up to twice a request;
    - ``get_backend_for_host`` then tries every backend's URL pattern on the host;
    - ``method_names_from_class`` lists a response class's methods with ``inspect``.

    Each is a function of moto's installed files and classes, so what moto answers does
    not change; only ``initkeys.demo.emulator`` outside the tests keeps stock moto.
    """
    from moto import backends
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = frozenset(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)

    backend_for_host = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}

    def cached_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        # moto calls this under its dispatcher's lock, so the dict needs no lock of its own.
        if host not in known:
            known[host] = backend_for_host(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = cached_backend_for_host  # type: ignore[method-assign]


_PROFILES: list[cProfile.Profile] = []
_LOCK = threading.Lock()


def _start_thread_profile(frame: Any, event: str, arg: Any) -> None:
    # The first profile event of a new thread: hand the thread over to cProfile.
    profile = cProfile.Profile()
    with _LOCK:
        _PROFILES.append(profile)
    profile.enable()


def profiled_main(out: Path) -> int:
    threading.setprofile(_start_thread_profile)
    main_profile = cProfile.Profile()
    _PROFILES.append(main_profile)
    main_profile.enable()
    try:
        return main()
    finally:
        main_profile.disable()
        with _LOCK:
            stats = pstats.Stats(_PROFILES[0])
            for profile in _PROFILES[1:]:
                with contextlib.suppress(TypeError):  # a thread that recorded no call
                    stats.add(profile)
        out.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(str(out / f"emulator-{os.getpid()}.prof"))


if __name__ == "__main__":
    _cache_moto_lookups()
    profile_dir = os.environ.get("INITKEYS_EMULATOR_PROFILE")
    sys.exit(profiled_main(Path(profile_dir)) if profile_dir else main())
