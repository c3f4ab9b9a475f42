"""Hypothesis strategies for the CloudTrail and guard fuzzers: realistic records and
events, mutated where it hurts (names, times, shapes, nesting), and bytes damaged."""

from __future__ import annotations

import copy
import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from scenario import at
from trail_records import (
    admin_in_console,
    cloudformation,
    console_user,
    iam_user,
    noise,
    record,
    terraform,
)

T = at("2024-03-04T10:00:00")
S = timedelta(seconds=1)
GUARD_EVENTS = sorted((Path(__file__).parent / "data" / "guard").glob("*.json"))

# Values that have broken readers before: names of every shape and case, times that
# overflow, a lone surrogate, huge and non-finite numbers.
_TRICKY = st.sampled_from(
    [
        "",
        "bob",
        "BOB",
        "alice",
        "sam",
        "a" * 65,
        "bob\x1b[2J",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        "2024-03-04T10:02:00Z",
        "2024-03-04",
        "\ud800",
        "iam.amazonaws.com",
        "CreateAccessKey",
        "CreateUser",
        "CreateLoginProfile",
        "IAMUser",
        "Root",
        "AssumedRole",
        "true",
        "123456789012",
        10**60,
        float("nan"),
        float("inf"),
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**45), max_value=10**45),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    _TRICKY,
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def realistic_records() -> list[dict[str, Any]]:
    """One of each kind of record the audit and the guard meet."""
    admin = admin_in_console()
    return [
        record("CreateUser", admin, T, user="sam"),
        record("CreateLoginProfile", admin, T + 2 * S, user="sam"),
        record("CreateAccessKey", admin, T + 5 * S, user="sam", key_id="AKIASAMSETUPKEY00001"),
        record("CreateAccessKey", iam_user("sam"), T + 120 * S, user=None, key_id="AKIASAMOWN1"),
        record("CreateAccessKey", console_user("Lee"), T + 9 * S, user="lee", key_id="AKIALEE1"),
        record("CreateUser", terraform(), T, user="svc"),
        record("CreateUser", cloudformation(), T, user="svc-cfn"),
        record("CreateAccessKey", iam_user("sam"), T, user=None, error="AccessDenied"),
        noise(T, admin),
    ]


# Made once: the records carry random ids, and hypothesis needs the same input each time.
RECORDS = realistic_records()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` that can be replaced or removed."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, original: Any, max_changes: int = 4) -> Any:
    """``original`` (a JSON document) with up to ``max_changes`` values replaced,
    removed or given a sibling, or made deeper."""
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(0, max_changes))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add", "nest"]))
        if action == "replace":
            parent[last] = draw(JSON_VALUES)
        elif action == "remove":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["userName", "errorCode", "type", "x"]))] = draw(
                JSON_VALUES
            )
        elif action == "nest":
            depth = draw(st.sampled_from([1, 5, 250]))
            value = parent[last]
            for _ in range(depth):
                value = [value]
            parent[last] = value
    return document


@st.composite
def damaged_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` cut, flipped, or with bytes put in: what a broken disk or a hostile
    writer makes of a file."""
    action = draw(st.sampled_from(["keep", "cut", "flip", "insert"]))
    if action == "keep" or not data:
        return data
    at_ = draw(st.integers(0, len(data) - 1))
    if action == "cut":
        return data[:at_]
    if action == "flip":
        return data[:at_] + bytes([data[at_] ^ draw(st.integers(1, 255))]) + data[at_ + 1 :]
    return data[:at_] + draw(st.binary(min_size=1, max_size=8)) + data[at_:]


@st.composite
def log_file_bytes(draw: st.DrawFn) -> bytes:
    """A log file's bytes: realistic records mutated, written as JSON (NaN and all, as a
    lax writer would), gzipped or not, then maybe damaged."""
    records = draw(mutated(RECORDS, max_changes=6))
    document: Any = {"Records": records}
    if draw(st.integers(0, 9)) == 0:
        document = draw(mutated(document, max_changes=2))
    try:
        text = json.dumps(document).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):  # a value json cannot write
        text = b'{"Records": []}'
    if draw(st.booleans()):
        text = gzip.compress(text, mtime=0)
    return draw(damaged_bytes(text))


def guard_event(path: Path) -> Any:
    return json.loads(path.read_text())
