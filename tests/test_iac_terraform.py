"""The Terraform reader (initkeys.sources.iac.terraform): each corpus case's exact
findings through judge_iac (tests/data/iac/README.md, "Terraform"), each hostile case's
exact notes (tests/data/hostile/iac/terraform/README.md), and a fuzzer over mutated
corpus files (always an IacScan, never an exception)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from fuzz_kit import tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initkeys.evaluate.iac import judge_iac
from initkeys.model import Settings
from initkeys.sources.iac.limits import MAX_FILE_BYTES, MAX_MODULE_DEPTH
from initkeys.sources.iac.records import IacFinding, IacKind, IacScan, SourceLine
from initkeys.sources.iac.terraform import read_configurations
from initkeys.sources.iac.terraform.registry import major_range

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "iac" / "terraform"
HOSTILE = DATA / "hostile" / "iac" / "terraform"
Row = tuple[object, ...]


def folders_under(base: Path) -> list[Path]:
    """What the walker hands the reader: every folder holding .tf or .tf.json files."""
    found = {p.parent for p in base.rglob("*") if p.name.endswith((".tf", ".tf.json"))}
    return sorted(found)


def scan(base: Path) -> IacScan:
    return read_configurations(folders_under(base), lambda p: shown(p, base))


def shown(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def at(line: SourceLine | None) -> str | None:
    return None if line is None else f"{line.path}:{line.line}"


def row(f: IacFinding) -> Row:
    if f.note is not None:
        return (str(f.status), str(f.reason), f.configuration, f.module, at(f.at), f.note.what)
    return (
        str(f.status),
        str(f.reason),
        f.configuration,
        f.user,
        f.module,
        at(f.user_at),
        tuple(at(p) for p in f.password_at),
        tuple(at(k) for k in f.key_at),
        f.conditions,
        f.elsewhere,
    )


def findings(base: Path) -> list[Row]:
    return [row(f) for f in judge_iac(scan(base), Settings())]


FAIL, WARNING, PASS, NA, ERROR = "FAIL", "WARNING", "PASS", "NOT_APPLICABLE", "ERROR"
SETUP, MAYBE = "iac-setup-key", "iac-maybe-setup-key"
NO_KEY, PROGRAMMATIC = "iac-console-user-no-key", "iac-programmatic-user"
NOT_SCANNED, UNREADABLE = "iac-not-scanned", "iac-unreadable"
PLAN = "scan the plan JSON (terraform show -json PLAN)"
V6 = "which allows v6 or later, whose inputs initkeys does not record"

CASES: dict[str, list[Row]] = {
    "reference": [
        (FAIL, SETUP, ".", "alice", "", "main.tf:2", ("main.tf:6",), ("main.tf:11",), (), ()),
    ],
    "literal_names": [
        (FAIL, SETUP, ".", "ops-bob", "", "main.tf:10", ("main.tf:14",), ("main.tf:18",), (), ()),
    ],
    "other_user_key": [
        (PASS, NO_KEY, ".", "alice", "", "main.tf:2", ("main.tf:10",), (), (), ()),
        (NA, PROGRAMMATIC, ".", "deploy", "", "main.tf:6", (), ("main.tf:14",), (), ()),
    ],
    "for_each_flags": [
        (FAIL, SETUP, ".", "alice", "", "main.tf:14", ("main.tf:19",), ("main.tf:24",), (), ()),
        (PASS, NO_KEY, ".", "bob", "", "main.tf:14", ("main.tf:19",), (), (), ()),
        (NA, PROGRAMMATIC, ".", "carol", "", "main.tf:14", (), ("main.tf:24",), (), ()),
    ],
    "for_each_unknown": [
        (
            WARNING,
            MAYBE,
            ".",
            "aws_iam_user.admin[each.key]",
            "",
            "main.tf:5",
            ("main.tf:10",),
            ("main.tf:15",),
            ("for_each = var.admins (var.admins has no default)",),
            (),
        ),
    ],
    "count_ci": [
        (
            WARNING,
            MAYBE,
            ".",
            "dave",
            "",
            "main.tf:6",
            ("main.tf:10",),
            ("main.tf:14",),
            ("count = var.ci ? 1 : 0 (var.ci has no default)",),
            (),
        ),
    ],
    "count_ci_tfvars": [
        (FAIL, SETUP, ".", "dave", "", "main.tf:6", ("main.tf:10",), ("main.tf:14",), (), ()),
    ],
    "split": [
        (
            WARNING,
            MAYBE,
            "users",
            "erin",
            "",
            "users/main.tf:1",
            ("users/main.tf:5",),
            ("keys/main.tf:2",),
            (),
            ("keys",),
        ),
    ],
    "local_module": [
        (
            FAIL,
            SETUP,
            ".",
            "frank",
            "module.frank",
            "modules/console-user/main.tf:10",
            ("modules/console-user/main.tf:14",),
            ("modules/console-user/main.tf:18",),
            (),
            (),
        ),
        (
            PASS,
            NO_KEY,
            ".",
            "grace",
            "module.grace",
            "modules/console-user/main.tf:10",
            ("modules/console-user/main.tf:14",),
            (),
            (),
            (),
        ),
    ],
    "module_output": [
        (
            FAIL,
            SETUP,
            ".",
            "kim",
            "module.staff",
            "modules/staff/main.tf:5",
            ("main.tf:7",),
            ("main.tf:11",),
            (),
            (),
        ),
    ],
    "registry_defaults": [
        (
            FAIL,
            SETUP,
            ".",
            "heidi",
            "module.heidi",
            "main.tf:1",
            ("main.tf:1",),
            ("main.tf:1",),
            (),
            (),
        ),
    ],
    "registry_no_key": [
        (PASS, NO_KEY, ".", "ivan", "module.ivan", "main.tf:1", ("main.tf:1",), (), (), ()),
    ],
    "registry_no_password": [
        (NA, PROGRAMMATIC, ".", "judy", "module.judy", "main.tf:1", (), ("main.tf:1",), (), ()),
    ],
    "registry_output_key": [
        (
            FAIL,
            SETUP,
            ".",
            "leo",
            "module.leo",
            "main.tf:1",
            ("main.tf:1",),
            ("main.tf:10",),
            (),
            (),
        ),
    ],
    "registry_unpinned": [
        (
            WARNING,
            MAYBE,
            ".",
            "nina",
            "module.nina",
            "main.tf:1",
            ("main.tf:1",),
            ("main.tf:1",),
            (f'module "nina" has no version, {V6}',),
            (),
        ),
    ],
    "registry_other": [
        (
            WARNING,
            NOT_SCANNED,
            ".",
            "module.mallory",
            "main.tf:1",
            f'module "mallory" (cloudposse/iam-user/aws) was not scanned: {PLAN}',
        ),
    ],
    "json_form": [
        (
            FAIL,
            SETUP,
            ".",
            "svc-oscar",
            "",
            "main.tf.json:9",
            ("main.tf.json:14",),
            ("main.tf.json:19",),
            (),
            (),
        ),
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_corpus_case_has_its_exact_findings(case: str) -> None:
    assert findings(CORPUS / case) == CASES[case]


def test_every_corpus_case_is_tested_and_in_the_readme() -> None:
    cases = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert cases == set(CASES)
    readme = (DATA / "iac" / "README.md").read_text()
    for case in cases:
        assert f"`terraform/{case}/`" in readme, case


def test_the_whole_corpus_in_one_scan_keeps_each_configuration_apart() -> None:
    """Scanned together, the cases are still one configuration per root folder: the
    module folders are not roots, and alice of one case is not alice of another."""
    rows = findings(CORPUS)
    configurations = {r[2] for r in rows}
    assert "local_module/modules/console-user" not in configurations
    assert "module_output/modules/staff" not in configurations
    assert len(rows) == sum(len(expected) for expected in CASES.values())
    alice = [r for r in rows if r[3] == "alice"]
    assert sorted(str(r[2]) for r in alice) == ["for_each_flags", "other_user_key", "reference"]


def test_resources_carry_addresses_with_instance_keys_and_module_paths() -> None:
    resources = scan(CORPUS / "for_each_flags").resources
    keys = [r.address for r in resources if r.kind is IacKind.ACCESS_KEY]
    assert keys == ['aws_iam_access_key.this["alice"]', 'aws_iam_access_key.this["carol"]']
    assert {r.user_address for r in resources if r.kind is IacKind.ACCESS_KEY} == {
        'aws_iam_user.this["alice"]',
        'aws_iam_user.this["carol"]',
    }
    module = scan(CORPUS / "registry_defaults").resources
    assert [r.address for r in module] == [
        "module.heidi.aws_iam_user.this[0]",
        "module.heidi.aws_iam_user_login_profile.this[0]",
        "module.heidi.aws_iam_access_key.this[0]",
    ]
    assert scan(CORPUS / "reference").files_read == 1


def test_a_folder_a_given_folder_calls_is_a_module_not_a_root() -> None:
    base = CORPUS / "local_module"
    result = read_configurations(
        [base / "modules" / "console-user", base], lambda p: shown(p, base)
    )
    assert {r.configuration for r in result.resources} == {"."}
    assert {r.module for r in result.resources} == {"module.frank", "module.grace"}


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_references_that_name_no_user_stay_unresolved(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'resource "aws_iam_user" "u" {\n  name = "u"\n}\n'
        'resource "aws_iam_access_key" "arn" {\n  user = aws_iam_user.u.arn\n}\n'
        'resource "aws_iam_access_key" "data" {\n  user = data.aws_iam_user.x.user_name\n}\n'
        'resource "aws_iam_access_key" "none" {\n}\n',
    )
    keys = [r for r in scan(tmp_path).resources if r.kind is IacKind.ACCESS_KEY]
    assert [(k.user_name, k.user_address) for k in keys] == [
        (None, "aws_iam_user.u.arn"),
        (None, "data.aws_iam_user.x.user_name"),
        (None, None),
    ]


def test_count_and_for_each_decided_from_literals_tfvars_and_locals(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'variable "n" {\n  default = 2\n}\n'
        'variable "on" {\n  type = bool\n}\n'
        'locals {\n  names = toset(["x", "y"])\n}\n'
        'resource "aws_iam_user" "zero" {\n  count = 0\n  name = "zero"\n}\n'
        'resource "aws_iam_user" "two" {\n  count = var.n\n  name = "two-${count.index}"\n}\n'
        'resource "aws_iam_user" "set" {\n  for_each = local.names\n  name = each.value\n}\n'
        'resource "aws_iam_user" "on" {\n  count = var.on && var.n > 1 ? 1 : 0\n'
        '  name = "on"\n}\n',
    )
    write(tmp_path, "x.auto.tfvars.json", '{"on": false}')
    users = [(r.address, r.user_name, r.condition) for r in scan(tmp_path).resources]
    assert users == [
        ("aws_iam_user.two[0]", "two-0", None),
        ("aws_iam_user.two[1]", "two-1", None),
        ('aws_iam_user.set["x"]', "x", None),
        ('aws_iam_user.set["y"]', "y", None),
    ]


def test_an_undecidable_for_expression_filter_is_a_condition(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'variable "users" {\n  default = { a = { key = true }, b = {} }\n}\n'
        'resource "aws_iam_user" "u" {\n  for_each = var.users\n  name = each.key\n}\n'
        'resource "aws_iam_user_login_profile" "u" {\n  for_each = var.users\n'
        "  user = aws_iam_user.u[each.key].name\n}\n"
        'resource "aws_iam_access_key" "u" {\n'
        "  for_each = { for k, v in var.users : k => v if v.key }\n"
        "  user = aws_iam_user.u[each.key].name\n}\n",
    )
    rows = findings(tmp_path)
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (PASS, NO_KEY, "a"),
        (PASS, NO_KEY, "b"),
        (WARNING, MAYBE, "aws_iam_access_key.u[each.key]"),  # shown by its address
    ]
    assert rows[2][8] == ("the user this key is for cannot be decided statically",)
    (key,) = [r for r in scan(tmp_path).resources if r.kind is IacKind.ACCESS_KEY]
    assert key.condition == (
        "for_each = { for k, v in var.users : k => v if v.key } (the condition v.key is "
        "undecided: v.key names a missing key 'key')"
    )


def test_registry_version_constraints() -> None:
    assert major_range("5.48.0") == (5, 5)
    assert major_range("~> 5.0") == (5, 5)
    assert major_range("~> 5") == (5, None)
    assert major_range(">= 4.0, < 6.0") == (4, 5)
    assert major_range(">= 5.0") == (5, None)
    assert major_range(None) == (0, None)
    assert major_range("latest please") is None


def test_registry_module_with_v6_only_is_not_scanned(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'module "u" {\n  source = "terraform-aws-modules/iam/aws//modules/iam-user"\n'
        '  version = "~> 6.0"\n  name = "u"\n}\n',
    )
    (row_,) = findings(tmp_path)
    assert row_[:2] == (WARNING, NOT_SCANNED)
    assert str(row_[5]).endswith(f"was not scanned: {PLAN}")


# --- hostile ------------------------------------------------------------------------------

OK_FAIL = (FAIL, SETUP, ".", "ok", "", "good.tf:1", ("good.tf:5",), ("good.tf:9",), (), ())


def unreadable(where: str, what: str, configuration: str = ".") -> Row:
    return (ERROR, UNREADABLE, configuration, "", where, what)


HOSTILE_CASES: dict[str, list[Row]] = {
    "malformed": [
        OK_FAIL,
        unreadable("bad.tf:5", "bad.tf: line 5: not valid HCL (unexpected '}')"),
    ],
    "heredoc": [
        OK_FAIL,
        unreadable("bad.tf:2", "bad.tf: line 2: not valid HCL (unexpected '<<EOT')"),
    ],
    "deep": [OK_FAIL, unreadable("bad.tf:2", "bad.tf: line 2: nested more than 200 levels deep")],
    "not_utf8": [
        OK_FAIL,
        unreadable("bad.tf:0", "bad.tf: cannot read the Terraform file: not UTF-8 text"),
    ],
    "json_bad": [
        OK_FAIL,
        unreadable(
            "bad.tf.json:0",
            "bad.tf.json: not valid JSON (invalid JSON at line 1 column 51: "
            "Expecting ',' delimiter)",
        ),
    ],
    "json_deep": [
        OK_FAIL,
        unreadable(
            "bad.tf.json:0", "bad.tf.json: not valid JSON (JSON nested deeper than 200 levels)"
        ),
    ],
    "tfvars_bad": [
        OK_FAIL,
        unreadable(
            "terraform.tfvars:1", "terraform.tfvars: line 1: not valid HCL (unexpected '= true')"
        ),
    ],
    "cycle": [
        (FAIL, SETUP, "a", "ok", "", "a/main.tf:5", ("a/main.tf:9",), ("a/main.tf:13",), (), ()),
        (
            WARNING,
            NOT_SCANNED,
            "a",
            "module.b.module.a",
            "b/main.tf:1",
            'module "a" (../a) calls a module being read (a cycle): not followed',
        ),
    ],
    "self_cycle": [
        (FAIL, SETUP, ".", "ok", "", "main.tf:5", ("main.tf:9",), ("main.tf:13",), (), ()),
        (
            WARNING,
            NOT_SCANNED,
            ".",
            "module.me",
            "main.tf:1",
            'module "me" (./) calls a module being read (a cycle): not followed',
        ),
    ],
    "locals_loop": [
        (
            WARNING,
            MAYBE,
            ".",
            "aws_iam_user.loop",
            "",
            "main.tf:18",
            ("main.tf:22",),
            ("main.tf:26",),
            (
                "count = length(local.s10) > 0 ? 1 : 0 "
                '("${local.s4}${local.s4}${local.s4}${local.s4}" is too long to evaluate)',
            ),
            (),
        ),
    ],
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_each_hostile_case_is_a_note_and_the_rest_is_read(case: str) -> None:
    assert findings(HOSTILE / case) == HOSTILE_CASES[case]


def test_a_module_source_escaping_upward_is_a_note() -> None:
    rows = findings(HOSTILE / "upward")
    ok = ("main.tf:5", ("main.tf:9",), ("main.tf:13",), (), ())
    assert rows[0] == (FAIL, SETUP, ".", "ok", "", *ok)
    status, reason, _, module, where, what = rows[1]
    assert (status, reason, module, where) == (WARNING, NOT_SCANNED, "module.up", "main.tf:1")
    assert str(what).startswith('module "up" (../../')
    assert "...): no Terraform files in ../../" in str(what)
    assert len(str(what)) < 250 and "\n" not in str(what)


def test_a_huge_count_is_bounded_and_noted() -> None:
    result = scan(HOSTILE / "count_huge")
    assert len(result.resources) == 1000
    assert result.resources[-1].user_name == "bulk-999"
    (note,) = result.notes
    assert note.what == (
        "aws_iam_user.many: count is 1000000000; only the first 1000 instances were judged"
    )
    assert (note.at, note.unreadable) == (SourceLine("main.tf", 1), False)


def test_every_hostile_case_is_in_its_readme() -> None:
    readme = (HOSTILE / "README.md").read_text()
    for case in HOSTILE.iterdir():
        if case.is_dir():
            assert f"`{case.name}/`" in readme, case.name
    tested = set(HOSTILE_CASES) | {"upward", "count_huge"}
    assert {p.name for p in HOSTILE.iterdir() if p.is_dir()} == tested


GOOD = (HOSTILE / "malformed" / "good.tf").read_text()


def test_a_file_over_the_size_limit_is_unreadable(tmp_path: Path) -> None:
    write(tmp_path, "good.tf", GOOD)
    with (tmp_path / "huge.tf").open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    rows = findings(tmp_path)
    assert rows[0] == OK_FAIL
    assert rows[1] == unreadable(
        "huge.tf:0", "huge.tf: larger than 32 MiB, too large for the Terraform file"
    )


def test_a_fifo_named_like_a_terraform_file_is_refused_without_blocking(tmp_path: Path) -> None:
    write(tmp_path, "good.tf", GOOD)
    os.mkfifo(tmp_path / "pipe.tf")
    (_, note) = findings(tmp_path)
    assert note[:2] == (ERROR, UNREADABLE)
    assert str(note[5]).startswith("pipe.tf: ")


def test_a_module_folder_that_is_a_symlink_to_itself_is_a_cycle(tmp_path: Path) -> None:
    write(tmp_path, "good.tf", GOOD + 'module "down" {\n  source = "./down"\n}\n')
    (tmp_path / "down").symlink_to(".")
    rows = findings(tmp_path)
    assert rows[0] == OK_FAIL
    assert rows[1][:5] == (WARNING, NOT_SCANNED, ".", "module.down", "good.tf:12")
    assert str(rows[1][5]).endswith("calls a module being read (a cycle): not followed")


def test_modules_nested_too_deep_are_a_note(tmp_path: Path) -> None:
    folder = tmp_path
    for _ in range(MAX_MODULE_DEPTH + 3):
        write(folder, "main.tf", 'module "next" {\n  source = "./next"\n}\n')
        folder = folder / "next"
    write(folder, "main.tf", GOOD)
    result = read_configurations([tmp_path], lambda p: shown(p, tmp_path))
    (note,) = result.notes
    assert note.what.endswith(f"is nested more than {MAX_MODULE_DEPTH} modules deep: not followed")
    assert result.resources == ()


def test_a_missing_folder_is_not_an_exception(tmp_path: Path) -> None:
    result = read_configurations([tmp_path / "gone"], lambda p: shown(p, tmp_path))
    assert result == IacScan()


# --- fuzz ---------------------------------------------------------------------------------

SEEDS = sorted(
    p for p in (list(CORPUS.rglob("*.tf")) + list(CORPUS.rglob("*.tf.json"))) if p.is_file()
)
TOKENS = [
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    '"',
    "${",
    "%{",
    "<<EOT\n",
    "\n",
    "=",
    ":",
    ",",
    ".",
    "*",
    "?",
    "for ",
    " in ",
    "=>",
    "...",
    "count",
    "each.key",
    "var.",
    "local.",
    "#",
    "/*",
    "\\",
    "\x00",
    "\udcff",
    "9" * 50,
    "-1",
    "module",
    'source = "./modules/console-user"',
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    seed = draw(st.sampled_from(SEEDS))
    text = seed.read_text()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "replace"]))
        piece = draw(st.sampled_from(TOKENS) | st.text(max_size=8))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + piece + text[j:]
    return seed.name, text


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated())
def test_fuzz_mutated_terraform_is_always_a_scan(case: tuple[str, str]) -> None:
    tried("iac-terraform")
    name, text = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / name).write_bytes(text.encode("utf-8", "surrogateescape"))
        (folder / "modules" / "console-user").mkdir(parents=True)
        result = read_configurations([folder], lambda p: shown(p, folder))
        assert isinstance(result, IacScan)
        for finding in judge_iac(result, Settings()):
            if finding.note is not None:
                assert "\n" not in finding.note.what and finding.note.what
        assert result.files_read + sum(n.unreadable for n in result.notes) >= 1


def test_module_for_each_expands_module_instances(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'module "team" {\n  for_each = { ann = true, ben = false }\n'
        '  source = "./user"\n  name = each.key\n  key = each.value\n}\n',
    )
    write(
        tmp_path / "user",
        "main.tf",
        'variable "name" {}\nvariable "key" {}\n'
        'resource "aws_iam_user" "this" {\n  name = var.name\n}\n'
        'resource "aws_iam_user_login_profile" "this" {\n  user = aws_iam_user.this.name\n}\n'
        'resource "aws_iam_access_key" "this" {\n  count = var.key ? 1 : 0\n'
        "  user = aws_iam_user.this.name\n}\n",
    )
    rows = findings(tmp_path)
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (FAIL, "ann", 'module.team["ann"]'),
        (PASS, "ben", 'module.team["ben"]'),
    ]
    addresses = [r.address for r in scan(tmp_path).resources]
    assert 'module.team["ann"].aws_iam_access_key.this[0]' in addresses


def test_a_module_source_inside_dot_terraform_is_a_downloaded_copy(tmp_path: Path) -> None:
    write(tmp_path, "main.tf", 'module "iam" {\n  source = "./.terraform/modules/iam"\n}\n')
    write(tmp_path / ".terraform" / "modules" / "iam", "main.tf", GOOD)
    result = read_configurations([tmp_path], lambda p: shown(p, tmp_path))
    (note,) = result.notes
    assert note.what == (
        'module "iam" (./.terraform/modules/iam) is a downloaded copy, not scanned: ' + PLAN
    )
    assert result.resources == ()


def test_a_recursion_error_is_a_note_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from initkeys.sources.iac.terraform import configuration

    write(tmp_path, "good.tf", GOOD)

    def too_deep(*args: object) -> None:
        raise RecursionError

    monkeypatch.setattr(configuration._Reader, "instance", too_deep)
    result = read_configurations([tmp_path], lambda p: shown(p, tmp_path))
    (note,) = result.notes
    assert (note.what, note.unreadable) == (".: nested too deeply to evaluate", True)


def test_long_chains_of_locals_and_deep_expressions_end_in_unknown(tmp_path: Path) -> None:
    chain = "".join(f"  l{i} = local.l{i + 1}\n" for i in range(600))
    write(
        tmp_path,
        "main.tf",
        f'locals {{\n{chain}  l600 = "far"\n  near = ((((("x")))))\n}}\n'
        'resource "aws_iam_user" "far" {\n  name = local.l0\n}\n'
        'resource "aws_iam_user" "near" {\n  name = local.near\n}\n',
    )
    users = [(r.address, r.user_name) for r in scan(tmp_path).resources]
    assert users == [("aws_iam_user.far", None), ("aws_iam_user.near", "x")]


def test_a_folder_named_twice_is_one_root(tmp_path: Path) -> None:
    write(tmp_path / "a", "main.tf", GOOD)
    (tmp_path / "link").symlink_to("a")
    result = read_configurations(
        [tmp_path / "a", tmp_path / "link", tmp_path / "a"], lambda p: shown(p, tmp_path)
    )
    assert [r.configuration for r in result.resources] == ["a", "a", "a"]


def test_count_index_links_counted_keys_to_counted_users(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'variable "names" {\n  default = ["x", "y"]\n}\n'
        'resource "aws_iam_user" "u" {\n  count = length(var.names)\n'
        "  name = var.names[count.index]\n}\n"
        'resource "aws_iam_user_login_profile" "u" {\n  count = length(var.names)\n'
        "  user = aws_iam_user.u[count.index].name\n}\n"
        'resource "aws_iam_access_key" "u" {\n  count = 1\n  user = aws_iam_user.u[0].name\n}\n',
    )
    rows = findings(tmp_path)
    assert [(r[0], r[3], r[5], r[6], r[7]) for r in rows] == [
        (FAIL, "x", "main.tf:4", ("main.tf:8",), ("main.tf:12",)),
        (PASS, "y", "main.tf:4", ("main.tf:8",), ()),
    ]


LEAVES = st.sampled_from(
    [
        "1",
        "-2.5",
        '"alice"',
        '"${var.prefix}-x"',
        "true",
        "null",
        "var.prefix",
        "var.users",
        "var.nothing",
        "local.a",
        "local.loop",
        "each.key",
        "each.value",
        "count.index",
        "aws_iam_user.u.name",
        "aws_iam_user.u[0].id",
        "data.x.y",
        "module.m.out",
        "path.module",
        "9" * 60,
        "[]",
        "{}",
    ]
)


def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        st.builds(
            lambda p, op: f"{p[0]} {op} {p[1]}",
            pair,
            st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]),
        ),
        st.builds(lambda c, p: f"{c} ? {p[0]} : {p[1]}", children, pair),
        st.builds(lambda p: f"[{p[0]}, {p[1]}]", pair),
        st.builds(lambda p: f"{{ a = {p[0]}, b = {p[1]} }}", pair),
        st.builds(lambda p: f"({p[0]})[{p[1]}]", pair),
        st.builds(lambda c: f"({c}).name", children),
        st.builds(lambda c: f"!({c})", children),
        st.builds(lambda c: f'"pre-${{{c}}}-post"', children),
        st.builds(lambda p: f"[for k, v in {p[0]} : {p[1]} if v]", pair),
        st.builds(lambda p: f"{{ for k, v in {p[0]} : k => {p[1]} }}", pair),
        st.builds(
            lambda f, p: f"{f}({p[0]}, {p[1]})",
            st.sampled_from(["length", "toset", "lookup", "merge", "concat", "keys", "nope"]),
            pair,
        ),
        st.builds(lambda c: f"toset({c})", children),
    )


EXPRESSIONS = st.recursive(LEAVES, combine, max_leaves=12)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(EXPRESSIONS, EXPRESSIONS, st.sampled_from(["count", "for_each"]))
def test_fuzz_generated_expressions_never_raise(name: str, meta: str, which: str) -> None:
    tried("iac-terraform-expressions")
    text = (
        'variable "prefix" {\n  default = "p"\n}\n'
        'variable "users" {\n  default = { a = { key = true }, b = { key = false } }\n}\n'
        'variable "nothing" {}\n'
        f"locals {{\n  a = {name}\n  loop = local.loop\n}}\n"
        f'resource "aws_iam_user" "u" {{\n  {which} = {meta}\n  name = {name}\n}}\n'
        f'resource "aws_iam_access_key" "k" {{\n  {which} = {meta}\n  user = {name}\n}}\n'
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "main.tf").write_text(text)
        result = read_configurations([folder], lambda p: shown(p, folder))
    assert isinstance(result, IacScan)
    # Generated text is valid HCL: it is read, not refused.
    assert result.files_read == 1, [n.what for n in result.notes]
    for resource in result.resources:
        assert resource.condition is None or "\n" not in resource.condition
    judge_iac(result, Settings())


def test_each_value_attributes_and_heredoc_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'locals {\n  people = {\n    p1 = { login = "pat" }\n  }\n}\n'
        'resource "aws_iam_user" "people" {\n  for_each = local.people\n'
        "  name = each.value.login\n}\n"
        'resource "aws_iam_user" "doc" {\n  name = <<-EOT\n    doc\n  EOT\n}\n',
    )
    users = [(r.address, r.user_name) for r in scan(tmp_path).resources]
    assert users[0] == ('aws_iam_user.people["p1"]', "pat")
    assert users[1][0] == "aws_iam_user.doc"


def test_links_to_a_device_or_to_themselves_are_unreadable_notes(tmp_path: Path) -> None:
    write(tmp_path, "good.tf", GOOD)
    (tmp_path / "zero.tf").symlink_to("/dev/zero")
    (tmp_path / "loop.tf").symlink_to("loop.tf")
    rows = findings(tmp_path)
    assert rows[0] == OK_FAIL
    notes = sorted((str(r[4]), str(r[5]).split(":")[0]) for r in rows[1:] if r[0] == ERROR)
    assert notes == [("loop.tf:0", "loop.tf"), ("zero.tf:0", "zero.tf")]
