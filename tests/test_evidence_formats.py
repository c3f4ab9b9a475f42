"""CloudTrail evidence in every report format (each still valid by its own schema or
reader), none of it without --cloudtrail, and a report read back for remediation."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from test_cloudtrail import _cli
from test_format_asff import assert_importable
from test_format_html import _cells, _parse, _rows
from test_format_html import _text as _html_text
from test_format_junit import _junit
from test_format_markdown import _findings_table, _markup_from_data
from test_format_ocsf import _events
from test_format_sarif import _check_references, _sarif, _validator
from trail_company import ADMIN_ARN, NO_LOGS, seed_trail
from trail_records import ACCOUNT as TRAIL_ACCOUNT
from trail_records import write_directory

from initkeys.formats import FORMAT_NAMES, get_formatter
from initkeys.formats.csv_format import COLUMNS
from initkeys.model import AccountAudit, AuditRun, Finding, Reason, Settings, Status

ACCOUNT = "123456789012"
UTC = timezone.utc
SSO_ADMIN = (
    f"arn:aws:sts::{ACCOUNT}:assumed-role/"
    "AWSReservedSSO_AdministratorAccess_0123456789abcdef/ops.lead"
)


def _finding(user: str, **fields: object) -> Finding:
    base = Finding(
        user=user,
        arn=f"arn:aws:iam::{ACCOUNT}:user/{user}",
        status=Status.FAIL,
        reason=Reason.SETUP_KEY_UNUSED,
        message=f"Key 1 of {user} was created with the user.",
        key_slot=1,
        access_key_id=f"AKIAEXAMPLE{user.upper():0>9.9}",
        active=True,
        user_created=datetime(2024, 3, 4, 10, 0, tzinfo=UTC),
        key_created=datetime(2024, 3, 4, 10, 0, 40, tzinfo=UTC),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _run(*findings: Finding) -> AuditRun:
    account = AccountAudit(ACCOUNT, "aws", "aws", None, findings=findings)
    return AuditRun(
        settings=Settings(), generated_at=datetime(2026, 11, 28, tzinfo=UTC), accounts=(account,)
    )


EVIDENCE = _run(
    _finding(
        "dana",
        created_by=SSO_ADMIN,
        created_via="console",
        created_from="192.0.2.44",
    ),
    _finding(
        "sam",
        status=Status.PASS,
        reason=Reason.SELF_CREATED,
        created_by=f"arn:aws:iam::{ACCOUNT}:user/sam",
        created_via="cli",
        created_from="=HYPERLINK(1)",
    ),
    _finding("no-trail", evidence_note="No CreateAccessKey event for this key was found."),
)


# Evidence as a crafted log file could carry it: markup for every format, a line break.
HOSTILE_BY = f"arn:aws:iam::{ACCOUNT}:user/<b>eve</b>|`x`\n| y |"
HOSTILE_FROM = '<img src=x onerror=window.pwned=1>"&amp;|[a](https://evil.example)'
HOSTILE_NOTE = "<script>window.pwned=2</script>| not | found |\n*bold*"
HOSTILE = _run(
    _finding("eve", created_by=HOSTILE_BY, created_via="other", created_from=HOSTILE_FROM),
    _finding("mal", evidence_note=HOSTILE_NOTE),
)
# The same keys, read without --cloudtrail.
PLAIN = _run(_finding("dana"), _finding("no-trail"))


def _render(name: str, run: AuditRun) -> str:
    out = io.StringIO()
    get_formatter(name).render(run, out, tool_version="9.9.9")
    return out.getvalue()


def test_json_findings_carry_the_evidence() -> None:
    text = _render("json", EVIDENCE)
    assert text == json.dumps(json.loads(text), indent=2) + "\n"
    findings = {f["user"]: f for f in json.loads(text)["accounts"][0]["findings"]}
    assert findings["dana"]["created_by"] == SSO_ADMIN
    assert findings["dana"]["created_via"] == "console"
    assert findings["dana"]["created_from"] == "192.0.2.44"
    assert findings["dana"]["evidence_note"] is None
    assert findings["sam"]["reason"] == "self-created"
    assert findings["no-trail"]["created_by"] is None
    assert findings["no-trail"]["evidence_note"].startswith("No CreateAccessKey event")


def test_csv_evidence_columns_come_after_every_earlier_column() -> None:
    assert COLUMNS[-5:] == ("id", "created_by", "created_via", "created_from", "evidence_note")
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(_render("csv", EVIDENCE)))}
    assert rows["dana"]["created_by"] == SSO_ADMIN
    assert rows["dana"]["created_via"] == "console"
    assert rows["sam"]["created_from"] == "'=HYPERLINK(1)"  # inert in a spreadsheet
    assert rows["no-trail"]["evidence_note"].startswith("No CreateAccessKey event")


def test_text_shows_who_made_each_listed_key() -> None:
    text = _render("text", EVIDENCE)
    assert "Created by" in text
    assert "AdministratorAccess/ops.lead (console)" in text
    assert "not found" in text
    # PASS findings are counted, not listed; the table stays on one line per key.
    assert "sam" not in text.split("Created by", 1)[1]
    assert "dana " in text


def test_text_has_no_creator_column_without_cloudtrail() -> None:
    assert "Created by" not in _render("text", _run(_finding("dana")))


def test_an_evidence_report_read_back_for_remediation_spares_self_created_keys(
    tmp_path: Path,
) -> None:
    from initkeys.remediate.from_audit import read_audit_report
    from initkeys.remediate.plan import plan_remediation

    path = tmp_path / "approved.json"
    path.write_text(_render("json", EVIDENCE))
    report = read_audit_report(str(path))
    findings = report.account(ACCOUNT).findings
    actions = {p.user: (p.action, p.why) for p in plan_remediation(findings, mode=report.mode)}
    assert actions["sam"][0] is None  # self-created: never touched
    assert "its own user made it" in actions["sam"][1]
    assert actions["dana"][0] is not None  # made by an admin at setup: deactivated


# --------------------------------------------------------------------------- every other format

# dana's evidence: (created_by, created_via, created_from, evidence_note)
FIELDS = ("created_by", "created_via", "created_from", "evidence_note")
ASFF_KEYS = ("CreatedBy", "CreatedVia", "CreatedFrom", "EvidenceNote")
DANA = (SSO_ADMIN, "console", "192.0.2.44", None)


def _evidence_of(mapping: dict[str, Any], *keys: str) -> tuple[Any, ...]:
    """The values of ``keys`` in ``mapping``; None for each one that is absent or null."""
    return tuple(mapping.get(key) for key in keys)


def test_sarif_results_carry_the_evidence_and_stay_valid() -> None:
    results = {
        r["properties"]["user"]: r for r in _sarif(EVIDENCE)["runs"][0]["results"]
    }  # PASS findings (sam, self-created) are counted, not results
    assert set(results) == {"dana", "no-trail"}
    assert _evidence_of(results["dana"]["properties"], *FIELDS) == DANA
    assert results["no-trail"]["properties"]["created_by"] is None
    assert results["no-trail"]["properties"]["evidence_note"].startswith("No CreateAccessKey")
    hostile = {r["properties"]["user"]: r for r in _sarif(HOSTILE)["runs"][0]["results"]}
    assert hostile["eve"]["properties"]["created_by"] == HOSTILE_BY
    assert hostile["eve"]["properties"]["created_from"] == HOSTILE_FROM
    assert hostile["mal"]["properties"]["evidence_note"] == HOSTILE_NOTE


def _asff(run: AuditRun) -> dict[str, dict[str, str]]:
    findings = json.loads(_render("asff", run))
    assert_importable(findings)
    return {f["ProductFields"]["initkeys/User"]: f["ProductFields"] for f in findings}


def test_asff_product_fields_carry_the_evidence_within_the_limits() -> None:
    fields = _asff(EVIDENCE)
    assert _evidence_of(fields["dana"], *(f"initkeys/{k}" for k in ASFF_KEYS)) == DANA
    assert fields["sam"]["initkeys/Reason"] == "self-created"  # PASS findings are imported
    assert fields["sam"]["initkeys/CreatedBy"] == f"arn:aws:iam::{ACCOUNT}:user/sam"
    assert "initkeys/CreatedBy" not in fields["no-trail"]
    assert fields["no-trail"]["initkeys/EvidenceNote"].startswith("No CreateAccessKey")
    # A long note (many unreadable log files) is clipped to the map value's limit.
    long = _asff(_run(_finding("long", evidence_note="Not found; " + "x.json.gz, " * 500)))
    assert 900 < len(long["long"]["initkeys/EvidenceNote"]) < 1024
    hostile = _asff(HOSTILE)
    assert hostile["eve"]["initkeys/CreatedBy"] == HOSTILE_BY
    assert hostile["mal"]["initkeys/EvidenceNote"] == HOSTILE_NOTE


def test_ocsf_evidence_artifacts_validate_as_detection_findings() -> None:
    events = {e["resources"][1]["name"]: e for e in _events(_render("ocsf", EVIDENCE))}
    (dana,) = events["dana"]["evidences"]
    assert dana["api"] == {"operation": "CreateAccessKey"}
    assert _evidence_of(dana["data"], *FIELDS) == DANA
    assert "evidence_note" not in events["dana"]["unmapped"]
    assert events["sam"]["metadata"]["event_code"] == "self-created"
    assert events["sam"]["evidences"][0]["data"]["created_via"] == "cli"
    assert "evidences" not in events["no-trail"]
    assert events["no-trail"]["unmapped"]["evidence_note"].startswith("No CreateAccessKey")
    hostile = {e["resources"][1]["name"]: e for e in _events(_render("ocsf", HOSTILE))}
    assert hostile["eve"]["evidences"][0]["data"]["created_from"] == HOSTILE_FROM
    assert hostile["mal"]["unmapped"]["evidence_note"] == HOSTILE_NOTE


def _junit_properties(run: AuditRun) -> dict[str, dict[str, str]]:
    text, _ = _junit(run)  # well-formed, parsed by junitparser, counts checked
    return {
        case.get("name", ""): {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        for case in ET.fromstring(text.encode()).iter("testcase")
    }


def test_junit_test_cases_carry_the_evidence_as_properties() -> None:
    cases = _junit_properties(EVIDENCE)
    assert _evidence_of(cases["dana access key 1"], *FIELDS) == DANA
    assert cases["sam access key 1"]["reason"] == "self-created"
    assert cases["sam access key 1"]["created_by"].endswith(":user/sam")
    assert cases["no-trail access key 1"]["evidence_note"].startswith("No CreateAccessKey")
    assert "created_by" not in cases["no-trail access key 1"]
    text, _ = _junit(EVIDENCE)
    assert f"created by: {SSO_ADMIN}\n" in text  # in the failure's body too
    hostile = _junit_properties(HOSTILE)
    assert hostile["eve access key 1"]["created_by"] == HOSTILE_BY
    assert hostile["eve access key 1"]["created_from"] == HOSTILE_FROM
    assert hostile["mal access key 1"]["evidence_note"] == HOSTILE_NOTE


def _html_table(run: AuditRun) -> tuple[list[str], dict[str, list[str]]]:
    """The findings table's headings, and each row's cell texts by user."""
    tree = _parse(_render("html", run))  # strict: any parse error fails
    table = tree.find(".//*[@id='findings-table']")
    headings = [_html_text(th) for th in table.iter("{http://www.w3.org/1999/xhtml}th")]
    rows = {_html_text(r[2]): _cells(r) for r in _rows(tree)}
    for cells in rows.values():
        assert len(cells) == len(headings)
    return headings, rows


def test_html_has_a_created_by_column_with_the_evidence() -> None:
    headings, rows = _html_table(EVIDENCE)
    column = headings.index("Created by")
    assert headings[column - 1] == "Password created"
    assert rows["dana"][column] == SSO_ADMIN + "console \u00b7 192.0.2.44"
    assert rows["sam"][column].startswith(f"arn:aws:iam::{ACCOUNT}:user/sam")
    assert rows["no-trail"][column] == "not foundNo CreateAccessKey event for this key was found."
    # An account that could not be audited keeps its one row, as wide as the others.
    failed = AccountAudit("210987654321", "aws", "aws", None, error="AccessDenied")
    headings, rows = _html_table(replace(EVIDENCE, accounts=(*EVIDENCE.accounts, failed)))
    assert rows["-"][column] == "-"


def test_html_evidence_is_text() -> None:
    text = _render("html", HOSTILE)
    tree = _parse(text)
    assert text.isascii()
    assert len(list(tree.iter("{http://www.w3.org/1999/xhtml}script"))) == 1
    assert not list(tree.iter("{http://www.w3.org/1999/xhtml}img"))
    for element in tree.iter():
        assert not any(name.startswith("on") for name in element.attrib), element.attrib
    headings, rows = _html_table(HOSTILE)
    column = headings.index("Created by")
    shown_by = HOSTILE_BY.replace("\n", "\\x0a")  # control characters shown as escapes
    assert rows["eve"][column] == shown_by + "other \u00b7 " + HOSTILE_FROM
    assert rows["mal"][column] == "not found" + HOSTILE_NOTE.replace("\n", "\\x0a")


def test_markdown_findings_table_names_the_creator() -> None:
    table = _findings_table(_render("markdown", EVIDENCE))
    assert table[0][-1] == "created by"
    rows = {row[1]: row for row in table[1:]}
    assert rows["dana"][-1] == f"{SSO_ADMIN} (console, from 192.0.2.44)"
    assert rows["no-trail"][-1] == "not found"
    assert "sam" not in rows  # PASS findings are counted, not listed


def test_markdown_evidence_cannot_break_the_table_or_inject_markup() -> None:
    text = _render("markdown", HOSTILE)
    assert _markup_from_data(text, allowed=1) == []  # ours: the title's emphasis
    table = _findings_table(text)
    assert all(len(row) == len(table[0]) for row in table)
    rows = {row[1]: row for row in table[1:]}
    shown_by = HOSTILE_BY.replace("\n", "\\x0a")
    assert rows["eve"][-1] == f"{shown_by} (other, from {HOSTILE_FROM})"
    assert rows["mal"][-1] == "not found"


@pytest.mark.parametrize("name", [n for n in FORMAT_NAMES if n not in ("json", "csv", "sarif")])
def test_without_cloudtrail_no_format_adds_anything(name: str) -> None:
    """JSON, CSV and SARIF always have the (null) evidence fields; the others add
    nothing at all to a run without --cloudtrail."""
    text = _render(name, PLAIN).lower()
    for word in ("created by", "created_by", "createdby", "evidence_note", "evidencenote"):
        assert word not in text, word
    assert '"evidences"' not in text and "cloudtrail" not in text


def test_every_format_names_the_creators() -> None:
    for name in FORMAT_NAMES:
        text = _render(name, EVIDENCE)
        if name not in ("text", "markdown", "sarif"):  # these list only keys that did not pass
            assert f"arn:aws:iam::{ACCOUNT}:user/sam" in text, name
        assert SSO_ADMIN in text or "ops.lead" in text, name


# --------------------------------------------------------------------------- end to end


def test_cli_writes_the_evidence_in_every_format(aws: Any, tmp_path: Path) -> None:
    """A live audit of the emulator with the trail's log files in a directory, every
    format but the first three at once; each file is valid and carries the evidence."""
    trail = seed_trail(aws)
    logs = write_directory(tmp_path / "logs", trail.files)
    out = tmp_path / "reports"
    formats = "sarif,asff,ocsf,junit,html,markdown"
    proc = _cli(
        ["audit", "--cloudtrail", str(logs), "--format", formats, "--output-dir", str(out)], aws
    )
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "initkeys.asff.json", "initkeys.html", "initkeys.junit.xml", "initkeys.md",
        "initkeys.ocsf.json", "initkeys.sarif",
    ]  # fmt: skip
    sam_arn = f"arn:aws:iam::{TRAIL_ACCOUNT}:user/sam.self-made"

    sarif = json.loads((out / "initkeys.sarif").read_text())
    assert not list(_validator().iter_errors(sarif))
    _check_references(sarif)
    results = {r["properties"]["user"]: r["properties"] for r in sarif["runs"][0]["results"]}
    assert "sam.self-made" not in results  # PASS self-created: not a result
    assert results["dana.admin-made"]["created_by"] == ADMIN_ARN
    assert results["dana.admin-made"]["created_from"] == "192.0.2.44"
    assert NO_LOGS in results["no-trail"]["evidence_note"]

    asff = json.loads((out / "initkeys.asff.json").read_text())
    assert_importable(asff)
    fields = {f["ProductFields"]["initkeys/User"]: f["ProductFields"] for f in asff}
    assert fields["sam.self-made"]["initkeys/Reason"] == "self-created"
    assert fields["sam.self-made"]["initkeys/CreatedBy"] == sam_arn
    assert fields["tf-console-user"]["initkeys/CreatedVia"] == "terraform"
    assert NO_LOGS in fields["no-trail"]["initkeys/EvidenceNote"]

    events = _events((out / "initkeys.ocsf.json").read_text())
    by_user = {e["resources"][-1]["name"]: e for e in events if e.get("resources")}
    assert by_user["sam.self-made"]["evidences"][0]["data"]["created_by"] == sam_arn
    assert by_user["dana.admin-made"]["evidences"][0]["data"]["created_via"] == "console"
    assert NO_LOGS in by_user["no-trail"]["unmapped"]["evidence_note"]
    assert "evidences" not in by_user["used-key"]  # a used key is never looked up

    root = ET.fromstring((out / "initkeys.junit.xml").read_bytes())
    cases = {
        c.get("name", ""): {p.get("name"): p.get("value") for p in c.iter("property")}
        for c in root.iter("testcase")
    }
    assert cases["cfn-console-user access key 1"]["created_via"] == "cloudformation"
    assert cases["sam.self-made access key 1"]["created_by"] == sam_arn

    tree = _parse((out / "initkeys.html").read_text())
    table = tree.find(".//*[@id='findings-table']")
    headings = [_html_text(th) for th in table.iter("{http://www.w3.org/1999/xhtml}th")]
    column = headings.index("Created by")
    rows = {_html_text(r[2]): _cells(r) for r in _rows(tree)}
    assert rows["pat.other-admin"][column].startswith(
        f"arn:aws:iam::{TRAIL_ACCOUNT}:user/it.helpdesk"
    )
    assert rows["sam.self-made"][column].startswith(sam_arn)

    markdown = _findings_table((out / "initkeys.md").read_text())
    assert markdown[0][-1] == "created by"
    listed = {row[1]: row[-1] for row in markdown[1:]}
    assert listed["dana.admin-made"] == f"{ADMIN_ARN} (console, from 192.0.2.44)"
    assert listed["no-trail"] == "not found"
