"""``--format ocsf``: every event is read back with py-ocsf-models, the reference client."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.objects.compliance import Compliance
from test_cli import DATA, here, no_aws_env
from test_formats import ACCOUNT, GENERATED, _render, _run

from initkeys.control import CONTROL
from initkeys.formats import identified_findings
from initkeys.formats.ocsf import account_error_id
from initkeys.model import (
    AccountAudit,
    AuditRun,
    Exemption,
    Finding,
    Mode,
    Reason,
    Settings,
    Status,
)

ERROR_ACCOUNT = "210987654321"


def _events(text: str) -> list[dict[str, Any]]:
    """The events of one report, each validated as an OCSF Detection Finding."""
    events = json.loads(text)
    assert isinstance(events, list)
    for event in events:
        _validate(event)
    return events


def _validate(event: dict[str, Any]) -> None:
    model = DetectionFinding.model_validate(event)
    # pydantic drops attributes it does not know: the round trip shows that
    # every attribute is one of the class (extras go in `unmapped`) and kept
    # its value and type.
    assert model.model_dump(mode="json", exclude_unset=True) == event
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert "cloud" in event["metadata"]["profiles"]
    assert event["cloud"]["provider"] == "AWS"
    compliance = event["unmapped"]["compliance"]
    known = Compliance.model_validate(compliance).model_dump(mode="json", exclude_unset=True)
    assert known.items() <= compliance.items()


def _by_code(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Events by reason code (the first of each)."""
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        found.setdefault(event["metadata"]["event_code"], event)
    return found


def test_every_event_is_a_detection_finding() -> None:
    events = _events(_render("ocsf", _run(), tool_version="9.9.9"))
    # 8 findings of the audited account, one event for the account that could not be.
    assert len(events) == 9
    for event in events:
        assert (event["class_uid"], event["category_uid"], event["activity_id"]) == (2004, 2, 1)
        assert event["type_uid"] == 200401
        assert event["time"] == int(GENERATED.timestamp()) * 1000
        assert event["finding_info"]["created_time"] == event["time"]
        assert event["metadata"]["version"] == OCSF_VERSION
        assert event["metadata"]["product"] == {
            "name": "initkeys",
            "uid": "initkeys",
            "vendor_name": "initkeys",
            "version": "9.9.9",
        }
        assert event["metadata"]["profiles"] == ["cloud"]
        assert event["finding_info"]["analytic"]["uid"] == CONTROL.control_id
        assert event["remediation"] == {
            "desc": CONTROL.solution,
            "references": [CONTROL.see_also],
        }
        compliance = event["unmapped"]["compliance"]
        assert compliance["standards"] == ["CIS AWS Foundations Benchmark"]
        assert compliance["requirements"] == [CONTROL.id] == ["1.11"]
        assert compliance["control"] == "1.11"
        assert event["unmapped"]["mode"] == "setup"
        assert event["unmapped"]["setup_window_seconds"] == 600
    accounts = [event["cloud"]["account"] for event in events]
    assert accounts[0] == {
        "uid": ACCOUNT,
        "name": ACCOUNT,
        "type": "AWS Account",
        "type_id": 10,
    }
    assert [a["uid"] for a in accounts] == [ACCOUNT] * 8 + [ERROR_ACCOUNT]


def test_one_event_per_line() -> None:
    lines = _render("ocsf", _run()).splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    for line in lines[1:-1]:
        _validate(json.loads(line.removesuffix(",")))


def test_finding_ids_are_the_stable_ids() -> None:
    run = _run()
    events = _events(_render("ocsf", run))
    expected = [finding_id for finding_id, _ in identified_findings(run.accounts[0])]
    assert [e["finding_info"]["uid"] for e in events[:-1]] == expected
    # The same ids as the JSON report, and the same again on a rerun.
    document = json.loads(_render("json", run))
    assert expected == [f["id"] for f in document["accounts"][0]["findings"]]
    assert _events(_render("ocsf", _run())) == events
    assert len({e["finding_info"]["uid"] for e in events}) == len(events)


@pytest.mark.parametrize(
    ("reason", "status", "severity_id", "compliance_id", "compliance"),
    [
        ("setup-key-unused", "FAIL", 3, 3, "Fail"),
        ("unused-key", "WARNING", 2, 2, "Warning"),
        ("setup-key-used", "PASS", 1, 1, "Pass"),
        ("no-access-keys", "PASS", 1, 1, "Pass"),
        # Kept, so that the evidence shows every user was looked at.
        ("no-console-password", "NOT_APPLICABLE", 1, 99, "Not Applicable"),
        ("root-account", "NOT_APPLICABLE", 1, 99, "Not Applicable"),
        ("invalid-row", "ERROR", 2, 0, "Unknown"),
        ("account-error", "ERROR", 2, 0, "Unknown"),
    ],
)
def test_status_and_compliance_per_verdict(
    reason: str, status: str, severity_id: int, compliance_id: int, compliance: str
) -> None:
    event = _by_code(_events(_render("ocsf", _run())))[reason]
    assert event["status_code"] == status
    assert event["severity_id"] == severity_id
    assert event["status_id"] == 1 and event["status"] == "New"
    assert event["unmapped"]["compliance"]["status_id"] == compliance_id
    assert event["unmapped"]["compliance"]["status"] == compliance
    assert event["unmapped"]["compliance"]["status_code"] == status


