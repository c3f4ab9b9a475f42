"""How conftest starts the tests' emulator: ``initkeys.demo.emulator``'s own main, plus
what only the tests want (a test tool, not part of initkeys).

- moto's CloudFormation imports API Gateway, which imports jsonschema, whose
  FormatChecker imports rfc3987_syntax: some forty lark grammars built at import, about
  2 s of CPU in every emulator that deploys a stack. It only checks the "iri" formats of
  OpenAPI documents, which no test sends, so it is left out here as in conftest.
- ``INITKEYS_EMULATOR_PROFILE=DIR`` runs the emulator with every thread under cProfile
  and writes ``DIR/emulator-<pid>.prof`` on exit (read it with ``pstats``). cProfile
  sees only the thread that enables it, and moto answers each request in a thread of its
  own, so every thread gets a profiler and they are merged at the end.
"""

from __future__ import annotations

import contextlib
import cProfile
import os
import pstats
import sys
import threading
from pathlib import Path
from typing import Any

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from initkeys.demo.emulator import main  # noqa: E402  (after the import block above)

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
    profile_dir = os.environ.get("INITKEYS_EMULATOR_PROFILE")
    sys.exit(profiled_main(Path(profile_dir)) if profile_dir else main())
