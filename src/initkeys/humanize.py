"""Wording for people: durations, gaps and text made safe for a terminal.

The evaluator decides; the formats, the remediation plan and the commands say
it. Every human rendering of a duration lives here so that a report, a plan and
a message agree (``7m 3s`` everywhere), and the evaluator's ``message`` sentence
uses the same words. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "describe_duration",
    "describe_gap",
    "describe_window",
    "short_duration",
    "shown",
    "signed_duration",
    "terminal_safe",
]


def describe_duration(delta: timedelta) -> str:
    """A short human duration: 42s, 7m 3s, 5h 2m, 12 days, 3.1 years."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        m, s = divmod(seconds, 60)
        return f"{m}m {s}s" if s else f"{m}m"
    if seconds < 86400:
        h, rest = divmod(seconds, 3600)
        m = rest // 60
        return f"{h}h {m}m" if m else f"{h}h"
    days = seconds // 86400
    if days < 730:
        return f"{days} day" + ("" if days == 1 else "s")
    return f"{days / 365.25:.1f} years"


def describe_gap(gap: timedelta) -> str:
    """A key's creation against its user's: '42s after', '3 days after', '5s before'."""
    return f"{describe_duration(abs(gap))} {'before' if gap < timedelta(0) else 'after'}"


def signed_duration(gap: timedelta) -> str:
    """A gap as a signed duration for a table cell: '42s', '-5s' (key made before its user)."""
    return ("-" if gap < timedelta(0) else "") + describe_duration(abs(gap))


def describe_window(window: timedelta) -> str:
    """A setup window with its exact length: '10m (600s)'."""
    return f"{describe_duration(window)} ({int(window.total_seconds())}s)"


def short_duration(window: timedelta) -> str:
    """A duration as ``--setup-window`` takes it back: '1h', '10m', '90s' (whole seconds)."""
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0 and seconds:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def terminal_safe(text: str) -> str:
    """Control characters escaped: a crafted user name must not drive the terminal."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def shown(text: str) -> str:
    """Text read from a file, for an error line: short, control characters escaped."""
    return terminal_safe(text if len(text) <= 200 else text[:200] + "...")