def test_cis_mode_fails_the_unused_key() -> None:
    events = _by_code(_events(_render("ocsf", _run(mode=Mode.CIS))))
    assert events["unused-key"]["status_code"] == "FAIL"
    assert events["unused-key"]["unmapped"]["compliance"]["status"] == "Fail"
    assert events["unused-key"]["unmapped"]["mode"] == "cis"


def test_key_finding_names_the_key_and_its_user() -> None:
    event = _by_code(_events(_render("ocsf", _run())))["setup-key-unused"]
    assert "alice" in event["message"]
    key, user = event["resources"]
    # A credential report carries no key ids: the key has a name, not a uid.
    assert key == {
        "type": "AwsIamAccessKey",
        "name": "alice key 1",
        "cloud_partition": "aws",
        "data": {
            "user": "alice",
            "user_arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "key_slot": 1,
            "active": True,
            "key_created": "2022-01-01T00:00:30Z",
            "last_used": None,
        },
    }
    assert user == {
        "type": "AwsIamUser",
        "uid": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "name": "alice",
        "cloud_partition": "aws",
        "data": {
            "user_created": "2022-01-01T00:00:00Z",
            "password_created": "2022-01-01T00:00:05Z",
        },
    }
    assert event["unmapped"]["setup_gap_seconds"] == 30
    assert event["unmapped"]["source"] == "report.csv"
    assert event["unmapped"]["report_generated_at"] == "2026-11-28T00:30:00Z"
    # A user-level finding has the user only.
    (carol,) = _by_code(_events(_render("ocsf", _run())))["no-access-keys"]["resources"]
    assert carol["type"] == "AwsIamUser" and carol["name"] == "carol"


def _finding(**fields: Any) -> Finding:
    """A FAIL finding about key 1 of alice, with ``fields`` changed."""
    defaults: dict[str, Any] = {
        "user": "alice",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "status": Status.FAIL,
        "reason": Reason.SETUP_KEY_UNUSED,
        "message": "m",
        "key_slot": 1,
    }
    return Finding(**{**defaults, **fields})


def _one_finding_run(finding: Finding, **account: Any) -> AuditRun:
    audit = AccountAudit(ACCOUNT, "aws", "aws", None, findings=(finding,), **account)
    return AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(audit,))


def test_live_key_id_is_the_resource_uid_and_the_account_name_is_used() -> None:
    finding = _finding(key_slot=2, access_key_id="AKIAIOSFODNN7EXAMPLE", active=True)
    run = _one_finding_run(finding, account_name="prod")
    (event,) = _events(_render("ocsf", run))
    key, _ = event["resources"]
    assert key["uid"] == key["name"] == "AKIAIOSFODNN7EXAMPLE"
    assert event["cloud"]["account"]["name"] == "prod"


def test_exempt_finding_is_suppressed() -> None:
    exemption = Exemption(reason="break-glass", source="cli", pattern="alice")
    expired = Exemption(reason="old", source="config:initkeys.toml", expires=date(2020, 1, 1))
    exempt = _finding(exemption=exemption)
    lapsed = _finding(user="bob", expired_exemption=expired)
    audit = AccountAudit(ACCOUNT, "aws", "aws", None, findings=(exempt, lapsed))
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(audit,))
    first, second = _events(_render("ocsf", run))

    # The verdict stands; the finding is suppressed, with the reason why.
    assert first["status_id"] == 3 and first["status"] == "Suppressed"
    assert first["status_code"] == "FAIL"
    assert first["unmapped"]["compliance"]["status"] == "Fail"
    assert first["unmapped"]["exemption"] == {
        "reason": "break-glass",
        "source": "cli",
        "expires": None,
        "pattern": "alice",
    }
    # An expired exemption no longer applies.
    assert second["status_id"] == 1 and second["status"] == "New"
    assert second["unmapped"]["exemption"] is None
    assert second["unmapped"]["exemption_expired"]["expires"] == "2020-01-01"


