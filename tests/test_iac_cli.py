"""``initkeys iac``: options, exit codes (fail closed, as the audit), output files, the
hostile corpus (tests/data/hostile/iac-app) and a fuzzer over the whole command.

Until the readers are merged, the tests that need findings hand the walker stand-in
readers (``walk._reader`` is initkeys' own seam, not AWS); the last tests run the real
readers and are skipped until they exist."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from cli_kit import assert_one_line_error, run
from fuzz_kit import assert_clean_end, run_main, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initkeys.sources.iac import walk
from initkeys.sources.iac.records import IacKind, IacNote, IacResource, IacScan, SourceLine

HOSTILE = Path(__file__).parent / "data" / "hostile" / "iac-app"
TEMPLATE = 'AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n'


def _template_reader(text: str, shown: str) -> IacScan:
    """A stand-in CloudFormation reader: ``# user NAME password key condition=...``
    lines become records, ``# broken`` an unreadable note."""
    resources: list[IacResource] = []
    notes: list[IacNote] = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if words[:2] == ["#", "broken"]:
            return IacScan(
                notes=(
                    IacNote(SourceLine(shown, number), shown, f"{shown}: broken", unreadable=True),
                )
            )
        if words[:2] != ["#", "user"]:
            continue
        name, parts = words[2], words[3:]
        condition = next((p.split("=", 1)[1] for p in parts if p.startswith("condition=")), None)
        resources.append(
            IacResource(IacKind.USER, name, SourceLine(shown, number), shown, user_name=name)
        )
        if "password" in parts:
            resources.append(
                IacResource(
                    IacKind.LOGIN_PROFILE,
                    f"{name}P",
                    SourceLine(shown, number + 1),
                    shown,
                    user_address=name,
                )
            )
        if "key" in parts:
            resources.append(
                IacResource(
                    IacKind.ACCESS_KEY,
                    f"{name}K",
                    SourceLine(shown, number + 2),
                    shown,
                    user_address=name,
                    condition=condition,
                )
            )
    return IacScan(resources=tuple(resources), notes=tuple(notes), files_read=1)


def _no_folders(folders: Sequence[Path], shown: Callable[[Path], str]) -> IacScan:
    return IacScan(files_read=len(folders))


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    readers = {
        "read_template": _template_reader,
        "read_plan": _template_reader,
        "read_configurations": _no_folders,
    }
    monkeypatch.setattr(walk, "_reader", lambda module, name: readers[name])


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def template(root: Path, name: str, *users: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE + "".join(f"# user {u}\n" for u in users), encoding="utf-8")
    return path


# -- exit codes -------------------------------------------------------------------------


@pytest.mark.usefixtures("stand_ins")
@pytest.mark.parametrize(
    ("users", "options", "code"),
    [
        (["alice password key"], [], 1),  # FAIL
        (["alice password"], [], 0),  # PASS
        (["ci key"], [], 0),  # NOT_APPLICABLE
        (["bob password key condition=var.ci"], [], 0),  # WARNING under --fail-on FAIL
        (["bob password key condition=var.ci"], ["--fail-on", "warning"], 1),
        (["alice password key"], ["--exempt-user", "ali*"], 0),  # exempt: not counted
        (["alice password key"], ["--allow-errors"], 1),  # a FAIL still fails
    ],
)
def test_exit_codes_follow_the_audits(
    repo: Path, users: list[str], options: list[str], code: int
) -> None:
    template(repo, "stack.yaml", *users)
    got, out, err = run_main(["iac", "stack.yaml", *options])
    assert (got, err) == (code, "")
    assert "stack.yaml" in out


@pytest.mark.usefixtures("stand_ins")
def test_an_unreadable_file_fails_closed_unless_allowed(repo: Path) -> None:
    template(repo, "ok.yaml", "alice password")
    (repo / "bad.yaml").write_text(TEMPLATE + "# broken\n", encoding="utf-8")
    code, out, _ = run_main(["iac", "."])
    assert code == 1
    assert "INCOMPLETE: 1 file or folder could not be read" in out
    assert "./bad.yaml: broken" in out
    code, out, _ = run_main(["iac", ".", "--allow-errors"])
    assert code == 0
    assert "(--allow-errors: the exit code ignores it)" in out


