"""The report contract, initkeys/schemas/report-v1.json: the writer holds to it, and the
lean validator remediation reads with (initkeys.schema) gives jsonschema's answers.

The writer is checked with the real ``jsonschema`` library against a strict reading
of the shipped schema (every described property present, no other): the schema
describes exactly what ``--format json`` writes, in the order it writes it. The
reader's schema is the shipped one as it is (only ``required`` is required, fields
may be added).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from fuzz_kit import run_main, tried
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from remediation_kit import audit_json, seed

import initkeys
from initkeys.formats.json_format import JsonFormatter
from initkeys.model import AuditRun, Mode, Reason, Status
from initkeys.remediate.from_audit import read_audit_report
from initkeys.schema import SchemaError, check_subset, load_schema, validate
from initkeys.timeutil import parse_utc

DATA = Path(__file__).parent / "data"
SCHEMA = load_schema()


def strict(schema: Any) -> Any:
    """The schema as the writer must meet it: every property it describes, and no other."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if "properties" in schema:
            schema["required"] = list(schema["properties"])
            schema["additionalProperties"] = False
    return schema


# The writer's timestamps are checked as RFC 3339 (jsonschema's own date-time check).
WRITTEN = Draft202012Validator(strict(SCHEMA), format_checker=Draft202012Validator.FORMAT_CHECKER)

# The reader's date-time is parse_utc's; jsonschema given the same check answers for
# the rest of the keywords on its own.
READ_FORMATS = FormatChecker(formats=())
READ_FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or bool(parse_utc(value)))


def reference(schema: Mapping[str, Any] = SCHEMA) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=READ_FORMATS)


def assert_written_contract(text: str) -> dict[str, Any]:
    """``text`` is a report as the schema describes it, keys in the schema's order."""
    document: dict[str, Any] = json.loads(text)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in WRITTEN.iter_errors(document)]
    assert not errors, errors[:5]
    validate(document)  # the lean validator accepts it too
    assert list(document) == list(SCHEMA["properties"])
    account_schema = SCHEMA["properties"]["accounts"]["items"]
    for account in document["accounts"]:
        assert list(account) == list(account_schema["properties"])
        for finding in account["findings"]:
            assert list(finding) == list(
                account_schema["properties"]["findings"]["items"]["properties"]
            )
    return document


def render(run: AuditRun) -> str:
    out = io.StringIO()
    JsonFormatter().write(run, out, tool_version="9.9.9")
    return out.getvalue()


# -- the writer ------------------------------------------------------------------------------


