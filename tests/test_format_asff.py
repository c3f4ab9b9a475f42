"""``--format asff``: AWS Security Finding Format, checked against botocore's own model of
``BatchImportFindings`` and imported with the real AWS CLI into the emulator."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import DATA, here, no_aws_env, write
from test_formats import ACCOUNT, GENERATED, _render, _run

from initkeys.errors import InputError
from initkeys.formats import identified_findings
from initkeys.formats.asff import (
    DESCRIPTION_MAX,
    GENERATOR_ID,
    RECOMMENDATION_MAX,
    TITLE_MAX,
    AsffFormatter,
    clip,
)
from initkeys.model import (
    AccountAudit,
    AuditRun,
    Exemption,
    Finding,
    Reason,
    Settings,
    Status,
)

_MODEL = botocore.session.get_session().get_service_model("securityhub")
_INPUT = _MODEL.operation_model("BatchImportFindings").input_shape

# Limits the API reference documents but botocore's model does not carry.
_LIMITS = {
    ("AwsSecurityFinding", "Title"): 256,
    ("AwsSecurityFinding", "Description"): 1024,
    ("AwsSecurityFinding", "Id"): 512,
    ("AwsSecurityFinding", "GeneratorId"): 512,
    ("Recommendation", "Text"): 512,
    ("Resource", "Type"): 256,
    ("Resource", "Region"): 16,
}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_shape(value: Any, shape: Any, where: str = "") -> None:
    """What botocore's ParamValidator leaves to the service: enums, ``.*\\S.*``, lengths."""
    if shape.type_name == "structure":
        for name, member in value.items():
            limit = _LIMITS.get((shape.name, name))
            if limit is not None:
                assert utf16_length(member) <= limit, f"{where}.{name} is too long"
            check_shape(member, shape.members[name], f"{where}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            check_shape(item, shape.member, f"{where}[{index}]")
    elif shape.type_name == "map":
        assert len(value) <= 50, where
        for key, item in value.items():
            assert 0 < len(key) < 128 and 0 < len(item) < 1024, f"{where}[{key!r}]"
    elif shape.type_name == "string":
        if "enum" in shape.metadata:
            assert value in shape.metadata["enum"], f"{where}: {value!r}"
        if "pattern" in shape.metadata:
            # Smithy patterns are not anchored: ".*\S.*" asks for one non-space.
            assert re.search(shape.metadata["pattern"], value), f"{where}: {value!r}"


def assert_importable(findings: list[dict[str, Any]]) -> None:
    """Each batch of 100 is a valid BatchImportFindings request, as botocore's client
    checks it before sending, and keeps the limits the service checks."""
    for start in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[start : start + 100]}, _INPUT)
        assert not report.has_errors(), report.generate_report()
    for finding in findings:
        check_shape(finding, _INPUT.members["Findings"].member)
        assert len(json.dumps(finding)) < 240 * 1024
        for required in ("Severity", "Types"):  # required by the ASFF, optional in the model
            assert required in finding


def render(run: AuditRun, region: str | None = None) -> list[dict[str, Any]]:
    out = io.StringIO()
    AsffFormatter(region).render(run, out)
    text = out.getvalue()
    assert text.endswith("]\n")
    findings: list[dict[str, Any]] = json.loads(text)
    return findings


def key_finding(user: str = "u", **fields: Any) -> Finding:
    """A FAIL finding about key 1 of ``user``, with ``fields`` changed."""
    values: dict[str, Any] = {
        "user": user,
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "status": Status.FAIL,
        "reason": Reason.SETUP_KEY_UNUSED,
        "message": "m",
        "key_slot": 1,
    }
    values.update(fields)
    return Finding(**values)


def one_finding_run(finding: Finding, partition: str = "aws") -> AuditRun:
    account = AccountAudit(ACCOUNT, partition, "x.csv", None, findings=(finding,))
    return AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))


def test_every_finding_is_a_valid_batch_import_request() -> None:
    findings = render(_run())
    assert findings
    assert_importable(findings)