@pytest.mark.usefixtures("stand_ins")
def test_exemptions_from_the_config_file(repo: Path) -> None:
    template(repo, "stack.yaml", "svc-build password key")
    (repo / "team.toml").write_text(
        '[[exempt]]\nuser = "svc-*"\nreason = "build user, reviewed"\n', encoding="utf-8"
    )
    code, out, _ = run_main(["iac", "stack.yaml", "--config", "team.toml", "--format", "json"])
    assert code == 0
    (finding,) = json.loads(out)["findings"]
    assert finding["exemption"]["reason"] == "build user, reviewed"


def test_no_iac_file_is_exit_0_with_a_note(repo: Path) -> None:
    (repo / "package.json").write_text('{"name": "x"}', encoding="utf-8")
    (repo / "k8s.yaml").write_text("kind: Pod\n", encoding="utf-8")
    code, out, err = run_main(["iac", "package.json", "k8s.yaml", "--format", "json"])
    assert code == 0
    assert err == (
        "initkeys: note: no Terraform, CloudFormation or plan file found: nothing to judge\n"
    )
    document = json.loads(out)
    assert (document["files_read"], document["skipped"], document["findings"]) == (0, 2, [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["iac"], "Missing argument 'PATH...'"),
        (["iac", "nope"], "nope: no such file or folder"),
        (["iac", ".", "--format", "html"], "unknown output format 'html' for iac"),
        (["iac", ".", "--format", "json,sarif"], "2 formats need --output-dir DIR"),
        (["iac", ".", "-o", "x", "--output-dir", "d"], "cannot be combined"),
        (["iac", ".", "--fail-on", "PASS"], "Invalid value for '--fail-on'"),
        (["iac", ".", "--exempt-user", " "], "--exempt-user needs a user name"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(repo: Path, args: list[str], message: str) -> None:
    code, out, err = run_main(args)
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("initkeys: error: ") and message in line


def test_nothing_readable_is_exit_2(repo: Path) -> None:
    (repo / "a.yaml").write_bytes(b"Resources:\n  \xe9: 1\n")
    (repo / "b.json").write_bytes(b"\xff\xfe")
    code, out, err = run_main(["iac", "."])
    assert (code, out) == (2, "")
    assert err == (
        "initkeys: error: nothing could be read: ./a.yaml: cannot read the file: not UTF-8 "
        "text (and 1 more)\n"
    )


# -- outputs ----------------------------------------------------------------------------


@pytest.mark.usefixtures("stand_ins")
def test_output_dir_writes_one_file_per_format(repo: Path) -> None:
    template(repo, "stack.yaml", "alice password key")
    code, out, _ = run_main(
        [
            "iac",
            "stack.yaml",
            "--format",
            "text,json,csv,sarif,junit,markdown",
            "--output-dir",
            "reports",
        ]
    )
    assert (code, out) == (1, "")
    assert sorted(os.listdir(repo / "reports")) == [
        "initkeys-iac.csv",
        "initkeys-iac.json",
        "initkeys-iac.junit.xml",
        "initkeys-iac.md",
        "initkeys-iac.sarif",
        "initkeys-iac.txt",
    ]
    sarif = json.loads((repo / "reports" / "initkeys-iac.sarif").read_text(encoding="utf-8"))
    (result,) = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "stack.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3},
    }


@pytest.mark.usefixtures("stand_ins")
def test_output_file_and_dash(repo: Path) -> None:
    template(repo, "stack.yaml", "alice password")
    assert run_main(["iac", "stack.yaml", "-o", "r.md", "--format", "markdown"])[:2] == (0, "")
    assert (repo / "r.md").read_text(encoding="utf-8").startswith("## initkeys iac: PASS")
    code, out, _ = run_main(["iac", "stack.yaml", "-o", "-", "--format", "csv"])
    assert code == 0 and out.startswith('"id","status"')


@pytest.mark.usefixtures("stand_ins")
def test_a_hostile_file_name_is_shown_escaped(repo: Path) -> None:
    template(repo, "evil\x1b[2J\u202e.yaml", "alice password key")
    code, out, err = run_main(["iac", "."])
    assert code == 1 and err == ""
    assert "\x1b" not in out and "\u202e" not in out
    assert "./evil\\x1b[2J\\u202e.yaml:3" in out


def test_the_command_is_listed_and_documented() -> None:
    proc = run(["--help"])
    assert proc.returncode == 0 and "iac" in proc.stdout
    proc = run(["iac", "--help"])
    assert proc.returncode == 0
    for option in [
        "--format",
        "--output-dir",
        "--fail-on",
        "--allow-errors",
        "--exempt-user",
        "--config",
    ]:
        assert option in proc.stdout
    assert_one_line_error(run(["iac", "/no/such/path"]), 2)


def test_scan_iac_is_public(repo: Path) -> None:
    import initkeys

    (repo / "x.json").write_text("{}", encoding="utf-8")
    result = initkeys.scan_iac(["x.json"], initkeys.Settings())
    assert (result.files_read, result.skipped, result.findings) == (0, 1, ())
    assert result.nothing_found and not result.fails()
    assert "scan_iac" in initkeys.__all__


# -- the hostile corpus -----------------------------------------------------------------

# file or folder → (exit code, the one error line's tail, or (files read, skipped))
CORPUS: dict[str, tuple[int, str | tuple[int, int]]] = {
    "not-utf8.yaml": (2, "not-utf8.yaml: cannot read the file: not UTF-8 text"),
    "utf16.json": (2, "utf16.json: cannot read the file: not UTF-8 text"),
    "binary.template": (2, "binary.template: cannot read the file: not UTF-8 text"),
    "nul.json": (0, (0, 1)),
    "fake-plan.json": (0, (0, 1)),
    "k8s.yaml": (0, (0, 1)),
    "bom.json": (0, (0, 1)),
    "tree": (0, (0, 1)),
    "mixed": (2, "mixed/latin1.template: cannot read the file: not UTF-8 text"),
}


def test_the_corpus_readme_lists_every_file() -> None:
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    stored = {p.name for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert stored == set(CORPUS)
    for name in CORPUS:
        assert f"`{name if '.' in name else name + '/'}`" in readme, name


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_corpus(name: str) -> None:
    code, expected = CORPUS[name]
    got, out, err = run_main(["iac", str(HOSTILE / name), "--format", "json"])
    assert_clean_end(got, err)
    assert got == code, err
    if isinstance(expected, str):
        assert out == ""
        assert err.startswith("initkeys: error: nothing could be read: ")
        assert err.rstrip("\n").endswith(expected)
    else:
        document = json.loads(out)
        assert (document["files_read"], document["skipped"]) == expected
        assert document["findings"] == []


# -- fuzz: the whole command on random trees ----------------------------------------------

_CONTENT = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(
        [
            TEMPLATE + "# user a password key\n",
            TEMPLATE + "# broken\n",
            '{"format_version": "1", "resource_changes": []}',
            "kind: Pod\n",
        ]
    ).map(str.encode),
    st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["a.json", "b.yaml", "c/d.yml", "e.template", "cdk.out/asset.1/f.json", "g.txt"]
            ),
            _CONTENT,
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda f: f[0],
    ),
    st.sampled_from(["text", "json", "sarif", "csv", "junit", "markdown"]),
)
def test_fuzz_the_command_ends_cleanly(
    tmp_path_factory: pytest.TempPathFactory,
    stand_ins: None,
    files: list[tuple[str, bytes]],
    output_format: str,
) -> None:
    tried("iac-cli-tree")
    root = tmp_path_factory.mktemp("fuzz")
    for name, data in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    code, out, err = run_main(["iac", str(root), "--format", "json"])
    assert_clean_end(code, err)
    if code != 2:
        document = json.loads(out)
        candidates = sum(
            1 for name, _ in files if not name.endswith(".txt") and "asset." not in name
        )
        unreadable = sum(1 for f in document["findings"] if f["reason"] == "iac-unreadable")
        # Each candidate file is read, skipped or an unreadable note (a stand-in note
        # for "# broken" counts as unreadable, not read).
        assert document["files_read"] + document["skipped"] + unreadable == candidates
    code, _, err = run_main(["iac", str(root), "--format", output_format, "-o", os.devnull])
    assert_clean_end(code, err)
    shutil.rmtree(root)