def test_the_schema_is_valid_draft_2020_12_in_the_lean_subset() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    Draft202012Validator.check_schema(strict(SCHEMA))
    check_subset(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_schema_names_every_status_reason_and_mode_of_this_version() -> None:
    finding = SCHEMA["properties"]["accounts"]["items"]["properties"]["findings"]["items"]
    assert finding["properties"]["status"]["enum"] == [s.value for s in Status]
    assert finding["properties"]["reason"]["enum"] == [r.value for r in Reason]
    assert SCHEMA["properties"]["mode"]["enum"] == [m.value for m in Mode]
    assert SCHEMA["properties"]["summary"]["required"] == [s.value for s in Status]


def test_the_writers_format_check_is_real() -> None:
    """jsonschema checks date-time only with its format extra; without it every run would pass."""
    from format_runs import hostile_run

    document = json.loads(render(hostile_run()))
    assert WRITTEN.is_valid(document)
    document["generated_at"] = "2026-13-01T00:00:00Z"
    assert not WRITTEN.is_valid(document)


def _in_process_runs() -> Iterator[tuple[str, AuditRun]]:
    from format_runs import empty_run, hostile_run, many_fails, one_finding
    from test_evidence_formats import EVIDENCE
    from test_formats import _run

    yield "ordinary with an ERROR account", _run()
    yield "cis", _run(mode=Mode.CIS)
    yield "hostile names, an exemption", hostile_run()
    yield "many", many_fails(50)
    yield "user-level ERROR", one_finding("x", Status.ERROR)
    yield "empty", empty_run()
    yield "cloudtrail evidence", EVIDENCE


def test_every_in_process_run_writes_the_contract() -> None:
    names = []
    for name, run in _in_process_runs():
        assert_written_contract(render(run))
        names.append(name)
    assert len(names) == 7


def _offline_inputs() -> list[Path]:
    files = [p for p in sorted(DATA.iterdir()) if p.suffix in (".csv", ".json", ".txt")]
    files += sorted((DATA / "hostile" / "report").glob("*.[cj]s*"))
    files += sorted((DATA / "hostile" / "cli").glob("*.csv"))
    return [p for p in files if p.name != "sarif-schema-2.1.0.json"]


def test_every_offline_corpus_report_writes_the_contract(tmp_path: Path) -> None:
    """tests/data and tests/data/hostile/{report,cli}: each file that is a report gives a
    document in the contract (in both modes, and with an exemption); the rest exit 2."""
    written = refused = 0
    for path in _offline_inputs():
        for extra in ([], ["--mode", "cis", "--exempt-user", "a*"]):
            code, out, err = run_main(
                ["audit", "--credential-report", str(path), "--format", "json", *extra]
            )
            if code == 2:
                assert out == "" and err.count("\n") == 1, (path, err)
                refused += 1
                continue
            assert code in (0, 1), (path, code, err)
            document = assert_written_contract(out)
            assert document["accounts"], path
            written += 1
    assert written >= 2 * 35 and refused >= 2 * 8, (written, refused)


def test_a_live_audit_writes_the_contract(aws: Any, tmp_path: Path) -> None:
    seed(aws)
    path = audit_json(aws, tmp_path / "audit.json")
    document = assert_written_contract(path.read_text())
    (account,) = document["accounts"]
    assert account["source"] == "aws" and account["findings"]
    assert any(f["access_key_id"] for f in account["findings"])
    # And what it wrote is what remediation reads back.
    assert read_audit_report(str(path)).accounts[0].account_id == account["account_id"]


def test_an_org_run_with_an_account_that_denies_writes_the_contract(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two member accounts, the second one's role without a policy: an ERROR account."""
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    members = [
        organizations.create_account(AccountName=n, Email=f"{n}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for n in ("prod", "sandbox")
    ]
    iam = aws.client("iam")
    iam.create_user(UserName="auditor")
    allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    iam.put_user_policy(
        UserName="auditor",
        PolicyName="all",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow_all]}),
    )
    meta = iam.create_access_key(UserName="auditor")["AccessKey"]
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole",
    }
    for account_id, allowed in zip(members, (True, False), strict=True):
        creds = aws.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
            RoleSessionName="seed",
        )["Credentials"]
        member = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="us-east-1",
        ).client("iam", endpoint_url=aws.endpoint_url)
        member.create_user(UserName="alice")
        member.create_login_profile(UserName="alice", Password="Correct-Horse-9!")
        member.create_access_key(UserName="alice")
        member.create_role(
            RoleName="Auditor",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
        )
        if allowed:
            member.put_role_policy(
                RoleName="Auditor",
                PolicyName="audit",
                PolicyDocument=json.dumps(initkeys.policy_document("audit")),
            )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", meta["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", meta["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with aws.enforcing_iam():
        code, out, err = run_main(
            [
                "audit",
                "--endpoint-url",
                aws.endpoint_url,
                "--accounts",
                ",".join(members),
                "--role-name",
                "Auditor",
                "--format",
                "json",
            ]
        )
    assert code == 1, err
    document = assert_written_contract(out)
    prod, sandbox = document["accounts"]
    assert prod["error"] is None and prod["findings"]
    assert sandbox["status"] == "ERROR" and sandbox["error"] and sandbox["findings"] == []
    assert document["complete"] is False and document["incomplete"]


def test_a_report_of_an_earlier_initkeys_1_is_still_read() -> None:
    """The fuzzers' seed was written before complete, notes and report_lines were added:
    the reader's schema takes it (fields are added, never required later)."""
    document = json.loads((DATA / "hostile" / "remediate" / "seed-audit.json").read_text())
    assert "complete" not in document
    assert reference().is_valid(document)
    validate(document)


# -- the lean validator against jsonschema -----------------------------------------------------


