"""Durations as people write them (``90s``, ``10m``, ``1h30m``): plain Python, no click.

The command line and the event guard's Lambda function (whose runtime has no
click) read ``--setup-window`` and ``INITKEYS_SETUP_WINDOW`` with the same parser.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``10m``, ``1h``, ``1h30m``, or plain seconds (``600``)."""
    cleaned = text.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return timedelta(seconds=float(cleaned))
    if not cleaned or not re.fullmatch(r"(\d+(\.\d+)?(d|h|m|s))+", cleaned):
        raise ValueError(f"{text!r} is not a duration (examples: 90s, 10m, 1h)")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(cleaned))
    return timedelta(seconds=seconds)
