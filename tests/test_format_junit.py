"""``--format junit``: well-formed XML that a JUnit parser reads with the right counts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from format_runs import HOSTILE_NAMES, empty_run, hostile_run, many_fails, one_finding
from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase
from test_cli import FAILING, WARN, here, no_aws_env, write
from test_formats import ACCOUNT, _render, _run

from initkeys.formats.junit import xml_attr, xml_text
from initkeys.model import AuditRun, Status


def _junit(run: AuditRun) -> tuple[str, JUnitXml]:
    """The report, checked well-formed, parsed with junitparser; its counts are checked."""
    text = _render("junit", run)
    assert text.isascii()  # non-ASCII is written as character references
    ET.fromstring(text.encode())  # well-formed with the declared encoding
    xml = JUnitXml.fromstring(text)
    _check_counts(xml)
    return text, xml


def _check_counts(xml: JUnitXml) -> None:
    """The declared counts of every suite and of the whole are those of its test cases."""
    declared = [(s.tests, s.failures, s.errors, s.skipped) for s in xml]
    total = (xml.tests, xml.failures, xml.errors, xml.skipped)
    for suite in xml:
        suite.update_statistics()
    assert declared == [(s.tests, s.failures, s.errors, s.skipped) for s in xml]
    assert total == tuple(sum(suite[i] for suite in declared) for i in range(4))


def _cases(xml: JUnitXml) -> dict[str, TestCase]:
    return {case.name: case for suite in xml for case in suite}


def _outcome(case: TestCase) -> str:
    if not case.result:
        return "pass"
    (result,) = case.result
    return {Failure: "failure", Error: "error", Skipped: "skipped"}[type(result)]


def _ids(text: str) -> dict[str, str]:
    """Test case name → the finding id in its properties."""
    root = ET.fromstring(text.encode())
    return {
        case.get("name", ""): prop.get("value", "")
        for case in root.iter("testcase")
        for prop in case.iter("property")
        if prop.get("name") == "id"
    }


def test_suites_cases_and_counts() -> None:
    _, xml = _junit(_run())
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (9, 2, 2, 2)
    ok, failed = xml
    assert ok.name == ACCOUNT
    assert (ok.tests, ok.failures, ok.errors, ok.skipped) == (8, 2, 1, 2)
    assert ok.timestamp == "2026-11-28T01:00:00"
    props = {p.name: p.value for p in ok.properties()}
    assert props["source"] == "report.csv" and props["mode"] == "setup"
    assert props["fail_on"] == "FAIL"
    outcomes = {name: _outcome(case) for name, case in _cases(xml).items()}
    assert outcomes["alice access key 1"] == "failure"
    assert outcomes["=cmd+1 access key 1"] == "failure"
    assert outcomes["bob access key 1"] == "pass"  # WARNING, below --fail-on FAIL
    assert outcomes["bob access key 2"] == "pass"
    assert outcomes["carol"] == "pass"
    assert outcomes["broken"] == "error"
    assert outcomes["svc-deploy"] == outcomes["<root_account>"] == "skipped"
    case = _cases(xml)["alice access key 1"]
    assert case.classname == f"initkeys.{ACCOUNT}"
    (failure,) = case.result
    assert failure.type == "setup-key-unused"
    assert failure.message.startswith("Key 1 of alice")
    assert "key created: 2022-01-01T00:00:30Z" in failure.text
    warning = _cases(xml)["bob access key 1"]
    assert "WARNING unused-key" in (warning.system_out or "")

    # The account that could not be audited: one errored test case.
    assert failed.name == "210987654321"
    assert (failed.tests, failed.errors) == (1, 1)
    (case,) = failed
    (error,) = case.result
    assert isinstance(error, Error) and error.message.startswith("AccessDenied")


def test_warning_fails_with_fail_on_warning() -> None:
    _, xml = _junit(hostile_run(fail_on=Status.WARNING))
    assert _outcome(_cases(xml)["wanda access key 1"]) == "failure"
    _, xml = _junit(hostile_run())
    assert _outcome(_cases(xml)["wanda access key 1"]) == "pass"


def test_ids_match_the_json_report() -> None:
    run = _run(with_error_account=False)
    text, _ = _junit(run)
    doc = json.loads(_render("json", run))
    json_ids = sorted(f["id"] for f in doc["accounts"][0]["findings"])
    assert sorted(_ids(text).values()) == json_ids


def test_exempt_finding_is_skipped_with_its_reason() -> None:
    _, xml = _junit(hostile_run())
    (skipped,) = _cases(xml)["ops-admin access key 1"].result
    assert isinstance(skipped, Skipped)
    assert "break-glass <admin> | approved `CISO`" in skipped.message
    assert "FAIL setup-key-unused" in skipped.message
    assert "until 2027-01-31" in skipped.message


def test_hostile_names_are_escaped() -> None:
    text, xml = _junit(hostile_run())
    root = ET.fromstring(text.encode())
    names = {case.get("name") for case in root.iter("testcase")}
    assert f"{HOSTILE_NAMES[0]} access key 1" in names  # < & " ' come back exactly
    assert f"{HOSTILE_NAMES[1]} access key 2" in names  # line breaks too (&#10; &#13;)
    assert f"{HOSTILE_NAMES[2]} access key 1" in names
    # NUL, ESC, BEL and form feed cannot be in XML 1.0: they become visible escapes.
    assert "nul\\x00esc\\x1b[31mbell\\x07\u202eform\\x0cfeed access key 2" in names
    suite = next(iter(xml))
    assert suite.name == f'{ACCOUNT} (prod & "main")'
    assert "<script>" not in text and "<b>" not in text
    (error,) = _cases(xml)["bro<ken>|"].result
    assert error.message == "row 9 could not be read: bad timestamp '<now>|\n'"
    (case,) = list(xml)[1]
    (error,) = case.result
    assert error.message == "AccessDenied <b>|</b>\nnext line \\x1b[2J"


def test_escape_helpers() -> None:
    assert xml_text("a<b>&c\x00\ud800é") == "a&lt;b&gt;&amp;c\\x00\\ud800&#233;"
    assert xml_attr('"x"\n\t\r') == '"&quot;x&quot;&#10;&#9;&#13;"'


def test_empty_and_large_runs() -> None:
    _, xml = _junit(empty_run())
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (0, 0, 0, 0)
    assert list(xml) == []
    _, xml = _junit(many_fails(300))
    assert (xml.tests, xml.failures) == (600, 300)


@settings(max_examples=50, deadline=None)
@given(user=st.text(min_size=1, max_size=30), message=st.text(max_size=40))
def test_any_text_stays_well_formed(user: str, message: str) -> None:
    run = one_finding(user, Status.FAIL, message, key_slot=1, source=user, account_name=user)
    _, xml = _junit(run)
    (case,) = next(iter(xml))
    legal = all(
        c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c > "\uffff"
        for c in user
    )
    if legal:
        assert case.name == f"{user} access key 1"


def test_cli_junit_exit_code_agrees(tmp_path: Path) -> None:
    env = no_aws_env(tmp_path)
    for text, extra, code, failures in [
        (FAILING, [], 1, 1),
        (WARN, [], 0, 0),
        (WARN, ["--fail-on", "WARNING"], 1, 1),
    ]:
        path = write(tmp_path, "r.csv", text)
        proc = here(["audit", "--credential-report", path, "--format", "junit", *extra], env)
        assert proc.returncode == code, proc.stderr
        xml = JUnitXml.fromstring(proc.stdout)
        assert xml.failures == failures