# -- the real readers (skipped until they are merged) -------------------------------------


def test_a_real_template_end_to_end(repo: Path) -> None:
    (repo / "stack.yaml").write_text(
        "Resources:\n"
        "  Alice:\n"
        "    Type: AWS::IAM::User\n"
        "    Properties:\n"
        "      UserName: alice\n"
        "      LoginProfile:\n"
        "        Password: '{{resolve:secretsmanager:alice}}'\n"
        "  AliceKey:\n"
        "    Type: AWS::IAM::AccessKey\n"
        "    Properties:\n"
        "      UserName: !Ref Alice\n",
        encoding="utf-8",
    )
    code, out, _ = run_main(["iac", "stack.yaml", "--format", "json"])
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert (finding["status"], finding["reason"], finding["user"]) == (
        "FAIL",
        "iac-setup-key",
        "alice",
    )
    assert finding["user_at"] == {"path": "stack.yaml", "line": 2}
    assert finding["key_at"] == [{"path": "stack.yaml", "line": 8}]


def test_a_real_terraform_folder_end_to_end(repo: Path) -> None:
    (repo / "infra").mkdir()
    (repo / "infra" / "main.tf").write_text(
        'resource "aws_iam_user" "alice" {\n  name = "alice"\n}\n\n'
        'resource "aws_iam_user_login_profile" "alice" {\n  user = aws_iam_user.alice.name\n}\n\n'
        'resource "aws_iam_access_key" "alice" {\n  user = aws_iam_user.alice.name\n}\n',
        encoding="utf-8",
    )
    code, out, _ = run_main(["iac", "infra", "--format", "sarif"])
    assert code == 1
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["ruleId"] == "iac-setup-key"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "infra/main.tf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }
    assert [x["physicalLocation"]["region"]["startLine"] for x in result["relatedLocations"]] == [
        5,
        9,
    ]