def test_fields_and_statuses() -> None:
    run = _run()
    findings = render(run)
    by_user = {f["ProductFields"]["initkeys/User"]: f for f in findings}
    # NOT_APPLICABLE (root, no console password) is left out; the ERROR account has none.
    assert set(by_user) == {"alice", "bob", "=cmd+1", "carol", "broken"}
    assert {f["AwsAccountId"] for f in findings} == {ACCOUNT}

    alice = by_user["alice"]
    assert alice["SchemaVersion"] == "2018-10-08"
    assert alice["ProductArn"] == (
        f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"
    )
    assert alice["GeneratorId"] == GENERATOR_ID
    assert alice["CreatedAt"] == alice["UpdatedAt"] == "2026-11-28T01:00:00Z"
    assert alice["Compliance"]["Status"] == "FAILED"
    assert alice["Compliance"]["RelatedRequirements"] == [
        "CIS AWS Foundations Benchmark v1.4.0/1.11",
        "CIS AWS Foundations Benchmark v3.0.0/1.11",
    ]
    assert alice["Severity"] == {"Label": "MEDIUM", "Original": "FAIL"}
    assert alice["FindingProviderFields"]["Severity"] == alice["Severity"]
    assert alice["RecordState"] == "ACTIVE"
    assert alice["Workflow"] == {"Status": "NEW"}
    key, user = alice["Resources"]
    assert key["Type"] == "AwsIamAccessKey"
    assert key["Id"] == f"arn:aws:iam::{ACCOUNT}:user/alice#access_key_1"  # a report: no key id
    assert key["Partition"] == "aws" and key["Region"] == "us-east-1"
    assert key["Details"]["AwsIamAccessKey"] == {
        "Status": "Active",
        "CreatedAt": "2022-01-01T00:00:30Z",
        "PrincipalName": "alice",
        "PrincipalType": "IAMUser",
        "AccountId": ACCOUNT,
    }
    assert user["Type"] == "AwsIamUser" and user["Id"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert user["Details"]["AwsIamUser"]["Path"] == "/"
    assert alice["ProductFields"]["initkeys/Reason"] == "setup-key-unused"
    assert alice["ProductFields"]["initkeys/SetupGapSeconds"] == "30"
    assert "alice" in alice["Title"] and "created with the user" in alice["Description"]

    statuses = {(f["Title"], f["Compliance"]["Status"], f["Severity"]["Label"]) for f in findings}
    assert ("1.11 bob, key 1: active key never used, created after setup", "WARNING", "LOW") in (
        statuses
    )
    assert ("1.11 bob, key 2: key created with the user, in use", "PASSED", "INFORMATIONAL") in (
        statuses
    )
    assert by_user["carol"]["Resources"][0]["Type"] == "AwsIamUser"  # no keys: the user
    assert by_user["carol"]["Compliance"]["Status"] == "PASSED"
    assert by_user["broken"]["Compliance"]["Status"] == "NOT_AVAILABLE"  # ERROR


def test_ids_are_the_stable_ids_of_every_format() -> None:
    run = _run()
    json_ids = {
        f["id"]
        for a in json.loads(_render("json", run))["accounts"]
        for f in a["findings"]
        if f["status"] != "NOT_APPLICABLE"
    }
    assert {f["Id"] for f in render(run)} == json_ids
    assert render(run) == render(run)  # a rerun updates the same findings


def test_live_key_ids_name_the_key_resource() -> None:
    finding = key_finding(
        "dave",
        arn=f"arn:aws:iam::{ACCOUNT}:user/ops/dave",
        key_slot=2,
        access_key_id="AKIAEXAMPLEEXAMPLE12",
        active=False,
    )
    (doc,) = render(one_finding_run(finding))
    key, user = doc["Resources"]
    assert key["Id"] == "AKIAEXAMPLEEXAMPLE12"
    assert key["Details"]["AwsIamAccessKey"]["AccessKeyId"] == "AKIAEXAMPLEEXAMPLE12"
    assert key["Details"]["AwsIamAccessKey"]["Status"] == "Inactive"
    assert user["Details"]["AwsIamUser"]["Path"] == "/ops/"


def test_exempt_findings_are_suppressed_and_keep_their_status() -> None:
    finding = key_finding(
        "svc",
        exemption=Exemption("break-glass", "config:initkeys.toml", date(2027, 1, 31), "svc"),
        expired_exemption=Exemption("old", "cli", date(2025, 1, 1)),
    )
    (doc,) = render(one_finding_run(finding))
    assert doc["Workflow"] == {"Status": "SUPPRESSED"}
    assert doc["Compliance"]["Status"] == "FAILED"
    assert "Exempt: break-glass (config:initkeys.toml, until 2027-01-31)" in doc["Description"]
    assert "expired on 2025-01-01" in doc["Description"]
    assert doc["ProductFields"]["initkeys/ExemptionExpiredOn"] == "2025-01-01"
    assert_importable([doc])


def test_region_and_partition() -> None:
    finding = key_finding(arn="arn:aws-cn:iam::123456789012:user/u", status=Status.PASS)
    (doc,) = render(one_finding_run(finding, "aws-cn"))
    assert doc["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:")
    assert doc["Resources"][0]["Partition"] == "aws-cn"
    (doc,) = render(one_finding_run(finding, "aws-cn"), region="cn-northwest-1")
    assert doc["Resources"][0]["Region"] == "cn-northwest-1"
    with pytest.raises(InputError, match="not in partition aws-cn"):
        render(one_finding_run(finding, "aws-cn"), region="eu-west-1")
    with pytest.raises(InputError, match="not an AWS region"):
        render(one_finding_run(finding), region="../etc")
    # A partition Security Hub's Resource.Partition does not list: left out, the ARN keeps it.
    (doc,) = render(one_finding_run(finding, "aws-iso"))
    assert "Partition" not in doc["Resources"][0]
    assert doc["ProductArn"].startswith("arn:aws-iso:securityhub:us-iso-east-1:")


def test_empty_runs_are_empty_arrays() -> None:
    empty = AuditRun(settings=Settings(), generated_at=GENERATED)
    assert _render("asff", empty) == "[]\n"
    errored = _run()
    only_error = AuditRun(errored.settings, GENERATED, errored.accounts[1:])
    assert only_error.accounts[0].error is not None
    assert _render("asff", only_error) == "[]\n"


HOSTILE = 'eve<&"|\n\x1b]0;x\x07\u2028' + "\U0001f600" * 300


def test_hostile_and_long_strings_stay_inside_the_limits() -> None:
    finding = key_finding(
        HOSTILE,
        status=Status.WARNING,
        reason=Reason.UNUSED_KEY,
        message="line one\nline two " + "x" * 3000,
        exemption=Exemption(HOSTILE, "tag"),
    )
    (doc,) = render(one_finding_run(finding))
    assert_importable([doc])
    assert "\n" not in doc["Title"] and "\x1b" not in doc["Title"]
    assert utf16_length(doc["Title"]) <= TITLE_MAX and doc["Title"].endswith("…")
    assert utf16_length(doc["Description"]) <= DESCRIPTION_MAX
    assert doc["Description"].startswith("line one\nline two")
    assert doc["ProductFields"]["initkeys/User"].startswith('eve<&"|\n')


def test_clip_counts_utf16_units_and_never_splits_a_character() -> None:
    assert clip("short", 10) == "short"
    assert clip("a" * 10, 10) == "a" * 10
    assert clip("a" * 11, 10) == "a" * 9 + "…"
    cut = clip("\U0001f600" * 10, 10)
    assert cut == "\U0001f600" * 4 + "…" and utf16_length(cut) <= 10
    assert utf16_length(clip("x" * 600, RECOMMENDATION_MAX)) == RECOMMENDATION_MAX


@settings(max_examples=60, deadline=None)
@given(
    user=st.text(max_size=300),
    message=st.text(max_size=1500),
    status=st.sampled_from([s for s in Status if s is not Status.NOT_APPLICABLE]),
    slot=st.sampled_from([None, 1, 2]),
)
def test_any_text_gives_an_importable_finding(
    user: str, message: str, status: Status, slot: int | None
) -> None:
    finding = key_finding(user, arn="", status=status, message=message, key_slot=slot)
    run = one_finding_run(finding)
    (doc,) = render(run)
    assert_importable([doc])
    ((finding_id, _),) = identified_findings(run.accounts[0])
    assert doc["Id"] == finding_id


def test_formats_module_imports_no_boto() -> None:
    code = (
        "import sys, initkeys.formats.asff\n"
        "assert not {'boto3', 'botocore', 'rich'} & set(sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- the CLI


def test_cli_writes_asff(tmp_path: Path) -> None:
    env = no_aws_env(tmp_path)
    report = str(DATA / "report_normal.csv")
    proc = here(["audit", "--credential-report", report, "--format", "asff"], env)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)
    assert_importable(findings)
    assert all(":us-east-1:" in f["ProductArn"] for f in findings)

    args = ["audit", "--credential-report", report, "--format", "json,asff"]
    proc = here([*args, "--region", "eu-west-1", "--output-dir", str(tmp_path / "out")], env)
    assert proc.returncode == 1, proc.stderr
    placed = json.loads((tmp_path / "out" / "initkeys.asff.json").read_text())
    assert [f["Id"] for f in placed] == [f["Id"] for f in findings]
    assert all(":eu-west-1:" in f["ProductArn"] for f in placed)


@pytest.mark.parametrize(
    "extra",
    [
        ["--format", "json", "--region", "eu-west-1"],  # --region only places ASFF findings
        ["--format", "asff", "--region", "eu west 1"],
        ["--format", "asff", "--profile", "p"],
        ["--format", "asff", "--region", "cn-north-1"],  # the report is of partition aws
    ],
)
def test_cli_region_misuse_exits_2(tmp_path: Path, extra: list[str]) -> None:
    report = str(DATA / "report_normal.csv")
    proc = here(["audit", "--credential-report", report, *extra], no_aws_env(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("initkeys: error: ") and "Traceback" not in proc.stderr


def test_the_aws_cli_imports_the_file_as_it_is(tmp_path: Path, aws: Any) -> None:
    env = no_aws_env(tmp_path)
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    report = str(DATA / "report_normal.csv")
    out = tmp_path / "out.json"
    proc = here(["audit", "--credential-report", report, "--format", "asff", "-o", str(out)], env)
    assert proc.returncode == 1, proc.stderr
    written = json.loads(out.read_text())

    aws_cli = Path(sys.executable).with_name("aws")
    command = [str(aws_cli), "securityhub", "batch-import-findings", "--findings", f"file://{out}"]
    imported = subprocess.run(
        [*command, "--endpoint-url", aws.endpoint_url, "--region", "us-east-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    answer = json.loads(imported.stdout)
    assert answer["FailedCount"] == 0 and answer["SuccessCount"] == len(written)

    stored = aws.client("securityhub").get_findings(MaxResults=100)["Findings"]
    assert {f["Id"]: f["Compliance"]["Status"] for f in stored} == {
        f["Id"]: f["Compliance"]["Status"] for f in written
    }
    assert {f["Title"] for f in stored} == {f["Title"] for f in written}


def test_hostile_report_through_the_cli(tmp_path: Path) -> None:
    header = (DATA / "report_normal.csv").read_text().splitlines()[0]
    columns = header.split(",")
    values = dict.fromkeys(columns, "N/A")
    values.update(
        user='"ev<&|il"',
        arn=f"arn:aws:iam::{ACCOUNT}:user/x",
        user_creation_time="2022-01-01T00:00:00+00:00",
        password_enabled="true",
        access_key_1_active="true",
        access_key_1_last_rotated="2022-01-01T00:00:30+00:00",
        access_key_2_active="false",
    )
    path = write(tmp_path, "r.csv", header + "\n" + ",".join(values[c] for c in columns) + "\n")
    proc = here(["audit", "--credential-report", path, "--format", "asff"], no_aws_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    (doc,) = json.loads(proc.stdout)
    assert doc["ProductFields"]["initkeys/User"] == "ev<&|il"
    assert_importable([doc])
    assert os.linesep not in doc["Title"]
