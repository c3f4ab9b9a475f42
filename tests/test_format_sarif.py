"""``--format sarif``: valid against the official SARIF 2.1.0 schema, and says the right things."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from format_runs import HOSTILE_NAMES, empty_run, hostile_run, many_fails, one_finding
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import FAILING, here, no_aws_env, write
from test_formats import ACCOUNT, GENERATED, _render, _run

from initkeys.control import CONTROL
from initkeys.formats.sarif import FINGERPRINT, NOT_JUDGED_RULE_ID, RULE_ID, SARIF_SCHEMA
from initkeys.model import AccountAudit, AuditRun, Mode, Settings, Status

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@cache
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    # Formats too (uri, uri-reference, date-time): jsonschema skips them unless asked.
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _sarif(run: AuditRun, **kwargs: Any) -> dict[str, Any]:
    """The SARIF log of ``run``, checked against the schema and the spec's cross-references."""
    doc: dict[str, Any] = json.loads(_render("sarif", run, **kwargs))
    errors = sorted(_validator().iter_errors(doc), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])
    _check_references(doc)
    return doc


def _check_references(doc: dict[str, Any]) -> None:
    """What the schema cannot check: indexes point where the spec says they must."""
    (sarif_run,) = doc["runs"]
    cached = sarif_run["logicalLocations"]
    for position, entry in enumerate(cached):
        assert entry["index"] == position  # a cached entry's index is its own position
        if "parentIndex" in entry:
            assert 0 <= entry["parentIndex"] < len(cached)
        else:
            assert entry["kind"] == "namespace"  # only accounts are top-level
    rules = sarif_run["tool"]["driver"]["rules"]
    suppressions = set()
    for result in sarif_run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        suppressions.add(result["suppressions"] is None)
        (location,) = result["locations"]
        (logical,) = location["logicalLocations"]
        if "index" in logical:  # refers to a cached entry: the same properties
            assert cached[logical["index"]] == logical
        else:  # a key, inline, child of its user
            parent = cached[logical["parentIndex"]]
            assert (
                logical["fullyQualifiedName"] == f"{parent['fullyQualifiedName']}#{logical['name']}"
            )
    assert suppressions in (set(), {False})  # all results carry suppression information


