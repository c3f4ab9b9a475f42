"""Wording for people: one place for durations, gaps and terminal-safe text."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.durations import parse_duration
from initkeys.humanize import (
    describe_duration,
    describe_gap,
    describe_window,
    short_duration,
    shown,
    signed_duration,
    terminal_safe,
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (42, "42s"),
        (60, "1m"),
        (423, "7m 3s"),
        (3600, "1h"),
        (5 * 3600 + 120 + 59, "5h 2m"),
        (86400, "1 day"),
        (12 * 86400, "12 days"),
        (729 * 86400, "729 days"),
        (3 * 365 * 86400, "3.0 years"),
    ],
)
def test_describe_duration(seconds: int, expected: str) -> None:
    assert describe_duration(timedelta(seconds=seconds)) == expected


def test_gaps_and_windows() -> None:
    assert describe_gap(timedelta(seconds=42)) == "42s after"
    assert describe_gap(timedelta(seconds=-5)) == "5s before"
    assert describe_gap(timedelta(0)) == "0s after"
    assert signed_duration(timedelta(seconds=-5)) == "-5s"
    assert signed_duration(timedelta(days=3)) == "3 days"
    assert describe_window(timedelta(minutes=10)) == "10m (600s)"


@pytest.mark.parametrize(
    ("seconds", "expected"), [(600, "10m"), (3600, "1h"), (90, "90s"), (5400, "90m"), (1, "1s")]
)
def test_short_duration(seconds: int, expected: str) -> None:
    assert short_duration(timedelta(seconds=seconds)) == expected


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(min_value=1, max_value=30 * 86400))
def test_short_duration_is_read_back_by_the_duration_parser(seconds: int) -> None:
    tried("short_duration")
    window = timedelta(seconds=seconds)
    assert parse_duration(short_duration(window)) == window


def test_terminal_safe_and_shown() -> None:
    assert terminal_safe("alice") == "alice"
    assert terminal_safe("a b\x1b[31m\n\u202e\ud800é") == "a b\\x1b[31m\\n\\u202e\\ud800é"
    assert shown("x" * 200) == "x" * 200
    assert shown("\x07" + "x" * 300) == "\\x07" + "x" * 199 + "..."


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text())
def test_terminal_safe_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    tried("terminal_safe")
    assert all(ch.isprintable() for ch in terminal_safe(text))


def test_formats_do_not_import_the_evaluator_for_wording() -> None:
    """Display helpers live in humanize: every format loads without the evaluator."""
    code = (
        "import sys\n"
        "from initkeys.formats import FORMAT_NAMES, get_formatter\n"
        "for name in FORMAT_NAMES:\n"
        "    get_formatter(name)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('initkeys.evaluate'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
