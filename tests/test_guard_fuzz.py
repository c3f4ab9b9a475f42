"""Fuzzing the guard's event reader: any mutation of the example events is a GuardEvent
or an InputError (MalformedEvent or IrrelevantEvent), nothing else; the Lambda handler
logs one line for it; and a handful through ``initkeys guard simulate`` end in exit
0, 1, 2 or 3, never 4. Bounded, derandomized, in-process."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, cast

from fuzz_kit import run_main, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trail_mutations import GUARD_EVENTS, damaged_bytes, guard_event, mutated

from initkeys.errors import InputError
from initkeys.guard.event import GuardEvent, check_document, load_event, parse_event
from initkeys.guard.lambda_handler import handle
from initkeys.guard.runner import Guard
from initkeys.timeutil import EARLIEST, LATEST

EVENTS = [guard_event(p) for p in GUARD_EVENTS]
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = EARLIEST.replace(year=2026)


def events() -> st.SearchStrategy[Any]:
    return st.sampled_from(EVENTS).flatmap(lambda e: mutated(e, max_changes=5))


def _outcome(document: Any) -> GuardEvent | InputError:
    try:
        return parse_event(check_document(document))
    except InputError as e:  # MalformedEvent or IrrelevantEvent: exit 2, "ignored"
        return e


@FUZZ
@given(events())
def test_an_event_is_a_guard_event_or_one_sentence(document: Any) -> None:
    tried("guard-event")
    outcome = _outcome(document)
    if isinstance(outcome, InputError):
        assert str(outcome) and "\n" not in str(outcome) and len(str(outcome)) < 300
        return
    assert EARLIEST <= outcome.event_time < LATEST
    assert 1 <= len(outcome.user_name) <= 64 and outcome.user_name.isprintable()
    if outcome.self_created:  # only ever on the calling IAM user's own word
        assert outcome.actor.type == "IAMUser" and outcome.actor.name is not None
        assert outcome.actor.name.casefold() == outcome.user_name.casefold()


@settings(FUZZ, max_examples=100)
@given(events())
def test_the_lambda_logs_one_line_for_any_event(document: Any) -> None:
    tried("guard-event")
    if not isinstance(_outcome(document), InputError):
        return  # a readable event goes on to AWS: the guard's own tests cover that
    logged = handle(cast(Guard, None), document, NOW)
    assert logged["result"] == "ignored"
    json.dumps(logged, ensure_ascii=False).encode("utf-8")  # it can be logged


@settings(FUZZ, max_examples=150)
@given(st.sampled_from(GUARD_EVENTS).flatmap(lambda p: damaged_bytes(p.read_bytes())))
def test_damaged_event_files_are_read_or_refused(data: bytes) -> None:
    tried("guard-event")
    try:
        document = load_event(data)
    except InputError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(_outcome(document), (GuardEvent, InputError))


@settings(FUZZ, max_examples=10)
@given(events())
def test_guard_simulate_never_ends_in_an_internal_error(emulator: Any, document: Any) -> None:
    """Against the emulator (session-wide: these events change nothing)."""
    tried("guard-event")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "event.json"
        try:
            path.write_text(json.dumps(document))
        except (ValueError, RecursionError):
            path.write_bytes(b"[")
        code, _out, err = run_main(
            ["guard", "simulate", str(path), "--endpoint-url", emulator.endpoint_url]
        )
    assert "Traceback" not in err, err
    assert code in (0, 1, 2, 3), (code, err)
    if code in (2, 3):
        (line,) = err.strip().splitlines()
        assert line.startswith("initkeys: error: ")
