"""CloudTrail evidence in the JSON, CSV and text reports, and read back for remediation."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from initkeys.formats import get_formatter
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
    assert actions["sam"] == (None, "passes")  # self-created: never touched
    assert actions["dana"][0] is not None  # made by an admin at setup: deactivated
