"""CloudFormation, SAM and CDK templates (initkeys.sources.iac.cloudformation): the corpus
under tests/data/iac/{cloudformation,cdk} with its exact findings, the reader's choices,
the hostile templates under tests/data/hostile/iac/cloudformation, and a fuzzer."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.evaluate.iac import judge_iac
from initkeys.model import Settings
from initkeys.sources.iac import limits
from initkeys.sources.iac._cfn_load import SHORT_TAGS, load_template
from initkeys.sources.iac.cloudformation import read_template
from initkeys.sources.iac.records import IacFinding, IacKind, IacScan

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "iac"
HOSTILE = DATA / "hostile" / "iac" / "cloudformation"

Row = tuple[str, str, str, int | None, tuple[int, ...], tuple[int, ...], tuple[str, ...]]


def scan_file(path: Path) -> IacScan:
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    return read_template(text, path.relative_to(path.parents[1]).as_posix())


def row(finding: IacFinding) -> Row:
    """A finding as the corpus README lists it: status, reason, user, user line, password
    lines, key lines, conditions (or the note's sentence)."""
    if finding.note is not None:
        what = (finding.note.what,)
        return (str(finding.status), str(finding.reason), "", finding.note.at.line, (), (), what)
    return (
        str(finding.status),
        str(finding.reason),
        finding.user,
        finding.user_at.line if finding.user_at else None,
        tuple(p.line for p in finding.password_at),
        tuple(k.line for k in finding.key_at),
        finding.conditions,
    )


def findings(path: Path) -> list[Row]:
    return [row(f) for f in judge_iac(scan_file(path), Settings())]


GETATT = (
    "UserName is Fn::GetAtt {0}User.Arn, not a user name: the stack fails to create this "
    "key until it is !Ref {0}User"
)
EXPECTED: dict[str, list[Row]] = {
    "cloudformation/ref.yaml": [("FAIL", "iac-setup-key", "alice", 10, (10,), (18,), ())],
    "cloudformation/sub.json": [
        ("FAIL", "iac-setup-key", "BobUser", 8, (8,), (17,), ()),
        ("NOT_APPLICABLE", "iac-programmatic-user", "deploy-bot", None, (), (23,), ()),
    ],
    "cloudformation/literal.yaml": [("FAIL", "iac-setup-key", "carol", 5, (5,), (14,), ())],
    "cloudformation/getatt-misuse.yaml": [
        ("WARNING", "iac-maybe-setup-key", "dave", 7, (7,), (14,), (GETATT.format("Dave"),)),
        ("WARNING", "iac-maybe-setup-key", "erin", 19, (19,), (26,), (GETATT.format("Erin"),)),
    ],
    "cloudformation/condition.yaml": [
        (
            "WARNING",
            "iac-maybe-setup-key",
            "frank",
            17,
            (17,),
            (24,),
            ("Condition IsProd (from the template's Conditions)",),
        ),
        (
            "WARNING",
            "iac-maybe-setup-key",
            "grace",
            30,
            (30,),
            (39,),
            ("LoginProfile only when Condition HasPassword is true",),
        ),
    ],
    "cloudformation/programmatic.yaml": [
        ("NOT_APPLICABLE", "iac-programmatic-user", "ci-bot", 5, (), (18,), ())
    ],
    "cloudformation/console-only.yaml": [
        ("PASS", "iac-console-user-no-key", "heidi", 5, (5,), (), ())
    ],
    "cloudformation/other-stack.yaml": [
        ("NOT_APPLICABLE", "iac-programmatic-user", "legacy-admin", None, (), (5,), ()),
        (
            "WARNING",
            "iac-maybe-setup-key",
            "SharedUserKey",  # its user cannot be decided: shown by its logical ID
            None,
            (),
            (10,),
            ("the user this key is for cannot be decided statically",),
        ),
    ],
    "cloudformation/nested.yaml": [
        (
            "WARNING",
            "iac-not-scanned",
            "",
            6,
            (),
            (),
            (
                "nested stack IdentityStack (TemplateURL https://s3.amazonaws.com/"
                "example-templates/identity.yaml) was not scanned: scan its template too",
            ),
        ),
        (
            "WARNING",
            "iac-not-scanned",
            "",
            13,
            (),
            (),
            (
                'nested application UsersApp (Location {"ApplicationId":"arn:aws:serverlessrepo'
                ":us-east-1:12345678…) was not scanned: scan its template too",
            ),
        ),
    ],
    "cloudformation/sam.yaml": [("FAIL", "iac-setup-key", "OperatorUser", 23, (23,), (31,), ())],
    "cdk/cdk.out/InfraStack.template.json": [
        ("FAIL", "iac-setup-key", "alice", 3, (3,), (16,), ()),
        ("NOT_APPLICABLE", "iac-programmatic-user", "BuildBot9C1D2E3F", 27, (), (33,), ()),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_findings_exactly(name: str) -> None:
    assert findings(CORPUS / name) == EXPECTED[name]


def test_every_corpus_template_is_expected_and_listed_in_the_readme() -> None:
    files = {
        p.relative_to(CORPUS).as_posix()
        for area in ("cloudformation", "cdk")
        for p in (CORPUS / area).rglob("*")
        if p.is_file()
    }
    assert files == set(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    for name in files:
        assert f"`{name.split('/', 1)[1]}`" in readme, name


def test_lines_point_at_the_logical_ids() -> None:
    for name in EXPECTED:
        path = CORPUS / name
        lines = path.read_text().splitlines()
        for resource in scan_file(path).resources:
            logical_id = resource.address.split(".")[0]
            assert logical_id in lines[resource.at.line - 1], (name, resource)


def test_yaml_and_the_same_template_in_json_give_the_same_records() -> None:
    path = CORPUS / "cloudformation" / "condition.yaml"
    (document,), _ = load_template(path.read_text())
    as_json = json.dumps(document, indent=2)
    from_yaml = read_template(path.read_text(), "t").resources
    from_json = read_template(as_json, "t").resources
    assert [(r.kind, r.address, r.user_address, r.condition) for r in from_json] == [
        (r.kind, r.address, r.user_address, r.condition) for r in from_yaml
    ]
    json_lines = as_json.splitlines()
    for resource in from_json:
        assert f'"{resource.address.split(".")[0]}": {{' in json_lines[resource.at.line - 1]


def test_cdk_construct_path_is_the_module() -> None:
    scan = scan_file(CORPUS / "cdk" / "cdk.out" / "InfraStack.template.json")
    (alice, *_) = judge_iac(scan, Settings())
    assert alice.module == "InfraStack/Alice/Resource"
    assert all(r.kind is not IacKind.USER or r.module for r in scan.resources)


# -- the reader's choices ------------------------------------------------------------------


def template(resources: str, extra: str = "") -> str:
    return f"{extra}Resources:\n{resources}"


ALICE = """\
  Alice:
    Type: AWS::IAM::User
    Properties:
      UserName: alice
      LoginProfile: {Password: x}
"""


def key(user_name: str, more: str = "") -> str:
    head = f"  Key:\n    Type: AWS::IAM::AccessKey\n{more}"
    return f"{head}    Properties:\n      UserName: {user_name}\n"


def verdicts(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    scan = read_template(text, "t.yaml")
    return [(str(f.status), str(f.reason), f.conditions) for f in judge_iac(scan, Settings())]


def test_every_short_form_tag_becomes_its_long_form() -> None:
    for tag, long in SHORT_TAGS.items():
        (document,), _ = load_template(f"a: {tag} x\nb: {tag} [x, y]\n")
        if tag == "!GetAtt":
            assert document == {"a": {long: ["x", ""]}, "b": {long: ["x", "y"]}}
        else:
            assert document == {"a": {long: "x"}, "b": {long: ["x", "y"]}}, tag
    (document,), _ = load_template("a: !GetAtt User.Arn\nb: !Transform {Name: M}\n")
    assert document == {"a": {"Fn::GetAtt": ["User", "Arn"]}, "b": {"Fn::Transform": {"Name": "M"}}}


@pytest.mark.parametrize(
    "user_name",
    [
        "!Ref Alice",
        '{"Ref": "Alice"}',
        '!Sub "${Alice}"',
        "!Sub ['${U}', {U: !Ref Alice}]",
        "ALICE",
    ],
)
def test_the_ways_a_key_names_its_user_all_fail(user_name: str) -> None:
    assert verdicts(template(ALICE + key(user_name))) == [("FAIL", "iac-setup-key", ())]


def test_fn_join_of_literals_is_a_name() -> None:
    assert verdicts(template(ALICE + key('!Join ["", [al, ice]]'))) == [
        ("FAIL", "iac-setup-key", ())
    ]


def test_a_parameter_default_is_read_with_a_condition_and_no_default_is_undecided() -> None:
    params = "Parameters:\n  Who: {Type: String, Default: alice}\n  Anyone: {Type: String}\n"
    assert verdicts(template(ALICE + key("!Ref Who"), params)) == [
        (
            "WARNING",
            "iac-maybe-setup-key",
            ("UserName is parameter Who, read as its Default 'alice'",),
        )
    ]
    undecided = ("the user this key is for cannot be decided statically",)
    assert verdicts(template(ALICE + key("!Ref Anyone"), params)) == [
        ("PASS", "iac-console-user-no-key", ()),
        ("WARNING", "iac-maybe-setup-key", undecided),
    ]


def test_a_users_name_from_a_parameter_default_links_a_literal_key() -> None:
    params = "Parameters:\n  Who: {Type: String, Default: alice}\n"
    by_parameter = ALICE.replace("UserName: alice", "UserName: !Ref Who")
    assert verdicts(template(by_parameter + key("alice"), params)) == [
        ("FAIL", "iac-setup-key", ())
    ]
    assert verdicts(template(by_parameter + key("!Ref Alice"), params)) == [
        ("FAIL", "iac-setup-key", ())
    ]


def test_fn_if_around_a_keys_user_name_gives_one_key_per_branch() -> None:
    text = template(ALICE + key("!If [UseAlice, !Ref Alice, !Ref AWS::NoValue]"))
    scan = read_template(text, "t.yaml")
    keys = [r for r in scan.resources if r.kind is IacKind.ACCESS_KEY]
    assert [(k.user_address, k.condition) for k in keys] == [
        ("Alice", "UserName depends on Condition UseAlice is true")
    ]
    assert verdicts(text) == [
        (
            "WARNING",
            "iac-maybe-setup-key",
            ("UserName depends on Condition UseAlice is true",),
        )
    ]


def test_inactive_key_and_a_login_profile_of_no_value() -> None:
    inactive = "      Status: Inactive\n"
    assert verdicts(template(ALICE + key("!Ref Alice") + inactive)) == [
        ("WARNING", "iac-maybe-setup-key", ("the key is created with Status Inactive",))
    ]
    no_profile = ALICE.replace("{Password: x}", "!Ref AWS::NoValue")
    assert verdicts(template(no_profile + key("!Ref Alice"))) == [
        ("NOT_APPLICABLE", "iac-programmatic-user", ())
    ]


def test_a_condition_on_the_user_makes_the_whole_a_warning() -> None:
    conditional = ALICE.replace("    Properties:", "    Condition: Staff\n    Properties:")
    assert verdicts(template(conditional + key("!Ref Alice"))) == [
        ("WARNING", "iac-maybe-setup-key", ("Condition Staff (from the template's Conditions)",))
    ]


def test_loops_and_unknown_macros_are_notes() -> None:
    loop = "  Fn::ForEach::Users:\n    - Name\n    - [a, b]\n"
    loop += "    - User${Name}: {Type: AWS::IAM::User}\n"
    scan = read_template(template(loop, "Transform: [AWS::LanguageExtensions, Acme::Users]\n"), "t")
    assert [(n.unreadable, n.what.split(" ")[0:2]) for n in scan.notes] == [
        (False, ["the", "transform"]),
        (False, ["Fn::ForEach::Users", "(AWS::LanguageExtensions)"]),
    ]


def test_documents_that_are_not_templates_are_an_empty_scan() -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: Secret\n"
    assert read_template(manifest, "k8s.yaml") == IacScan(files_read=1)
    assert read_template('{"name": "package", "version": "1.0.0"}', "package.json") == IacScan(
        files_read=1
    )


def test_flow_style_yaml_that_starts_like_json_is_read_as_yaml() -> None:
    text = "{Resources: {Alice: {Type: AWS::IAM::User, Properties: {LoginProfile: {Password: x}}},"
    text += " Key: {Type: AWS::IAM::AccessKey, Properties: {UserName: !Ref Alice}}}}"
    assert verdicts(text) == [("FAIL", "iac-setup-key", ())]


# -- hostile templates -------------------------------------------------------------------

UNREADABLE: dict[str, tuple[str, int]] = {
    "billion-laughs.yaml": ("aliases expand more than 1000 times (a YAML bomb?)", 6),
    "recursive-alias.yaml": ("the alias *loop refers to itself", 5),
    "deep-nesting.yaml": ("nested deeper than 200 levels", 5),
    "deep.json": ("JSON nested deeper than 200 levels", 0),
    "python-object.yaml": (
        "the tag !!python/object/apply:os.system is not a CloudFormation tag",
        5,
    ),
    "unknown-tag.yaml": ("the tag !Lookup is not a CloudFormation tag", 5),
    "tabs.yaml": ("invalid YAML: found character that cannot start any token", 3),
    "top-list.yaml": ("its top is not a mapping", 0),
    "resources-list.yaml": ("Resources is not a mapping", 0),
    "type-not-string.yaml": ("resource Odd has a Type that is not a string", 2),
    "duplicate-key.yaml": ("the key 'UserName' is written twice", 6),
    "duplicate-logical-id.json": ("the key 'AliceUser' is written twice", 4),
    "binary.yaml": ("not UTF-8 text", 0),
    "two-documents.yaml": ("it holds 2 YAML documents, and CloudFormation reads one", 0),
    "long-user-name.yaml": ("resource LongUser has a UserName longer than IAM's 64 characters", 2),
    "escape-logical-id.yaml": ("the logical ID 'Alice\\x1b[2J' is not alphanumeric", 2),
    "control-user-name.yaml": (
        "resource AliceUser has a UserName 'alice\\x1b]0;pwned\\x07' that IAM refuses "
        "(letters, digits and _+=,.@- only)",
        2,
    ),
}
# What the rest of a file with one unreadable resource gives.
REST = {
    "type-not-string.yaml": [("PASS", "iac-console-user-no-key", "heidi")],
    # The key's !Ref names no valid logical ID: its user cannot be decided.
    "escape-logical-id.yaml": [("WARNING", "iac-maybe-setup-key", "Key")],
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_hostile_template_is_one_unreadable_note(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where !!python/object/apply:os.system would write
    text = (HOSTILE / name).read_bytes().decode("utf-8", errors="surrogateescape")
    started = time.perf_counter()
    scan = read_template(text, name)
    assert time.perf_counter() - started < 1
    problem, line = UNREADABLE[name]
    where = f" (line {line})" if line else ""
    unreadable = [n for n in scan.notes if n.unreadable]
    assert [(n.what, n.at.line) for n in unreadable] == [
        (f"{name} is not a template CloudFormation can read: {problem}{where}", line)
    ]
    assert not os.listdir(tmp_path)
    rest = [row(f)[:3] for f in judge_iac(scan, Settings()) if f.note is None]
    assert rest == REST.get(name, [])
    assert all(n.what.isprintable() for n in scan.notes)


def test_a_byte_order_mark_is_read_past() -> None:
    assert findings(HOSTILE / "bom.yaml") == [("FAIL", "iac-setup-key", "alice", 2, (2,), (8,), ())]


def test_every_hostile_file_is_checked_and_listed() -> None:
    files = {p.name for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert files == set(UNREADABLE) | {"bom.yaml"}
    readme = (HOSTILE / "README.md").read_text()
    listed = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    assert listed == files


def test_the_pure_python_parser_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where PyYAML was built without libyaml, its Python parser gives the same events.
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    assert findings(CORPUS / "cloudformation" / "ref.yaml") == EXPECTED["cloudformation/ref.yaml"]
    for name in ("billion-laughs.yaml", "deep-nesting.yaml", "python-object.yaml"):
        scan = scan_file(HOSTILE / name)
        problem, line = UNREADABLE[name]
        assert [n.what for n in scan.notes] == [
            f"cloudformation/{name} is not a template CloudFormation can read: {problem} "
            f"(line {line})"
        ]


def test_huge_scalar_and_oversized_text() -> None:
    name = "x" * (20 * 1024 * 1024)
    started = time.perf_counter()
    scan = read_template(
        f"Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: {name}\n",
        "big.yaml",
    )
    assert time.perf_counter() - started < 5
    assert [n.what for n in scan.notes] == [
        "big.yaml is not a template CloudFormation can read: resource U has a UserName "
        "longer than IAM's 64 characters (line 2)"
    ]
    huge = " " * (limits.MAX_FILE_BYTES + 1)
    assert [n.what for n in read_template(huge, "huge.yaml").notes] == [
        "huge.yaml is not a template CloudFormation can read: larger than 32 MiB"
    ]


# -- fuzzer ---------------------------------------------------------------------------------

SEEDS = [
    (CORPUS / name).read_text()
    for name in sorted(EXPECTED)
    if (CORPUS / name).stat().st_size < 4000
]
NOISE = st.sampled_from(
    [
        "!Ref ",
        "!GetAtt ",
        "!If [",
        "&a ",
        "*a",
        "{",
        "}",
        "[",
        "]",
        ": ",
        "- ",
        "\t",
        "'",
        '"',
        "\n  ",
        "---\n",
        "!!python/object ",
        "Fn::If",
        "~",
        "\x00",
        "\ud800",
        ",",
        "%TAG ! x\n",
        "<<: ",
        "? ",
        "|\n",
        "\\",
        "${",
        "Resources:",
        "Type: AWS::IAM::User",
    ]
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        choice = draw(st.integers(0, 2))
        if choice == 0:
            text = text[:at] + draw(NOISE) + text[at:]
        elif choice == 1:
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        else:
            text = text[:at] + text[max(0, at - 30) : at] + text[at:]
    return text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(mutated())
def test_fuzz_mutated_templates_always_give_a_scan(text: str) -> None:
    tried("iac-cloudformation")
    scan = read_template(text, "fuzz.yaml")
    assert isinstance(scan, IacScan)
    for note in scan.notes:
        assert note.what.isprintable() and note.at.path == "fuzz.yaml"
        assert not note.unreadable or note.what.startswith("fuzz.yaml is not a template")
    if any(n.unreadable for n in scan.notes) and scan.files_read == 0:
        assert scan.resources == ()
    judge_iac(scan, Settings())


LEAVES = (
    st.sampled_from(
        ["alice", "Alice", "AWS::NoValue", "AWS::IAM::User", "${Alice}", "${Alice.Arn}", "", "x.y"]
    )
    | st.none()
    | st.integers(-1, 1)
    | st.booleans()
)
FUNCTIONS = st.sampled_from(
    ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::ImportValue", "Condition"]
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(FUNCTIONS, inner, min_size=1, max_size=1)
        | st.dictionaries(st.sampled_from(["Password", "UserName", "A"]), inner, max_size=2)
    ),
    max_leaves=8,
)
BODIES = st.fixed_dictionaries(
    {
        "Type": st.sampled_from(
            ["AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::CloudFormation::Stack"]
        )
    },
    optional={
        "Properties": st.dictionaries(
            st.sampled_from(["UserName", "LoginProfile", "Status", "TemplateURL"]),
            VALUES,
            max_size=3,
        )
        | VALUES,
        "Condition": VALUES,
        "Metadata": st.dictionaries(st.just("aws:cdk:path"), VALUES, max_size=1),
    },
)
TEMPLATES = st.fixed_dictionaries(
    {"Resources": st.dictionaries(st.sampled_from(["Alice", "Bob", "Key", "K2"]), BODIES)},
    optional={
        "Parameters": st.dictionaries(st.sampled_from(["Alice", "Who"]), VALUES, max_size=2),
        "Transform": VALUES,
    },
)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(TEMPLATES, st.booleans())
def test_fuzz_template_shapes_always_give_a_scan(
    document: dict[str, object], as_yaml: bool
) -> None:
    tried("iac-cloudformation-shapes")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(document, Dumper=dumper) if as_yaml else json.dumps(document, indent=1)
    scan = read_template(text, "shapes.json")
    assert scan.files_read == 1
    resources = document["Resources"]
    assert isinstance(resources, dict)
    for resource in scan.resources:
        logical_id = resource.address.split(".")[0]
        assert logical_id in resources and resource.at.line > 0
    judge_iac(scan, Settings())
