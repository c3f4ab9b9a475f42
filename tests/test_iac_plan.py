"""Plan JSON from ``terraform show -json PLAN`` (initkeys.sources.iac.plan): the corpus
under tests/data/iac/plan with its exact findings, the reader's choices, the hostile
plans under tests/data/hostile/iac/plan, and a fuzzer."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.evaluate.iac import judge_iac
from initkeys.model import Settings
from initkeys.sources.iac.plan import read_plan
from initkeys.sources.iac.records import IacKind, IacScan, SourceLine

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "iac" / "plan"
HOSTILE = DATA / "hostile" / "iac" / "plan"

Row = tuple[str, str, str, str, int, int, tuple[str, ...]]


def scan_file(path: Path) -> IacScan:
    return read_plan(path.read_text(), f"plan/{path.name}")


def findings(path: Path) -> list[Row]:
    """Status, reason, user, module, passwords, keys, conditions; every line is 0."""
    rows = []
    for f in judge_iac(scan_file(path), Settings()):
        lines = {at.line for at in (f.user_at, *f.password_at, *f.key_at) if at is not None}
        assert lines <= {0}
        rows.append(
            (
                str(f.status),
                str(f.reason),
                f.user,
                f.module,
                len(f.password_at),
                len(f.key_at),
                f.conditions,
            )
        )
    return rows


LEAD = 'module.team["{}"].module.lead'
EXPECTED: dict[str, list[Row]] = {
    "iam-user-module.json": [("FAIL", "iac-setup-key", "alice", "module.alice", 1, 1, ())],
    "for-each.json": [
        ("FAIL", "iac-setup-key", 'aws_iam_user.this["alice"]', "", 1, 1, ()),
        ("NOT_APPLICABLE", "iac-programmatic-user", 'aws_iam_user.this["bob"]', "", 0, 1, ()),
        ("PASS", "iac-console-user-no-key", 'aws_iam_user.this["carol"]', "", 1, 0, ()),
    ],
    "count-zero.json": [("PASS", "iac-console-user-no-key", "ci-operator", "", 1, 0, ())],
    "other-user.json": [
        ("PASS", "iac-console-user-no-key", "alice", "", 1, 0, ()),
        ("NOT_APPLICABLE", "iac-programmatic-user", "bob", "", 0, 1, ()),
    ],
    "existing.json": [("FAIL", "iac-setup-key", "dan", "", 1, 1, ())],
    "nested-modules.json": [
        (
            "PASS",
            "iac-console-user-no-key",
            LEAD.format("dev") + ".aws_iam_user.this",
            LEAD.format("dev"),
            1,
            0,
            (),
        ),
        (
            "FAIL",
            "iac-setup-key",
            LEAD.format("ops") + ".aws_iam_user.this",
            LEAD.format("ops"),
            1,
            1,
            (),
        ),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_findings_exactly(name: str) -> None:
    assert findings(CORPUS / name) == EXPECTED[name]


def test_every_corpus_plan_is_expected_listed_and_shaped_as_terraform_writes_it() -> None:
    files = {p.name for p in CORPUS.iterdir()}
    assert files == set(EXPECTED)
    readme = (DATA / "iac" / "README.md").read_text()
    for name in files:
        assert f"`{name}`" in readme, name
        text = (CORPUS / name).read_text()
        # terraform show -json writes one line of compact JSON.
        assert text.count("\n") == 1 and text.endswith("}\n")
        plan = json.loads(text)
        assert re.fullmatch(r"1\.\d+", plan["format_version"])
        for key in ("planned_values", "resource_changes", "configuration"):
            assert key in plan, (name, key)


def test_a_plan_finding_names_the_plan_file_at_line_0() -> None:
    (finding,) = judge_iac(scan_file(CORPUS / "iam-user-module.json"), Settings())
    assert finding.user_at == SourceLine("plan/iam-user-module.json", 0)
    assert finding.configuration == "plan/iam-user-module.json"


def test_secrets_in_the_plan_are_never_copied() -> None:
    scan = scan_file(CORPUS / "existing.json")
    assert "never-print" in (CORPUS / "existing.json").read_text()
    assert "never-print" not in repr(scan) + repr(judge_iac(scan, Settings()))


def test_for_each_keys_link_each_key_to_its_own_user() -> None:
    scan = scan_file(CORPUS / "for-each.json")
    linked = {r.address: r.user_address for r in scan.resources if r.kind is not IacKind.USER}
    assert linked == {
        'aws_iam_access_key.this["alice"]': 'aws_iam_user.this["alice"]',
        'aws_iam_access_key.this["bob"]': 'aws_iam_user.this["bob"]',
        'aws_iam_user_login_profile.this["alice"]': 'aws_iam_user.this["alice"]',
        'aws_iam_user_login_profile.this["carol"]': 'aws_iam_user.this["carol"]',
    }


# -- the reader's choices on variants of the corpus -------------------------------------------


def load(name: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((CORPUS / name).read_text())
    return plan


def verdicts(plan: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    scan = read_plan(json.dumps(plan), "p.json")
    return [
        (str(f.status), str(f.reason), f.user, f.conditions) for f in judge_iac(scan, Settings())
    ]


def test_an_inactive_key_is_a_condition() -> None:
    plan = load("existing.json")
    for resource in plan["planned_values"]["root_module"]["resources"]:
        if resource["type"] == "aws_iam_access_key":
            resource["values"]["status"] = "Inactive"
    assert verdicts(plan) == [
        ("WARNING", "iac-maybe-setup-key", "dan", ('the key is planned with status = "Inactive"',))
    ]


def test_a_delete_only_change_drops_the_instance_and_a_deposed_one_does_not() -> None:
    plan = load("existing.json")
    key_change = next(c for c in plan["resource_changes"] if c["type"] == "aws_iam_access_key")
    deposed = copy.deepcopy(key_change) | {"deposed": "00000001"}
    deposed["change"]["actions"] = ["delete"]
    plan["resource_changes"].append(deposed)
    assert verdicts(plan) == [("FAIL", "iac-setup-key", "dan", ())]
    key_change["change"]["actions"] = ["delete"]
    assert verdicts(plan) == [("PASS", "iac-console-user-no-key", "dan", ())]


def test_the_state_form_is_read_too() -> None:
    plan = load("existing.json")
    state = {
        "format_version": "1.0",
        "terraform_version": "1.9.8",
        "values": plan["prior_state"]["values"],
    }
    assert verdicts(state) == [("FAIL", "iac-setup-key", "dan", ())]


def test_unknown_user_without_a_resolvable_reference_is_undecided() -> None:
    plan = load("for-each.json")
    plan["configuration"]["root_module"]["resources"] = []
    undecided = ("the user this key is for cannot be decided statically",)
    # No user is linked to a password any more; the profiles and keys of unknown users
    # are one WARNING, not a pass.
    assert [v[0] for v in verdicts(plan)] == ["NOT_APPLICABLE"] * 3 + ["WARNING"]
    # Shown by the address of the first of them (users unknown).
    first = 'aws_iam_user_login_profile.this["alice"]'
    assert verdicts(plan)[-1] == ("WARNING", "iac-maybe-setup-key", first, undecided)


def test_empty_plan_and_data_sources() -> None:
    empty = {"format_version": "1.2", "planned_values": {"root_module": {}}}
    assert read_plan(json.dumps(empty), "p.json") == IacScan(files_read=1)
    data = {"address": "data.aws_iam_user.x", "mode": "data", "type": "aws_iam_user", "name": "x"}
    empty["planned_values"]["root_module"] = {"resources": [data]}
    assert read_plan(json.dumps(empty), "p.json") == IacScan(files_read=1)


# -- hostile plans -----------------------------------------------------------------------------

UNREADABLE = {
    "not-json.json": "invalid JSON at line 1 column 1: Expecting value",
    "deep.json": "JSON nested deeper than 200 levels",
    "format-0.2.json": "format_version 0.2 is not 1.x",
    "format-2.0.json": "format_version 2.0 is not 1.x",
    "no-format-version.json": "it has no format_version (write it with terraform show -json PLAN)",
    "no-planned-values.json": "it has no planned_values (write it with terraform show -json PLAN)",
    "resources-not-array.json": "resources is not a JSON array",
    "address-missing.json": "a planned resource has no address or name",
    "huge-number.json": "a number of 5000 digits",
    "nan.json": "NaN is not a JSON number",
    "lone-surrogate.json": "a string holds a lone UTF-16 surrogate",
    "top-array.json": "its top is not a JSON object",
    "control-user-name.json": "aws_iam_user.alice has a name 'alice\\x1b]0;pwned\\x07' that IAM "
    "refuses (letters, digits and _+=,.@- only)",
    "control-address.json": "the address 'aws_iam_user.alice\\x1b[2J' holds control characters",
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_hostile_plan_is_one_unreadable_note(name: str) -> None:
    scan = read_plan((HOSTILE / name).read_text(), name)
    assert scan.resources == () and scan.files_read == 0
    assert [(n.unreadable, n.what) for n in scan.notes] == [
        (True, f"{name} is not a Terraform plan initkeys can read: {UNREADABLE[name]}")
    ]


def test_an_errored_plan_is_read_with_an_unreadable_note() -> None:
    scan = read_plan((HOSTILE / "errored.json").read_text(), "errored.json")
    assert [(str(f.status), str(f.reason), f.user) for f in judge_iac(scan, Settings())] == [
        ("PASS", "iac-console-user-no-key", "alice"),
        ("ERROR", "iac-unreadable", ""),
    ]
    assert scan.notes[0].what == (
        "errored.json is a plan that errored: what it would create is incomplete; fix the "
        "errors and scan a new plan"
    )


def test_an_incomplete_plan_is_read_with_a_note() -> None:
    plan = load("existing.json") | {"complete": False}
    scan = read_plan(json.dumps(plan), "p.json")
    assert [(n.unreadable, n.what) for n in scan.notes] == [
        (
            False,
            "p.json is an incomplete plan (complete: false): Terraform deferred some changes "
            "to a later run; scan that run's plan too",
        )
    ]
    assert verdicts(plan)[0] == ("FAIL", "iac-setup-key", "dan", ())


def test_every_hostile_plan_is_checked_and_listed() -> None:
    files = {p.name for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert files == set(UNREADABLE) | {"errored.json"}
    readme = (HOSTILE / "README.md").read_text()
    assert set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE)) == files


def test_oversized_text_is_refused_before_parsing() -> None:
    from initkeys.sources.iac import limits

    scan = read_plan(" " * (limits.MAX_FILE_BYTES + 1), "huge.json")
    assert [n.what for n in scan.notes] == [
        "huge.json is not a Terraform plan initkeys can read: larger than 32 MiB"
    ]


# -- fuzzer -----------------------------------------------------------------------------------

SEEDS = [(CORPUS / name).read_text() for name in sorted(EXPECTED)]
JUNK = st.sampled_from(
    [None, True, 0, -1, "", "1.2", "2.0", "aws_iam_user", "aws_iam_access_key", "module.x", [], {}]
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


PATHS = [_paths(json.loads(seed)) for seed in SEEDS]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    seed = draw(st.integers(0, len(SEEDS) - 1))
    plan = json.loads(SEEDS[seed])
    for _ in range(draw(st.integers(1, 3))):
        *parent_path, last = PATHS[seed][draw(st.integers(0, len(PATHS[seed]) - 1))]
        parent: Any = plan
        try:
            for step in parent_path:
                parent = parent[step]
            if draw(st.booleans()) and isinstance(parent, dict):
                del parent[last]
            else:
                parent[last] = draw(JUNK)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    text = json.dumps(plan)
    if draw(st.integers(0, 9)) == 0:  # now and then, broken JSON as well
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + text[cut + 1 :]
    return text


@settings(max_examples=200, deadline=None, derandomize=True)
@given(mutated())
def test_fuzz_mutated_plans_always_give_a_scan(text: str) -> None:
    tried("iac-plan")
    scan = read_plan(text, "fuzz.json")
    assert isinstance(scan, IacScan)
    for note in scan.notes:
        assert note.what.isprintable() and note.what.startswith("fuzz.json ")
    assert scan.files_read == 1 or (scan.resources == () and len(scan.notes) == 1)
    judge_iac(scan, Settings())