def test_account_that_could_not_be_audited_is_one_event() -> None:
    run = _run()
    event = _events(_render("ocsf", run))[-1]
    failed = run.accounts[1]
    assert event["finding_info"]["uid"] == account_error_id(failed)
    assert event["metadata"]["event_code"] == "account-error"
    assert event["message"] == (
        f"Account {ERROR_ACCOUNT} could not be audited: "
        "AccessDenied: not allowed to call iam:GenerateCredentialReport."
    )
    assert event["resources"] == [
        {
            "type": "AwsAccount",
            "uid": ERROR_ACCOUNT,
            "name": ERROR_ACCOUNT,
            "cloud_partition": "aws",
        }
    ]
    assert event["unmapped"]["error"] == failed.error
    # Its id never names a finding of that account: not even the root row's,
    # which is the one user-level finding every account has.
    root = _finding(
        user="<root_account>",
        arn=f"arn:aws:iam::{ERROR_ACCOUNT}:root",
        status=Status.NOT_APPLICABLE,
        reason=Reason.ROOT_ACCOUNT,
        key_slot=None,
    )
    audited = AccountAudit(ERROR_ACCOUNT, "aws", "aws", None, findings=(root,))
    ((root_id, _),) = identified_findings(audited)
    assert root_id != event["finding_info"]["uid"]
    assert event["finding_info"]["uid"].startswith("initkeys-1.11-")


def test_empty_run() -> None:
    text = _render("ocsf", AuditRun(settings=Settings(), generated_at=GENERATED))
    assert text == "[]\n"
    assert json.loads(text) == []


HOSTILE = 'ev<il>&"|\\\n\r\t\x00\x1b[31m\u2028\u202e`*_[x](y)'


def test_hostile_strings_stay_data() -> None:
    finding = _finding(user=HOSTILE, message=HOSTILE)
    audit = AccountAudit(ACCOUNT, "aws", HOSTILE, None, findings=(finding,))
    failed = AccountAudit(ERROR_ACCOUNT, "aws", "aws", None, error=HOSTILE)
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(audit, failed))
    text = _render("ocsf", run)
    assert text.isascii()  # every control and non-ASCII character is escaped
    assert len(text.splitlines()) == 4  # "[", two events, "]"
    event, error = _events(text)
    assert event["message"] == HOSTILE
    assert event["resources"][0]["name"] == f"{HOSTILE} key 1"
    assert event["resources"][1]["name"] == HOSTILE
    assert event["unmapped"]["source"] == HOSTILE
    assert error["unmapped"]["error"] == HOSTILE


@settings(max_examples=50, deadline=None)
@given(user=st.text(min_size=1, max_size=40), message=st.text(max_size=80))
def test_any_text_gives_valid_events(user: str, message: str) -> None:
    finding = _finding(
        user=user, message=message, status=Status.WARNING, reason=Reason.UNUSED_KEY, key_slot=None
    )
    (event,) = _events(_render("ocsf", _one_finding_run(finding)))
    assert event["resources"][0]["name"] == user
    assert event["message"] == message


def test_runs_without_py_ocsf_models() -> None:
    # The formatter writes plain JSON: py-ocsf-models and pydantic are test-only.
    code = (
        "import io, sys\n"
        "from datetime import datetime, timezone\n"
        "from initkeys.audit import audit_report_file\n"
        "from initkeys.formats import get_formatter\n"
        "from initkeys.model import AuditRun, Settings\n"
        f"account = audit_report_file({str(DATA / 'report_normal.csv')!r}, Settings())\n"
        "run = AuditRun(Settings(), datetime.now(timezone.utc), (account,))\n"
        "get_formatter('ocsf').render(run, io.StringIO())\n"
        "loaded = {'py_ocsf_models', 'pydantic', 'rich'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli(tmp_path: Path) -> None:
    env = no_aws_env(tmp_path)
    report = str(DATA / "report_normal.csv")
    proc = here(["audit", "--credential-report", report, "--format", "ocsf"], env)
    assert proc.returncode == 1, proc.stderr  # alice's setup key fails
    assert proc.stderr == ""
    events = _events(proc.stdout)
    codes = [e["metadata"]["event_code"] for e in events]
    assert codes.count("setup-key-unused") == 1
    assert "no-console-password" in codes and "root-account" in codes
    assert {e["unmapped"]["source"] for e in events} == {"report_normal.csv"}

    # With other formats in one run: its own file, the same ids as the JSON report.
    out = tmp_path / "reports"
    args = ["audit", "--credential-report", report, "--format", "json,ocsf", "--output-dir"]
    proc = here([*args, str(out)], env)
    assert proc.returncode == 1, proc.stderr
    events = _events((out / "initkeys.ocsf.json").read_text())
    document = json.loads((out / "initkeys.json").read_text())
    ids = [f["id"] for f in document["accounts"][0]["findings"]]
    assert [e["finding_info"]["uid"] for e in events] == ids