@pytest.mark.parametrize("name", ["pipe.json", "/dev/zero"])
def test_a_fifo_or_device_named_alone_is_exit_2_at_once(repo: Path, name: str) -> None:
    if name == "pipe.json":
        os.mkfifo(repo / name)
    code, out, err = run_main(["iac", name])
    assert (code, out) == (2, "")
    assert err.startswith(f"initkeys: error: nothing could be read: {name}: the file must be a ")
    assert "regular file" in err


@pytest.mark.usefixtures("stand_ins")
@pytest.mark.parametrize("output_format", ["text", "json", "csv", "sarif", "junit", "markdown"])
def test_a_file_name_that_is_not_utf8_is_shown_escaped(repo: Path, output_format: str) -> None:
    # Python keeps such bytes as lone surrogates, which no UTF-8 writer accepts.
    name = os.fsdecode(b"bad\xff.yaml")
    (repo / name).write_text(TEMPLATE + "# user alice password key\n", encoding="utf-8")
    (repo / os.fsdecode(b"gone\xfe.json")).write_bytes(b"\xff")
    code, out, err = run_main(["iac", ".", os.fsdecode(b"bad\xff.yaml"), "--format", output_format])
    assert (code, err) == (1, "")
    out.encode("utf-8")  # no lone surrogate left
    assert "bad" in out and "udcff" in out