def _keyword_cases() -> Iterator[tuple[dict[str, Any], Any, str | None]]:
    """(schema, value, the lean validator's message or None when valid)."""
    obj = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "integer", "minimum": 1, "maximum": 2}},
        "additionalProperties": False,
    }
    yield obj, {"a": 1}, None
    yield obj, {"a": 2.0}, None  # 2.0 is an integer in JSON Schema
    yield obj, {"a": True}, "a has the wrong type (bool), not integer"
    yield obj, {"a": 2.5}, "a has the wrong type (float), not integer"
    yield obj, {"a": 3}, "a is 3, more than 2"
    yield obj, {"a": 0}, "a is 0, less than 1"
    yield obj, {}, "a is missing"
    yield obj, {"a": 1, "b": 1}, "b is not allowed"
    yield obj, [], "the top level has the wrong type (list), not object"
    items = {"type": "object", "properties": {"xs": {"type": "array", "items": obj}}}
    yield items, {"xs": [{"a": 1}, {}]}, "xs[1]: a is missing"
    yield items, {"xs": [{"a": 1}, {"a": 1, "b c": 0}]}, "xs[1]: 'b c' is not allowed"
    extra = {"type": "object", "additionalProperties": {"type": "string"}}
    yield extra, {"k": "v"}, None
    yield extra, {"k": 1}, "k has the wrong type (int), not string"
    enum = {"properties": {"s": {"type": ["string", "null"], "enum": ["A", "B", None]}}}
    yield enum, {"s": None}, None
    yield enum, {"s": "C"}, "unknown s 'C' (not one of A, B, None)"
    yield {"items": {"enum": [1]}}, [1.0, True], "[1]: True is not one of 1"
    yield {"const": 1}, 1, None
    yield {"const": 1}, True, "the top level is True, not 1"
    yield {"const": False}, 0, "the top level is 0, not False"
    text = {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"}
    yield text, "ab", None
    yield text, "a", "the top level is shorter than 2 characters"
    yield text, "abcd", "the top level is longer than 3 characters"
    yield text, "aB", "the top level 'aB' does not match ^[a-z]+$"
    yield {"pattern": "b"}, "abc", None  # not anchored
    yield {"pattern": "b"}, 5, None  # string keywords pass other types
    stamp = {"type": "object", "properties": {"t": {"format": "date-time"}}}
    yield stamp, {"t": "2026-11-27T12:00:00Z"}, None
    yield stamp, {"t": 5}, None
    yield (
        stamp,
        {"t": "9999-12-31T23:59:59-05:00"},
        "t is not a timestamp: '9999-12-31T23:59:59-05:00'",
    )
    yield {"type": "number", "minimum": 0}, -0.5, "the top level is -0.5, less than 0"
    yield {"type": "number"}, False, "the top level has the wrong type (bool), not number"


@pytest.mark.parametrize(("schema", "value", "message"), list(_keyword_cases()))
def test_each_keyword_answers_as_jsonschema_does(
    schema: dict[str, Any], value: Any, message: str | None
) -> None:
    check_subset(schema)
    assert reference(schema).is_valid(value) is (message is None)
    if message is None:
        validate(value, schema)
    else:
        with pytest.raises(SchemaError) as caught:
            validate(value, schema)
        assert str(caught.value) == message


def test_a_keyword_outside_the_subset_is_refused_not_ignored() -> None:
    for schema in ({"oneOf": [{}]}, {"format": "email"}, {"type": "float"},
                   {"properties": {"a": {"$ref": "#"}}}):  # fmt: skip
        with pytest.raises(ValueError, match=r"unsupported|unknown type"):
            check_subset(schema)


SEED = json.loads((DATA / "hostile" / "remediate" / "seed-audit.json").read_text())

# What an editor, an attacker or a newer initkeys could put where a field was.
VALUES: list[Any] = [
    None, True, False, 0, 1, 2, 3, -1, 1.0, 2.0, 2.5, 1e300, "", "x",
    "FAIL", "MAYBE", "setup", "cis", "lenient", "setup-key-unused", "no-such-reason",
    "2026-11-27T12:00:00Z", "2026-11-27T12:00:00+05:00", "2023-04-01T14:00:00", "2023-04-01",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "not a date",
    "initkeys-1.11-0123456789abcdef01234567", "initkeys-1.11-XYZ", "initkeys",
    [], ["x"], [1], {}, {"reason": "r"}, {"reason": 1}, {"read": 1, "judged": 1, "unreadable": 0},
]  # fmt: skip


def _containers(document: Any) -> list[Any]:
    found, stack = [document], [document]
    while stack:
        value = stack.pop()
        for item in value.values() if isinstance(value, dict) else value:
            if isinstance(item, (dict, list)):
                found.append(item)
                stack.append(item)
    return found


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A genuine report, or one with a few members replaced, deleted or added."""
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from([c for c in _containers(document) if c] or [document]))
        if isinstance(target, dict):
            key = draw(st.sampled_from([*sorted(target), "added"]))
            if key in target and draw(st.integers(0, 3)) == 0:
                del target[key]
            else:
                target[key] = copy.deepcopy(draw(st.sampled_from(VALUES)))
        elif target:
            index = draw(st.integers(0, len(target) - 1))
            if draw(st.booleans()):
                target[index] = copy.deepcopy(draw(st.sampled_from(VALUES)))
            else:
                del target[index]
    return document


def _seeds() -> list[Any]:
    from format_runs import hostile_run
    from test_evidence_formats import EVIDENCE

    return [SEED, json.loads(render(hostile_run())), json.loads(render(EVIDENCE))]


SEEDS = _seeds()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(document=documents())
def test_fuzz_the_lean_validator_answers_as_jsonschema(document: Any) -> None:
    tried("report-schema")
    errors = list(reference().iter_errors(document))
    try:
        validate(document)
    except SchemaError as e:
        assert errors, f"only the lean validator refused: {e}"
        assert "\n" not in str(e)
        # It names a place jsonschema also found wrong (for a missing or extra member,
        # jsonschema names the object that holds it).
        places = {_place(error.absolute_path) for error in errors}
        assert (
            e.path in places
            or e.path.rpartition(".")[0] in places
            or any(e.path.startswith(place) for place in places)
        ), (e.path, places)
    else:
        assert not errors, [error.message for error in errors]


def _place(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# -- the reader -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["accounts"][0]["findings"][1].update(status="MAYBE"),
            "accounts[0].findings[1]: unknown status 'MAYBE' (not one of FAIL, ERROR, WARNING, "
            "PASS, NOT_APPLICABLE)",
        ),
        (
            lambda d: d["accounts"][0]["findings"][0].update(key_slot=3),
            "accounts[0].findings[0].key_slot is 3, more than 2",
        ),
        (
            lambda d: d["accounts"][0].update(notes="redacted"),
            "accounts[0].notes has the wrong type (str), not array",
        ),
        (
            lambda d: d["accounts"][0]["findings"][0].update(exemption="yes"),
            "accounts[0].findings[0].exemption has the wrong type (str), not object or null",
        ),
    ],
)
def test_the_reader_names_the_json_path(tmp_path: Path, edit: Any, message: str) -> None:
    document = copy.deepcopy(SEED)
    edit(document)
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(document))
    with pytest.raises(initkeys.InputError) as caught:
        read_audit_report(str(path))
    assert str(caught.value) == f"{path}: not an initkeys JSON audit report: {message}"


def test_the_reader_takes_added_fields_and_an_integral_float_slot(tmp_path: Path) -> None:
    """Fields may be added without a new schema_version; 1.0 is the integer 1."""
    document = copy.deepcopy(SEED)
    document["from_a_newer_initkeys"] = {"x": 1}
    document["accounts"][0]["findings"][0]["key_slot"] = 1.0
    document["accounts"][0]["findings"][0]["new_evidence"] = [1, 2]
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(document))
    report = read_audit_report(str(path))
    slot = report.accounts[0].findings[0].key_slot
    assert slot == 1 and isinstance(slot, int)


# -- one shape of a finding --------------------------------------------------------------------


def test_the_guard_message_takes_its_key_fields_from_the_reports_shape() -> None:
    """The guard's key entry is the report's finding, cut down: same values, its own order,
    the exemption as its reason alone (the bytes the guard always wrote)."""
    from datetime import timedelta

    from format_runs import EXEMPTION, key_finding

    from initkeys.formats.json_format import finding_fields
    from initkeys.guard.message import _key

    finding = key_finding(
        "ops",
        Status.FAIL,
        Reason.SETUP_KEY_UNUSED,
        exemption=EXEMPTION,
        gap=timedelta(seconds=-1.5),
    )
    entry = _key(finding, True, None, False)
    assert list(entry.items()) == [
        ("access_key_id", None),
        ("status", "FAIL"),
        ("reason", "setup-key-unused"),
        ("active", True),
        ("user_created", "2022-01-01T00:00:00Z"),
        (
            "key_created",
            "2021-12-31T23:59:58.500000Z",
        ),
        ("last_used", None),
        ("setup_gap_seconds", -1),  # whole seconds toward zero, as int(total_seconds())
        ("exemption", EXEMPTION.reason),
        ("message", finding.message),
        ("deactivate", True),
        ("outcome", "dry-run"),
        ("outcome_reason", None),
    ]
    fields = finding_fields(finding)
    assert all(fields[name] == entry[name] for name in list(entry)[:8])
