"""The formats of ``initkeys iac`` (initkeys.formats.iac): what each writes about a run,
SARIF checked against the OASIS 2.1.0 schema (regions against the findings' lines), JSON
against the shipped iac-report-v1 schema, and hostile names kept inert everywhere."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.app.iac import IacRun
from initkeys.evaluate.iac import judge_iac
from initkeys.formats.iac import (
    IAC_FORMAT_NAMES,
    file_name,
    get_formatter,
    parse_format_list,
)
from initkeys.formats.iac.sarif import artifact
from initkeys.model import ExemptionRule, Settings, Status
from initkeys.sources.iac.records import (
    IacFinding,
    IacKind,
    IacNote,
    IacReason,
    IacResource,
    IacScan,
    SourceLine,
)

DATA = Path(__file__).parent / "data"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
IAC_SCHEMA = json.loads(
    (Path(__file__).parent.parent / "src/initkeys/schemas/iac-report-v1.json").read_text(
        encoding="utf-8"
    )
)
SARIF = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
REPORT = jsonschema.Draft202012Validator(
    IAC_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
WHEN = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
HOSTILE = "=evil\x1b[31m|<b>\u202e`x`"
PROD = "infra/prod"


def r(
    kind: IacKind,
    address: str,
    path: str,
    line: int,
    config: str = PROD,
    **kw: Any,
) -> IacResource:
    return IacResource(kind, address, SourceLine(path, line), config, **kw)


def sample_scan() -> IacScan:
    main = "infra/prod/main.tf"
    return IacScan(
        resources=(
            # FAIL: alice, in a module
            r(
                IacKind.USER,
                "module.team.aws_iam_user.this",
                main,
                3,
                user_name="alice",
                module="module.team",
            ),
            r(
                IacKind.LOGIN_PROFILE,
                "module.team.aws_iam_user_login_profile.this",
                main,
                8,
                user_address="module.team.aws_iam_user.this",
                module="module.team",
            ),
            r(
                IacKind.ACCESS_KEY,
                "module.team.aws_iam_access_key.this",
                main,
                12,
                user_address="module.team.aws_iam_user.this",
                module="module.team",
            ),
            # WARNING: bob's key depends on var.ci
            r(IacKind.USER, "aws_iam_user.bob", main, 20, user_name="bob"),
            r(
                IacKind.LOGIN_PROFILE,
                "aws_iam_user_login_profile.bob",
                main,
                24,
                user_address="aws_iam_user.bob",
            ),
            r(
                IacKind.ACCESS_KEY,
                "aws_iam_access_key.bob",
                main,
                28,
                user_address="aws_iam_user.bob",
                condition="count = var.ci ? 1 : 0",
            ),
            # PASS: a console user; N/A: a programmatic user (a plan: no lines)
            r(IacKind.USER, "aws_iam_user.carol", main, 40, user_name="carol"),
            r(
                IacKind.LOGIN_PROFILE,
                "aws_iam_user_login_profile.carol",
                main,
                44,
                user_name="carol",
            ),
            r(IacKind.USER, "aws_iam_user.ci", "plan.json", 0, "plan.json", user_name="ci"),
            r(
                IacKind.ACCESS_KEY,
                "aws_iam_access_key.ci",
                "plan.json",
                0,
                "plan.json",
                user_name="ci",
            ),
            # WARNING iac-password-and-key: a user defined elsewhere; a hostile name
            r(
                IacKind.LOGIN_PROFILE,
                "Profile",
                "cfn\\stack.yaml",
                5,
                "cfn\\stack.yaml",
                user_name=HOSTILE,
            ),
            r(
                IacKind.ACCESS_KEY,
                "Key",
                "cfn\\stack.yaml",
                9,
                "cfn\\stack.yaml",
                user_name=HOSTILE,
            ),
            # FAIL, exempt
            r(IacKind.USER, "Svc", "./cfn/svc.yaml", 2, "./cfn/svc.yaml", user_name="svc-build"),
            r(
                IacKind.LOGIN_PROFILE,
                "SvcProfile",
                "./cfn/svc.yaml",
                6,
                "./cfn/svc.yaml",
                user_address="Svc",
            ),
            r(
                IacKind.ACCESS_KEY,
                "SvcKey",
                "./cfn/svc.yaml",
                10,
                "./cfn/svc.yaml",
                user_address="Svc",
            ),
        ),
        notes=(
            IacNote(
                SourceLine("broken/main.tf", 7),
                "broken",
                "broken/main.tf: line 7: unexpected token",
                unreadable=True,
            ),
            IacNote(
                SourceLine("/abs/infra/ci.tf", 3),
                "/abs/infra",
                'module "ci" from a registry source was not scanned: scan the plan JSON',
                module="module.ci",
            ),
        ),
        files_read=5,
        skipped=2,
    )


SETTINGS = Settings(
    exemptions=(ExemptionRule("svc-*", "build user, reviewed", "config:initkeys.toml"),),
    today=date(2026, 12, 1),
)


def sample_run(settings: Settings = SETTINGS) -> IacRun:
    scan = sample_scan()
    return IacRun(
        settings=settings,
        generated_at=WHEN,
        findings=judge_iac(scan, settings),
        files_read=scan.files_read,
        skipped=scan.skipped,
        paths=(".",),
    )


def render(name: str, run: IacRun, *, color: bool = False) -> str:
    out = io.StringIO()
    get_formatter(name).render(run, out, color=color, tool_version="9.9.9")
    return out.getvalue()


def test_the_sample_has_every_status() -> None:
    got = [(f.status, f.reason, f.user) for f in sample_run().findings]
    assert got == [
        (Status.FAIL, IacReason.SETUP_KEY, "alice"),
        (Status.WARNING, IacReason.MAYBE_SETUP_KEY, "bob"),
        (Status.PASS, IacReason.CONSOLE_USER_NO_KEY, "carol"),
        (Status.NOT_APPLICABLE, IacReason.PROGRAMMATIC_USER, "ci"),
        (Status.FAIL, IacReason.SETUP_KEY, "svc-build"),
        (Status.WARNING, IacReason.PASSWORD_AND_KEY, HOSTILE),
        (Status.ERROR, IacReason.UNREADABLE, ""),
        (Status.WARNING, IacReason.NOT_SCANNED, ""),
    ]
    run = sample_run()
    assert run.exempt == 1 and run.incomplete() and run.fails()


# -- SARIF ------------------------------------------------------------------------------


def test_sarif_is_valid_and_places_each_result_on_its_lines() -> None:
    run = sample_run()
    document = json.loads(render("sarif", run))
    SARIF.validate(document)
    (sarif_run,) = document["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [reason.value for reason in IacReason]
    results = sarif_run["results"]
    problems = [f for f in run.findings if f.status in (Status.FAIL, Status.ERROR, Status.WARNING)]
    assert len(results) == len(problems)
    for result, finding in zip(results, problems, strict=True):
        assert result["ruleId"] == finding.reason.value
        assert rules[result["ruleIndex"]]["id"] == finding.reason.value
        location = result["locations"][0]["physicalLocation"]
        at = finding.at
        assert at is not None
        if at.line:
            assert location["region"] == {"startLine": at.line}
        else:
            assert "region" not in location
        related = [
            (x["physicalLocation"].get("region", {}).get("startLine", 0), x["message"]["text"])
            for x in result.get("relatedLocations", [])
        ]
        assert related == [
            *((p.line, "console password (login profile)") for p in finding.password_at),
            *((k.line, "access key") for k in finding.key_at),
        ]
        assert result["level"] == ("warning" if finding.status is Status.WARNING else "error")
    alice = results[0]
    assert alice["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "infra/prod/main.tf",
        "uriBaseId": "%SRCROOT%",
    }
    assert alice["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "infra/prod#module.team"
    )
    exempt = results[2]
    assert exempt["suppressions"][0]["status"] == "accepted"
    assert sarif_run["invocations"][0]["executionSuccessful"] is False


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("infra/main.tf", {"uri": "infra/main.tf", "uriBaseId": "%SRCROOT%"}),
        ("./cfn/svc.yaml", {"uri": "cfn/svc.yaml", "uriBaseId": "%SRCROOT%"}),
        ("cfn\\stack.yaml", {"uri": "cfn/stack.yaml", "uriBaseId": "%SRCROOT%"}),
        ("a b/%x#.tf", {"uri": "a%20b/%25x%23.tf", "uriBaseId": "%SRCROOT%"}),
        ("/abs/infra/ci.tf", {"uri": "file:///abs/infra/ci.tf"}),
    ],
)
def test_sarif_uris_are_relative_with_forward_slashes(path: str, expected: dict[str, str]) -> None:
    assert artifact(path) == expected


def test_a_clean_sarif_run_succeeds() -> None:
    run = IacRun(settings=Settings(), generated_at=WHEN)
    document = json.loads(render("sarif", run))
    SARIF.validate(document)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is True


# -- JSON -------------------------------------------------------------------------------


def test_json_matches_its_schema_and_the_findings() -> None:
    run = sample_run()
    document = json.loads(render("json", run))
    REPORT.validate(document)
    assert document["schema_version"] == 1 and document["report"] == "iac"
    assert document["summary"] == {
        "FAIL": 2,
        "ERROR": 1,
        "WARNING": 3,
        "PASS": 1,
        "NOT_APPLICABLE": 1,
    }
    assert (document["result"], document["complete"], document["exempt"]) == ("FAIL", False, 1)
    alice = document["findings"][0]
    assert alice["user_at"] == {"path": "infra/prod/main.tf", "line": 3}
    assert alice["password_at"] == [{"path": "infra/prod/main.tf", "line": 8}]
    assert alice["key_at"] == [{"path": "infra/prod/main.tf", "line": 12}]
    assert alice["module"] == "module.team"
    bob = document["findings"][1]
    assert bob["conditions"] == ["count = var.ci ? 1 : 0"]
    ci = document["findings"][3]
    assert ci["user_at"] == {"path": "plan.json", "line": None}
    assert document["findings"][4]["exemption"]["pattern"] == "svc-*"
    assert document["findings"][5]["user"] == HOSTILE  # JSON keeps the name as read
    ids = [f["id"] for f in document["findings"]]
    assert len(set(ids)) == len(ids)


def test_ids_do_not_depend_on_lines_or_status() -> None:
    def ids(shift: int) -> list[str]:
        scan = sample_scan()
        moved = tuple(
            IacResource(
                x.kind,
                x.address,
                SourceLine(x.at.path, x.at.line + shift),
                x.configuration,
                x.module,
                x.user_name,
                x.user_address,
                None,
            )
            for x in scan.resources
        )
        run = IacRun(Settings(), WHEN, judge_iac(IacScan(resources=moved), Settings()))
        return [f["id"] for f in json.loads(render("json", run))["findings"]]

    assert ids(0) == ids(5)


# -- CSV, JUnit, text, Markdown ---------------------------------------------------------


def test_csv_has_a_row_per_finding_and_inert_cells() -> None:
    text = render("csv", sample_run())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8
    assert rows[0]["user_at"] == "infra/prod/main.tf:3"
    assert rows[0]["key_at"] == "infra/prod/main.tf:12"
    assert rows[3]["user_at"] == "plan.json"
    hostile = rows[5]["user"]
    assert hostile.startswith("'=evil\\x1b[31m") and "\\u202e" in hostile
    assert "\x1b" not in text and "\u202e" not in text


def test_junit_has_a_case_per_finding() -> None:
    text = render("junit", sample_run())
    root = ET.fromstring(text)
    assert root.attrib["tests"] == "8"
    assert (root.attrib["failures"], root.attrib["errors"], root.attrib["skipped"]) == (
        "1",
        "1",
        "1",
    )
    cases = root.findall(".//testcase")
    assert len(cases) == 8
    failure = cases[0].find("failure")
    assert failure is not None and "infra/prod/main.tf:12" in (failure.text or "")
    assert "\x1b" not in text


def test_junit_warnings_fail_with_fail_on_warning() -> None:
    run = sample_run(Settings(fail_on=Status.WARNING, exemptions=SETTINGS.exemptions))
    root = ET.fromstring(render("junit", run))
    assert root.attrib["failures"] == "4"


def test_text_summary_then_problems_first() -> None:
    text = render("text", sample_run())
    assert "\x1b" not in text and "\u202e" not in text
    summary = text.index("Configuration")
    problems = text.index("Problems:")
    others = text.index("Other findings:")
    assert summary < problems < others
    block = text[problems:others]
    assert block.index("FAIL") < block.index("ERROR") < block.index("WARNING")
    assert "    user:       infra/prod/main.tf:3" in block
    assert "    password:   infra/prod/main.tf:8" in block
    assert "    key:        infra/prod/main.tf:12" in block
    assert "    module:     module.team" in block
    assert "    conditions: count = var.ci ? 1 : 0" in block
    assert "INCOMPLETE: 1 file or folder could not be read" in text
    assert "\\x1b[31m" in text  # the hostile name, escaped


def test_text_colour_only_around_statuses() -> None:
    text = render("text", sample_run(), color=True)
    assert "\x1b[1;31mFAIL" in text
    assert "\x1b[31m|" not in text  # never the name's own escape


def test_markdown_table_is_inert() -> None:
    text = render("markdown", sample_run())
    assert text.startswith("## initkeys iac: FAIL")
    rows = [line for line in text.splitlines() if line.startswith("| **")]
    assert len(rows) == 6  # FAIL x2, ERROR, WARNING x3
    assert all(line.count(" | ") == 7 for line in rows)
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\<b\\>" in text  # escaped in prose (inside a code span it is inert)


def test_nothing_found_is_said() -> None:
    run = IacRun(settings=Settings(), generated_at=WHEN, skipped=3, paths=("repo",))
    assert "No Terraform, CloudFormation or plan file found" in render("text", run)
    REPORT.validate(json.loads(render("json", run)))


def test_format_names_and_files() -> None:
    assert IAC_FORMAT_NAMES == ("text", "json", "csv", "sarif", "junit", "markdown")
    assert parse_format_list("SARIF, json,sarif") == ["sarif", "json"]
    assert file_name("sarif") == "initkeys-iac.sarif"
    from initkeys.errors import InputError

    with pytest.raises(InputError, match="unknown output format 'html' for iac"):
        parse_format_list("html")


# -- fuzz: any records render in every format, valid where a schema says ------------------

_TEXT = st.text(max_size=12)
_LINES = st.builds(SourceLine, st.text(min_size=1, max_size=10), st.integers(0, 10_000))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.lists(
        st.builds(
            IacResource,
            st.sampled_from(list(IacKind)),
            _TEXT,
            _LINES,
            st.sampled_from(["c1", "c2"]),
            st.sampled_from(["", "module.m"]),
            st.one_of(st.none(), st.sampled_from(["u1", "U1", "u2"]), _TEXT),
            st.one_of(st.none(), _TEXT),
            st.one_of(st.none(), _TEXT),
        ),
        max_size=10,
    ),
    st.lists(st.builds(IacNote, _LINES, _TEXT, _TEXT, st.booleans()), max_size=3),
)
def test_fuzz_every_format_renders_any_findings(
    resources: list[IacResource], notes: list[IacNote]
) -> None:
    tried("iac-formats")
    findings: tuple[IacFinding, ...] = judge_iac(
        IacScan(resources=tuple(resources), notes=tuple(notes)), Settings()
    )
    run = IacRun(Settings(), WHEN, findings, files_read=1)
    for name in IAC_FORMAT_NAMES:
        text = render(name, run)
        assert "\x1b" not in text, name
    SARIF.validate(json.loads(render("sarif", run)))
    REPORT.validate(json.loads(render("json", run)))
    ET.fromstring(render("junit", run))


def test_every_iac_reason_is_in_the_contract() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "verdicts.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Infrastructure as code") :]
    for reason in IacReason:
        assert f"| `{reason.value}` |" in section, reason
    assert "(../src/initkeys/schemas/iac-report-v1.json)" in section


def test_ids_do_not_depend_on_how_the_path_was_typed() -> None:
    def first_id(path: str) -> str:
        user = IacResource(IacKind.USER, "U", SourceLine(f"{path}/main.tf", 1), path, user_name="u")
        run = IacRun(Settings(), WHEN, judge_iac(IacScan(resources=(user,)), Settings()))
        return str(json.loads(render("json", run))["findings"][0]["id"])

    assert first_id("infra") == first_id("./infra") == first_id(".\\infra")
