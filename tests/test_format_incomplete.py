"""Fail closed in every format: a run that did not see everything says so, with and
without --allow-errors (which changes only the exit code), and junit fails exactly as
the exit code does."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from format_runs import EXEMPTION, key_finding
from test_format_junit import _junit
from test_formats import ACCOUNT, GENERATED, _render, _run

from initkeys.formats import incomplete_note
from initkeys.model import AccountAudit, AuditRun, Finding, Reason, Settings, Status

BROKEN = Finding(
    user="broken",
    arn=f"arn:aws:iam::{ACCOUNT}:user/broken",
    status=Status.ERROR,
    reason=Reason.INVALID_ROW,
    message="The row for 'broken' could not be read: user_creation_time 'x' is not a timestamp.",
)
NOT_AUDITED = AccountAudit("210987654321", "aws", "aws", None, error="AccessDenied: no.")


def _one(
    *findings: Finding, allow_errors: bool = False, extra: tuple[AccountAudit, ...] = ()
) -> AuditRun:
    """One report account with ``findings`` (and ``extra`` accounts after it)."""
    account = AccountAudit(ACCOUNT, "aws", "r.csv", None, findings=findings)
    return AuditRun(
        settings=Settings(allow_errors=allow_errors),
        generated_at=GENERATED,
        accounts=(account, *extra),
    )


ERROR_ONLY = _one(BROKEN)
CLEAN = _one(key_finding("paul", Status.PASS, Reason.KEY_USED, last_used=GENERATED))


def test_the_sentence_counts_what_was_not_seen() -> None:
    assert incomplete_note(CLEAN) is None
    assert incomplete_note(ERROR_ONLY) == (
        "INCOMPLETE: 1 finding is ERROR: what was not seen is not a pass"
    )
    two = _one(BROKEN, replace(BROKEN, user="b2"), extra=(NOT_AUDITED, NOT_AUDITED))
    assert incomplete_note(two) == (
        "INCOMPLETE: 2 accounts could not be audited and 2 findings are ERROR: "
        "what was not seen is not a pass"
    )
    allowed = incomplete_note(_one(BROKEN, allow_errors=True))
    assert allowed is not None and allowed.endswith("(--allow-errors: the exit code ignores it)")
    # An exempt ERROR is the organization's decision: the run is complete.
    assert incomplete_note(_one(replace(BROKEN, exemption=EXEMPTION))) is None


@pytest.mark.parametrize("allow_errors", [False, True])
def test_text_says_incomplete_at_top_and_bottom(allow_errors: bool) -> None:
    run = replace(ERROR_ONLY, settings=Settings(allow_errors=allow_errors))
    lines = _render("text", run).splitlines()
    note = incomplete_note(run)
    assert lines[2] == note  # under the title and the tool line
    assert lines[-1] == note
    text = "\n".join(lines)
    # An account whose only finding is unreadable found nothing: it was not judged.
    assert "No setup keys found" not in text
    assert "1 finding could not be judged (ERROR, below): no verdict on those users." in text
    assert "INCOMPLETE" not in _render("text", CLEAN)
    assert "No setup keys found." in _render("text", CLEAN)


def test_markdown_says_incomplete_under_the_title() -> None:
    text = _render("markdown", _one(BROKEN, allow_errors=True))
    assert (
        "> **INCOMPLETE:** 1 finding is ERROR: what was not seen is not a pass "
        "(--allow-errors: the exit code ignores it)\n" in text
    )
    assert "INCOMPLETE" not in _render("markdown", CLEAN)


def test_html_says_incomplete_in_title_masthead_and_banner() -> None:
    page = _render("html", ERROR_ONLY)
    assert "<title>CIS AWS 1.11 audit: ERROR, INCOMPLETE (" in page
    assert '<p class="incomplete" id="incomplete" role="alert">INCOMPLETE: 1 finding' in page
    assert "</span> (incomplete)</span>" in page
    assert page.index('id="incomplete"') < page.index('class="cards"')
    clean = _render("html", CLEAN)
    assert "INCOMPLETE" not in clean and 'id="incomplete"' not in clean


@pytest.mark.parametrize("allow_errors", [False, True])
def test_json_says_complete_and_allow_errors(allow_errors: bool) -> None:
    run = _one(BROKEN, allow_errors=allow_errors, extra=(NOT_AUDITED,))
    doc = json.loads(_render("json", run))
    assert doc["schema_version"] == 1
    assert doc["complete"] is False
    assert doc["allow_errors"] is allow_errors
    assert doc["incomplete"] == incomplete_note(run)
    clean = json.loads(_render("json", CLEAN))
    assert (clean["complete"], clean["allow_errors"], clean["incomplete"]) == (True, False, None)


@pytest.mark.parametrize("allow_errors", [False, True])
def test_sarif_execution_is_not_successful_when_incomplete(allow_errors: bool) -> None:
    run = _one(BROKEN, allow_errors=allow_errors)
    doc = json.loads(_render("sarif", run))
    sarif_run = doc["runs"][0]
    (invocation,) = sarif_run["invocations"]
    assert invocation["executionSuccessful"] is False  # --allow-errors changes the exit code only
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"] == incomplete_note(run)
    descriptor = sarif_run["tool"]["driver"]["notifications"][note["descriptor"]["index"]]
    assert descriptor["id"] == note["descriptor"]["id"] == "RUN-INCOMPLETE"
    assert sarif_run["properties"]["complete"] is False
    assert sarif_run["properties"]["allow_errors"] is allow_errors
    # The ERROR finding is still a result.
    assert [r["ruleId"] for r in sarif_run["results"]] == ["INITKEYS-NOT-JUDGED"]
    clean = json.loads(_render("sarif", CLEAN))["runs"][0]
    assert clean["invocations"][0]["executionSuccessful"] is True
    assert clean["invocations"][0]["toolExecutionNotifications"] == []


def _junit_fails(run: AuditRun) -> bool:
    """What a CI system reads from a JUnit report: any failure or error fails the build."""
    _, xml = _junit(run)
    return bool(xml.failures or xml.errors)


@pytest.mark.parametrize(
    "run",
    [
        ERROR_ONLY,
        _one(BROKEN, allow_errors=True),
        _one(key_finding("paul", Status.PASS, Reason.KEY_USED), extra=(NOT_AUDITED,)),
        _one(
            key_finding("paul", Status.PASS, Reason.KEY_USED),
            allow_errors=True,
            extra=(NOT_AUDITED,),
        ),
        _one(BROKEN, key_finding("alice", Status.FAIL, Reason.SETUP_KEY_UNUSED), allow_errors=True),
        _one(key_finding("wanda", Status.WARNING, Reason.UNUSED_KEY), allow_errors=True),
        _one(replace(BROKEN, exemption=EXEMPTION)),
        CLEAN,
        _run(),
        replace(_run(), settings=Settings(allow_errors=True)),
    ],
    ids=[
        "error",
        "error-allowed",
        "account",
        "account-allowed",
        "error-and-fail-allowed",
        "warning-allowed",
        "exempt-error",
        "clean",
        "mixed",
        "mixed-allowed",
    ],
)
def test_junit_fails_exactly_as_the_exit_code(run: AuditRun) -> None:
    assert _junit_fails(run) is run.fails()


def test_junit_allowed_errors_are_skipped_and_said() -> None:
    run = _one(BROKEN, allow_errors=True, extra=(NOT_AUDITED,))
    text, xml = _junit(run)
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (2, 0, 0, 2)
    root = ET.fromstring(text)
    skipped = [s.get("message") or "" for s in root.iter("skipped")]
    assert skipped[0].startswith("not judged (ERROR invalid-row, --allow-errors): The row")
    assert skipped[1] == "not audited (--allow-errors): AccessDenied: no."
    for suite in root.iter("testsuite"):
        props = {p.get("name"): p.get("value") for p in suite.find("properties") or ()}
        assert (props["complete"], props["allow_errors"]) == ("false", "true")
    text, xml = _junit(ERROR_ONLY)
    assert (xml.errors, xml.skipped) == (1, 0)
    assert '<property name="complete" value="false"/>' in text
    assert '<property name="complete" value="true"/>' in _junit(CLEAN)[0]
