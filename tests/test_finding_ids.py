"""Stable, unique finding ids, and several formats written at once with --output-dir."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st
from test_cli import FAILING, assert_one_line_error, here, no_aws_env, write

from initkeys.formats import finding_id, identified_findings
from initkeys.model import AccountAudit, Finding, Reason, Status

UTC = timezone.utc
DATA = Path(__file__).parent / "data"
CREATED = datetime(2022, 1, 1, tzinfo=UTC)
ARN = "arn:aws:iam::123456789012:user/alice"


def account(*findings: Finding, account_id: str = "123456789012") -> AccountAudit:
    return AccountAudit(
        account_id=account_id,
        partition="aws",
        source="aws",
        report_generated_at=None,
        findings=findings,
    )


def key_finding(slot: int, created: datetime, **changes: object) -> Finding:
    finding = Finding(
        user="alice",
        arn=ARN,
        status=Status.FAIL,
        reason=Reason.SETUP_KEY_UNUSED,
        message="m",
        key_slot=slot,
        key_created=created,
        user_created=CREATED,
    )
    return replace(finding, **changes)  # type: ignore[arg-type]


def test_two_keys_of_one_user_never_share_an_id() -> None:
    audit = account(key_finding(1, CREATED), key_finding(2, CREATED))
    ids = [i for i, _ in identified_findings(audit)]
    assert len(set(ids)) == 2


def test_the_id_follows_the_key_not_its_verdict_or_what_was_read() -> None:
    first = key_finding(1, CREATED)
    # A later run: the key is now used, a live read added its id and last use.
    later = key_finding(
        1,
        CREATED,
        status=Status.PASS,
        reason=Reason.SETUP_KEY_USED,
        access_key_id="AKIAEXAMPLE",
        last_used=CREATED + timedelta(days=3),
        message="other",
    )
    assert finding_id(account(first), first) == finding_id(account(later), later)


def test_the_id_changes_with_the_account_and_with_a_new_key() -> None:
    finding = key_finding(1, CREATED)
    base = finding_id(account(finding), finding)
    assert finding_id(account(finding, account_id="210987654321"), finding) != base
    renewed = key_finding(1, CREATED + timedelta(days=400))
    assert finding_id(account(renewed), renewed) != base


def test_duplicated_rows_get_distinct_ids_in_file_order() -> None:
    audit = account(key_finding(1, CREATED), key_finding(1, CREATED))
    ids = [i for i, _ in identified_findings(audit)]
    assert ids[1] == ids[0] + "-2"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["alice", "bob", ""]),
            st.one_of(st.none(), st.integers(1, 2)),
            st.integers(0, 3),
        ),
        max_size=12,
    )
)
def test_ids_are_unique_within_an_account(items: list[tuple[str, int | None, int]]) -> None:
    findings = tuple(
        Finding(
            user=user,
            arn=f"arn:aws:iam::123456789012:user/{user}" if user else "",
            status=Status.ERROR,
            reason=Reason.INVALID_ROW,
            message="m",
            key_slot=slot,
            key_created=CREATED + timedelta(days=day) if slot else None,
        )
        for user, slot, day in items
    )
    ids = [i for i, _ in identified_findings(account(*findings))]
    assert len(ids) == len(set(ids)) == len(findings)


def test_same_report_same_ids_in_json_and_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "report.csv", FAILING)
    env = no_aws_env(tmp_path)
    out = tmp_path / "out"
    proc = here(
        [
            "audit",
            "--credential-report",
            path,
            "--format",
            "json,csv,text",
            "--output-dir",
            str(out),
        ],
        env,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == [
        "initkeys.csv",
        "initkeys.json",
        "initkeys.txt",
    ]
    doc = json.loads((out / "initkeys.json").read_text())
    json_ids = [f["id"] for f in doc["accounts"][0]["findings"]]
    with (out / "initkeys.csv").open(newline="") as handle:
        csv_ids = [row["id"] for row in csv.DictReader(handle)]
    assert json_ids == csv_ids and len(set(json_ids)) == len(json_ids)
    assert "FAIL" in (out / "initkeys.txt").read_text()

    # A second run gives the same ids.
    again = here(["audit", "--credential-report", path, "--format", "json"], env)
    assert [f["id"] for f in json.loads(again.stdout)["accounts"][0]["findings"]] == json_ids


def test_output_dir_errors_are_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "report.csv", FAILING)
    env = no_aws_env(tmp_path)
    cases = [
        ["--format", "json,sarif-nope", "--output-dir", str(tmp_path / "d")],
        ["--format", "json,csv"],
        ["--format", "json", "--output", "x", "--output-dir", str(tmp_path / "d")],
        ["--format", "json", "--output-dir", path],
        ["--format", ","],
    ]
    for extra in cases:
        line = assert_one_line_error(here(["audit", "--credential-report", path, *extra], env), 2)
        assert "format" in line or "output" in line, line


def _ids_by_format(out: Path) -> dict[str, set[str]]:
    """The finding ids each machine-readable format carries, read as its consumer would."""
    doc = json.loads((out / "initkeys.json").read_text())
    sarif = json.loads((out / "initkeys.sarif").read_text())
    with (out / "initkeys.csv").open(newline="") as handle:
        csv_ids = {row["id"] for row in csv.DictReader(handle)}
    junit = ElementTree.parse(out / "initkeys.junit.xml")
    html_text = re.sub(r"</span><span>", "", (out / "initkeys.html").read_text())
    return {
        "json": {f["id"] for a in doc["accounts"] for f in a["findings"]},
        "csv": csv_ids,
        "sarif": {r["fingerprints"]["initkeysFindingId/v1"] for r in sarif["runs"][0]["results"]},
        "asff": {f["Id"] for f in json.loads((out / "initkeys.asff.json").read_text())},
        "ocsf": {
            e["finding_info"]["uid"] for e in json.loads((out / "initkeys.ocsf.json").read_text())
        },
        "junit": {
            p.get("value", "")
            for p in junit.iter("property")
            if p.get("name") in {"id", "finding_id", "initkeys.id"}
        },
        "html": set(re.findall(r"initkeys-1\.11-[0-9a-f]{24}", html_text)),
    }


def _all_formats(tmp_path: Path, directory: str) -> dict[str, set[str]]:
    out = tmp_path / directory
    names = "json,csv,sarif,asff,ocsf,junit,html"
    report = str(DATA / "report_normal.csv")
    args = ["audit", "--credential-report", report, "--format", names, "--output-dir", str(out)]
    proc = here(args, no_aws_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    return _ids_by_format(out)


def test_every_format_carries_the_same_ids(tmp_path: Path) -> None:
    ids = _all_formats(tmp_path, "out")
    every = ids.pop("json")
    assert every and all(i.startswith("initkeys-1.11-") for i in every)
    # Formats that list only some verdicts carry a subset, never another id.
    for name, found in ids.items():
        assert found, name
        assert found <= every, name
    assert ids["csv"] == ids["ocsf"] == ids["junit"] == every
    # The same ids again on a second run, in another directory.
    assert _all_formats(tmp_path, "again") == {"json": every, **ids}
