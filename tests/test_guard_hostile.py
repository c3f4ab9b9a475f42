"""Hostile guard events: exit 2 with one line from ``guard simulate``, an "ignored,
malformed" log line from the Lambda handler, and never "self-created" by a guess.

The corpus is ``tests/data/hostile/guard/`` (its README gives each file's exact line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from cli_kit import assert_one_line_error, run
from fuzz_kit import assert_clean_end, run_main
from scenario import Scenario, at

from initkeys.guard.decide import Verdict, decide
from initkeys.guard.event import MalformedEvent, parse_event
from initkeys.guard.lambda_handler import handle
from initkeys.guard.runner import Guard
from initkeys.model import Settings

CORPUS = Path(__file__).parent / "data" / "hostile" / "guard"
NOW = at("2026-11-27T12:02:00")
UNREAD = "the CreateAccessKey event cannot be read: "
NOT_A_NAME = UNREAD + "requestParameters.userName is not an IAM user name"

# file -> the end of the one stderr line (exit 2)
EXPECTED = {
    "username_list.json": NOT_A_NAME,
    "username_empty.json": NOT_A_NAME,
    "username_number.json": NOT_A_NAME,
    "username_control_chars.json": NOT_A_NAME,
    "names_disagree.json": UNREAD
    + "requestParameters.userName and the response's userName disagree",
    "response_not_caller.json": UNREAD + "the response names another user than the caller",
    "response_username_list.json": UNREAD
    + "responseElements.accessKey.userName is not an IAM user name",
    "event_time_overflow.json": "detail.eventTime '9999-12-31T23:59:59-05:00' is not a time",
    "deep.json": "not an event: JSON nested deeper than 200 levels",
    "huge_number.json": "not an event: a number of 1000 digits",
    "nan.json": "not an event: NaN is not a JSON number",
    "float_overflow.json": "not an event: a number out of range (-1e999)",
    "lone_surrogate.json": "not an event: a string holds a lone UTF-16 surrogate",
    "not_utf8.json": "not an event: not UTF-8 text",
}


def test_the_corpus_is_the_readme() -> None:
    files = {p.name for p in CORPUS.iterdir()} - {"README.md", "case_self_created.json"}
    assert files == set(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    for name, line in EXPECTED.items():
        assert f"`{name}`" in readme
        assert line.removeprefix(UNREAD) in readme, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_simulate_refuses_each_hostile_event_in_one_line(name: str) -> None:
    code, out, err = run_main(["guard", "simulate", str(CORPUS / name)])
    assert_clean_end(code, err)
    assert code == 2 and out == ""
    assert err.strip().endswith(EXPECTED[name]), err


def test_as_a_user_runs_it_one_line_and_no_traceback() -> None:
    for name in ("username_list.json", "deep.json", "lone_surrogate.json"):
        proc = run(["guard", "simulate", str(CORPUS / name)], timeout=60)
        assert assert_one_line_error(proc, 2).endswith(EXPECTED[name])


def lenient(name: str) -> Any:
    """The file as a laxer JSON reader (the Lambda runtime's) hands it over."""
    return json.loads((CORPUS / name).read_text())


@pytest.mark.parametrize(
    "name",
    sorted(set(EXPECTED) - {"deep.json", "not_utf8.json"}),  # no JSON reader passes those on
)
def test_the_lambda_logs_hostile_events_as_malformed(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logged = handle(cast(Guard, None), lenient(name), NOW)  # never reaches the guard
    why = EXPECTED[name]
    if name == "float_overflow.json":  # the lax reader made -1e999 a float, -Infinity
        why = "not an event: -Infinity is not a JSON number"
    assert logged == {
        "result": "ignored",
        "reason": why,
        "event_id": "hostile-" + name[:-5],
        "malformed": True,
    }
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == logged


def test_the_lambda_survives_events_too_deep_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    for depth in (300, 100_000):
        deep: Any = {"id": "deep"}
        for _ in range(depth):
            deep = {"detail": deep, "id": "deep"}
        logged = handle(cast(Guard, None), deep, NOW)
        assert logged["result"] == "ignored" and logged["malformed"] is True
        assert logged["reason"] in (
            "not an event: JSON nested deeper than 200 levels",
            "not an event: not a JSON document initkeys reads",
        )
    # An id that could not be logged (a lone surrogate, a control character) is left out.
    for bad_id in ("\udfff", "a\x1bb"):
        document = lenient("nan.json") | {"id": bad_id}
        assert handle(cast(Guard, None), document, NOW)["event_id"] is None
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_event_files_are_read_no_further_than_1_mib(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text('{"pad": "' + "x" * (2 << 20) + '"}')
    for path in ("/dev/zero", str(big)):
        code, _out, err = run_main(["guard", "simulate", path])
        assert code == 2 and err.strip().endswith("not an event: larger than 1 MiB"), err
    code, _out, err = run_main(["guard", "simulate", str(tmp_path)])
    assert code == 2 and "cannot read the event file: Is a directory" in err, err


def test_user_names_are_compared_without_case() -> None:
    event = parse_event(lenient("case_self_created.json"))
    assert (event.actor.name, event.user_name) == ("BOB", "bob")
    assert event.self_created
    assert decide(event, None, Settings(), NOW).verdict is Verdict.SELF_CREATED
    # The request may name the user in any case too; the response is IAM's spelling.
    document = lenient("case_self_created.json")
    document["detail"]["requestParameters"] = {"userName": "Bob"}
    assert parse_event(document).self_created
    document["detail"]["requestParameters"] = {"userName": "Bobby"}
    with pytest.raises(MalformedEvent, match="disagree"):
        parse_event(document)


def test_simulate_a_self_created_key_whatever_the_case(aws: Any) -> None:
    s = Scenario(aws)
    s.user("bob", at("2024-01-01T00:00:00"))
    key = s.key("bob", at("2026-11-27T12:00:00"))
    document = lenient("case_self_created.json")
    document["detail"]["responseElements"]["accessKey"]["accessKeyId"] = key.access_key_id
    proc = run(
        ["guard", "simulate", "-", "--endpoint-url", aws.endpoint_url],
        stdin=json.dumps(document),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Decision: self-created" in proc.stdout
