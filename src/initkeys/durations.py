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
        return _seconds(float(cleaned), text)
    if not cleaned or not re.fullmatch(r"(\d+(\.\d+)?(d|h|m|s))+", cleaned):
        raise ValueError(f"{text!r} is not a duration (examples: 90s, 10m, 1h)")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(cleaned))
    return _seconds(seconds, text)


def _seconds(seconds: float, text: str) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


MAX_SETUP_WINDOW = timedelta(days=30)
"""A key made a month after its user was not made "during initial setup": a longer
window would judge keys users made for themselves, and is refused as a mistake."""


def check_setup_window(window: timedelta) -> timedelta:
    """``window`` when it is more than 0 s and at most :data:`MAX_SETUP_WINDOW`; else ValueError."""
    if not timedelta(0) < window <= MAX_SETUP_WINDOW:
        raise ValueError(
            f"a setup window must be more than 0s and at most 30d, not {window.total_seconds():g}s"
        )
    return window


def parse_setup_window(text: str) -> timedelta:
    """A setup window as people write it (``10m``), checked by :func:`check_setup_window`."""
    return check_setup_window(parse_duration(text))