def _chain(doc: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Names from the result's location up to its account."""
    cached = doc["runs"][0]["logicalLocations"]
    entry = result["locations"][0]["logicalLocations"][0]
    names = [entry["name"]]
    while "parentIndex" in entry:
        entry = cached[entry["parentIndex"]]
        names.append(entry["name"])
    return names


def _json_ids(run: AuditRun) -> dict[tuple[str, int | None], str]:
    doc = json.loads(_render("json", run))
    return {(f["user"], f["key_slot"]): f["id"] for a in doc["accounts"] for f in a["findings"]}


# --------------------------------------------------------------------------- structure


def test_log_tool_and_rules() -> None:
    doc = _sarif(_run(), tool_version="9.9.9")
    assert doc["version"] == "2.1.0"
    assert doc["$schema"] == SARIF_SCHEMA
    assert json.loads(SCHEMA.read_text())["id"] == SARIF_SCHEMA  # the schema we validate with
    (sarif_run,) = doc["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "initkeys"
    assert driver["version"] == "9.9.9"
    control, not_judged = driver["rules"]
    assert control["id"] == RULE_ID == "CIS-AWS-1.11"
    assert control["shortDescription"]["text"] == CONTROL.title + "."
    assert CONTROL.rationale in control["fullDescription"]["text"]
    assert CONTROL.solution in control["help"]["text"]
    assert "800-53|AC-6(2)" in control["help"]["text"]
    assert "800-53\\|AC-6(2)" in control["help"]["markdown"]  # escaped for Markdown
    assert "\\<id\\>" in control["help"]["markdown"]  # not an HTML tag
    assert control["helpUri"] == CONTROL.see_also
    assert "security" in control["properties"]["tags"]
    assert control["properties"]["control"]["control_id"] == CONTROL.control_id
    assert not_judged["id"] == NOT_JUDGED_RULE_ID


def test_results_levels_and_fingerprints() -> None:
    run = _run()
    doc = _sarif(run)
    results = doc["runs"][0]["results"]
    counts = run.counts()
    assert len(results) == counts[Status.FAIL] + counts[Status.WARNING] + counts[Status.ERROR]
    by_user = {(r["properties"]["user"], r["properties"]["key_slot"]): r for r in results}
    assert by_user["alice", 1]["level"] == "error"
    assert by_user["alice", 1]["ruleId"] == RULE_ID
    assert by_user["alice", 1]["message"]["text"].startswith("Key 1 of alice")
    assert by_user["bob", 1]["level"] == "warning"
    assert by_user["=cmd+1", 1]["level"] == "error"
    broken = by_user["broken", None]
    assert (broken["ruleId"], broken["ruleIndex"], broken["level"]) == (
        NOT_JUDGED_RULE_ID,
        1,
        "error",
    )
    assert ("bob", 2) not in by_user and ("carol", None) not in by_user  # PASS is only counted
    ids = _json_ids(run)
    for key, result in by_user.items():
        assert result["fingerprints"] == {FINGERPRINT: ids[key]}
        assert result["partialFingerprints"] == {FINGERPRINT: ids[key]}
        assert result["suppressions"] == []
    props = doc["runs"][0]["properties"]
    assert props["summary"] == {"FAIL": 2, "ERROR": 1, "WARNING": 1, "PASS": 2, "NOT_APPLICABLE": 2}
    assert (props["mode"], props["setup_window_seconds"], props["result"]) == ("setup", 600, "FAIL")


def test_logical_locations_account_user_key() -> None:
    doc = _sarif(_run())
    sarif_run = doc["runs"][0]
    cached = sarif_run["logicalLocations"]
    assert cached[0]["name"] == ACCOUNT and cached[0]["kind"] == "namespace"
    assert cached[0]["properties"]["source"] == "report.csv"
    assert cached[1]["name"] == "210987654321"  # every account, audited or not
    by_user = {r["properties"]["user"]: r for r in sarif_run["results"]}
    alice = by_user["alice"]
    assert _chain(doc, alice) == ["access_key_1", "alice", ACCOUNT]
    key = alice["locations"][0]["logicalLocations"][0]
    assert key["kind"] == "resource"
    assert key["fullyQualifiedName"] == f"arn:aws:iam::{ACCOUNT}:user/alice#access_key_1"
    user = cached[key["parentIndex"]]
    assert user["kind"] == "resource"
    assert user["fullyQualifiedName"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert _chain(doc, by_user["broken"]) == ["broken", ACCOUNT]  # a user-level result
    # Only users with a result are cached, each once.
    names = [entry["name"] for entry in cached[2:]]
    assert sorted(names) == sorted({"alice", "bob", "=cmd+1", "broken"})


def test_physical_location_only_for_report_files() -> None:
    doc = _sarif(hostile_run())
    for result in doc["runs"][0]["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": "client%20report%20%3Cv2%3E.csv"}  # no region: no line known
    live = _sarif(many_fails(2))  # source "aws"
    assert all("physicalLocation" not in r["locations"][0] for r in live["runs"][0]["results"])


def test_invocation_and_accounts_not_audited() -> None:
    doc = _sarif(_run())
    (invocation,) = doc["runs"][0]["invocations"]
    # Fail closed: an account not audited (and an ERROR row) make the run incomplete,
    # which is not a successful execution, although one account was audited.
    assert invocation["executionSuccessful"] is False
    assert invocation["startTimeUtc"] == "2026-11-28T01:00:00Z"
    note, incomplete = invocation["toolExecutionNotifications"]
    assert incomplete["descriptor"] == {"id": "RUN-INCOMPLETE", "index": 1}
    assert incomplete["message"]["text"].startswith(
        "INCOMPLETE: 1 account could not be audited and 1 finding is ERROR"
    )
    assert note["level"] == "error"
    assert "210987654321" in note["message"]["text"]
    assert "AccessDenied" in note["message"]["text"]
    (account,) = note["locations"][0]["logicalLocations"]
    assert account == doc["runs"][0]["logicalLocations"][1]
    descriptor = doc["runs"][0]["tool"]["driver"]["notifications"][note["descriptor"]["index"]]
    assert descriptor["id"] == note["descriptor"]["id"]

    nothing = AuditRun(
        settings=Settings(),
        generated_at=GENERATED,
        accounts=(AccountAudit("210987654321", "aws", "aws", None, error="denied"),),
    )
    assert _sarif(nothing)["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_exempt_findings_are_suppressed() -> None:
    doc = _sarif(hostile_run())
    results = {r["properties"]["user"]: r for r in doc["runs"][0]["results"]}
    (suppression,) = results["ops-admin"]["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["status"] == "accepted"
    assert suppression["justification"] == "break-glass <admin> | approved `CISO`"
    assert suppression["properties"]["expires"] == "2027-01-31"
    assert results["ops-admin"]["level"] == "error"  # the verdict stands
    assert all(r["suppressions"] == [] for u, r in results.items() if u != "ops-admin")


def test_hostile_names_survive_exactly() -> None:
    doc = _sarif(hostile_run())
    users = {r["properties"]["user"] for r in doc["runs"][0]["results"]}
    assert set(HOSTILE_NAMES) <= users
    cached = {entry["name"] for entry in doc["runs"][0]["logicalLocations"]}
    assert set(HOSTILE_NAMES) <= cached
    note = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert note["message"]["text"].endswith("AccessDenied <b>|</b>\nnext line \x1b[2J")


def test_empty_run_and_cis_mode() -> None:
    doc = _sarif(empty_run())
    sarif_run = doc["runs"][0]
    assert sarif_run["results"] == []
    assert sarif_run["logicalLocations"] == []
    assert sarif_run["invocations"][0]["executionSuccessful"] is True
    assert sarif_run["invocations"][0]["toolExecutionNotifications"] == []
    cis = _sarif(_run(mode=Mode.CIS))
    assert cis["runs"][0]["properties"]["mode"] == "cis"


def test_duplicated_rows_keep_locations_unique() -> None:
    # The same user twice, and apart (a report that repeats a row): one cached
    # entry, two results with distinct ids; two accounts with one id stay apart.
    run = many_fails(3)
    (account,) = run.accounts
    findings = (*account.findings, *account.findings)
    twice = AccountAudit(ACCOUNT, "aws", "aws", None, findings=findings)
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(twice, twice))
    doc = _sarif(run)
    cached = doc["runs"][0]["logicalLocations"]
    assert len(cached) == 2 + 2 * 3
    fingerprints = [r["fingerprints"][FINGERPRINT] for r in doc["runs"][0]["results"]]
    assert len(fingerprints) == 4 * 3
    assert len(set(fingerprints)) == 2 * 3  # same account, same key: same id in both


@settings(max_examples=40, deadline=None)
@given(user=st.text(min_size=1, max_size=30), source=st.text(max_size=20))
def test_any_text_stays_valid_sarif(user: str, source: str) -> None:
    doc = _sarif(one_finding(user, Status.WARNING, user, key_slot=2, source=source))
    (result,) = doc["runs"][0]["results"]
    assert result["properties"]["user"] == user
    assert _chain(doc, result) == ["access_key_2", user, ACCOUNT]


# --------------------------------------------------------------------------- CLI


def test_cli_writes_valid_sarif(tmp_path: Path) -> None:
    path = write(tmp_path, "client.csv", FAILING)
    proc = here(["audit", "--credential-report", path, "--format", "sarif"], no_aws_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert not list(_validator().iter_errors(doc))
    (result,) = doc["runs"][0]["results"]
    assert result["properties"]["user"] == "dave"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "client.csv"


@pytest.mark.parametrize("stdin", [True, False])
def test_cli_output_dir_names(tmp_path: Path, stdin: bool) -> None:
    env = no_aws_env(tmp_path)
    source = "-" if stdin else write(tmp_path, "client.csv", FAILING)
    out = tmp_path / "out"
    args = ["audit", "--credential-report", source, "--format", "sarif,junit,markdown"]
    proc = here(
        [*args, "--output-dir", str(out)],
        env,
        stdin=FAILING if stdin else None,
    )
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "initkeys.junit.xml",
        "initkeys.md",
        "initkeys.sarif",
    ]
    doc = json.loads((out / "initkeys.sarif").read_text())
    location = doc["runs"][0]["results"][0]["locations"][0]
    assert ("physicalLocation" in location) is not stdin  # no file to point to for stdin
