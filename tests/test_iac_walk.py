"""The IaC walker (initkeys.sources.iac.walk): which files it finds, how it names them,
which reader each goes to, and how a hostile tree ends (a note, never a hang).

Stand-in readers record what they are handed, so the walk is tested apart from the
readers; the tests at the end run the real readers (skipped until they are merged)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from fuzz_kit import tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initkeys.errors import InputError
from initkeys.sources.iac import limits, walk
from initkeys.sources.iac.records import IacKind, IacResource, IacScan, SourceLine
from initkeys.sources.iac.walk import Readers, scan_paths, sniff

TEMPLATE_YAML = (
    'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  U:\n    Type: AWS::IAM::User\n'
)
TEMPLATE_JSON = '{\n  "Resources": {\n    "U": {\n      "Type": "AWS::IAM::User"\n    }\n  }\n}\n'
SAM = "Transform: AWS::Serverless-2016-10-31\nResources:\n  U:\n    Type: AWS::IAM::User\n"
PLAN = '{"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {}}'
PLAN_CHANGES = '{"format_version":"1.0","resource_changes":[]}'
NOT_IAC = {
    "package.json": '{"name": "x", "version": "1.0.0"}',
    "k8s.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n",
    "compose.yml": "services:\n  web:\n    image: nginx\n",
    "workflow.yaml": "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n",
    "tf-state-ish.json": '{"format_version": "1.0"}',
    "resources.yaml": "Resources:\n  x:\n    Type: Custom::Thing\n",
    "string-resources.json": '{"Resources": "Type: AWS::IAM::User"}',
    "nested-type.yaml": "data:\n  Type: AWS::IAM::User\n",
}


class Recorder:
    """Readers that record their calls and report one user per file."""

    def __init__(self) -> None:
        self.templates: list[str] = []
        self.plans: list[str] = []
        self.folders: list[list[Path]] = []
        self.shown: Callable[[Path], str] | None = None

    def template(self, text: str, shown: str) -> IacScan:
        self.templates.append(shown)
        return _one_user(shown, 2)

    def plan(self, text: str, shown: str) -> IacScan:
        self.plans.append(shown)
        return _one_user(shown, 0)

    def terraform(self, folders: Sequence[Path], shown: Callable[[Path], str]) -> IacScan:
        self.folders.append(list(folders))
        self.shown = shown
        return IacScan(files_read=len(folders))

    def readers(self) -> Readers:
        return Readers(template=self.template, plan=self.plan, terraform=self.terraform)


def _one_user(shown: str, line: int) -> IacScan:
    user = IacResource(IacKind.USER, "U", SourceLine(shown, line), shown, user_name="u")
    return IacScan(resources=(user,), files_read=1)


def write(root: Path, relative: str, text: str = "") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def chdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- sniffing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (TEMPLATE_YAML, "cloudformation"),
        (TEMPLATE_JSON, "cloudformation"),
        (SAM, "cloudformation"),
        ("'AWSTemplateFormatVersion': '2010-09-09'\n", "cloudformation"),
        (PLAN, "plan"),
        (PLAN_CHANGES, "plan"),
        *((text, None) for text in NOT_IAC.values()),
    ],
)
def test_sniff_tells_plans_templates_and_other_files_apart(text: str, kind: str | None) -> None:
    assert sniff(text) == kind


# -- finding files ----------------------------------------------------------------------


def test_a_tree_goes_to_the_right_readers_named_as_typed(chdir: Path) -> None:
    write(chdir, "repo/cfn/stack.yaml", TEMPLATE_YAML)
    write(chdir, "repo/cfn/stack.template", TEMPLATE_JSON)
    write(chdir, "repo/plan/plan.json", PLAN)
    write(chdir, "repo/tf/main.tf", 'resource "aws_iam_user" "a" {}')
    write(chdir, "repo/tf/extra.tf.json", "{}")
    write(chdir, "repo/tf/modules/user/main.tf", "")
    write(chdir, "repo/cdk.out/App.template.json", TEMPLATE_JSON)
    for name, text in NOT_IAC.items():
        write(chdir, f"repo/other/{name}", text)
    write(chdir, "repo/README.md", "Resources: Type: AWS::IAM::User")  # not a candidate
    rec = Recorder()

    scan = scan_paths(["repo"], rec.readers())

    assert rec.templates == [
        "repo/cdk.out/App.template.json",
        "repo/cfn/stack.template",
        "repo/cfn/stack.yaml",
    ]
    assert rec.plans == ["repo/plan/plan.json"]
    assert rec.folders == [[chdir / "repo/tf", chdir / "repo/tf/modules/user"]]
    assert rec.shown is not None
    assert rec.shown(chdir / "repo/tf/main.tf") == "repo/tf/main.tf"
    # A local module outside every path given: relative to where initkeys runs.
    assert rec.shown(chdir / "shared/user/main.tf") == "shared/user/main.tf"
    assert scan.skipped == len(NOT_IAC)
    assert scan.files_read == 4 + 2  # four documents, two folders (as the stand-in counts)
    assert scan.notes == ()
    assert scan.resources[0].at == SourceLine("repo/cdk.out/App.template.json", 2)


@pytest.mark.parametrize("typed", ["repo", "./repo", "repo/"])
def test_shown_names_keep_what_the_user_typed(chdir: Path, typed: str) -> None:
    write(chdir, "repo/a/stack.yaml", TEMPLATE_YAML)
    rec = Recorder()
    scan_paths([typed], rec.readers())
    assert rec.templates == [os.path.join(typed, "a", "stack.yaml")]


def test_an_absolute_folder_gives_absolute_names(tmp_path: Path) -> None:
    write(tmp_path, "a/stack.yaml", TEMPLATE_YAML)
    rec = Recorder()
    scan_paths([tmp_path], rec.readers())
    assert rec.templates == [str(tmp_path / "a" / "stack.yaml")]


def test_skipped_folders_are_not_entered(chdir: Path) -> None:
    for folder in [".terraform/modules/x", ".git", "node_modules/pkg", "cdk.out/asset.1234"]:
        write(chdir, f"{folder}/stack.yaml", TEMPLATE_YAML)
        write(chdir, f"{folder}/main.tf", "")
    write(chdir, "cdk.out/Stack.template.json", TEMPLATE_JSON)
    write(chdir, "assets/asset.1/stack.yaml", TEMPLATE_YAML)  # asset.* only under cdk.out
    rec = Recorder()
    scan_paths(["."], rec.readers())
    assert rec.templates == ["./assets/asset.1/stack.yaml", "./cdk.out/Stack.template.json"]
    assert rec.folders == []


def test_named_files_are_read_whatever_their_extension(chdir: Path) -> None:
    write(chdir, "stack.cfn", TEMPLATE_YAML)
    write(chdir, "notes.txt", "hello")
    write(chdir, "tf/main.tf", "")
    rec = Recorder()
    scan = scan_paths(["stack.cfn", "notes.txt", "tf/main.tf"], rec.readers())
    assert rec.templates == ["stack.cfn"]
    assert scan.skipped == 1
    assert rec.folders == [[chdir / "tf"]]


def test_a_file_named_twice_or_by_a_link_is_read_once(chdir: Path) -> None:
    write(chdir, "a/stack.yaml", TEMPLATE_YAML)
    os.symlink("stack.yaml", chdir / "a" / "same.yaml")
    rec = Recorder()
    scan_paths(["a", "a/stack.yaml"], rec.readers())
    assert len(rec.templates) == 1


def test_a_path_that_does_not_exist_is_an_input_error(chdir: Path) -> None:
    write(chdir, "a/stack.yaml", TEMPLATE_YAML)
    with pytest.raises(InputError, match="nope: no such file or folder"):
        scan_paths(["a", "nope"], Recorder().readers())


# -- hostile trees ----------------------------------------------------------------------


def test_a_link_loop_and_links_out_of_the_tree_are_not_followed(
    chdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    write(outside, "secret.yaml", TEMPLATE_YAML)
    write(chdir, "repo/a/stack.yaml", TEMPLATE_YAML)
    os.symlink("..", chdir / "repo" / "a" / "loop")
    os.symlink(chdir / "repo", chdir / "repo" / "a" / "up")
    os.symlink(outside, chdir / "repo" / "out")
    os.symlink(outside / "secret.yaml", chdir / "repo" / "leak.yaml")
    rec = Recorder()
    done = threading.Event()
    result: list[IacScan] = []

    def run() -> None:
        result.append(scan_paths(["repo"], rec.readers()))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(20), "the walk hung on a link loop"
    assert rec.templates == ["repo/a/stack.yaml"]
    assert result[0].notes == ()


def test_a_fifo_is_a_note_and_the_walk_does_not_wait_for_a_writer(chdir: Path) -> None:
    write(chdir, "repo/stack.yaml", TEMPLATE_YAML)
    os.mkfifo(chdir / "repo" / "pipe.json")
    rec = Recorder()
    scan = scan_paths(["repo"], rec.readers())
    (note,) = scan.notes
    assert note.unreadable
    assert note.at == SourceLine("repo/pipe.json", 0)
    assert note.what.startswith("repo/pipe.json: ")
    assert "regular file" in note.what
    assert rec.templates == ["repo/stack.yaml"]


def test_not_utf8_and_too_large_files_are_notes(
    chdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (chdir / "latin1.yaml").write_bytes(b"Resources:\n  caf\xe9:\n    Type: AWS::IAM::User\n")
    write(chdir, "big.json", TEMPLATE_JSON + " " * 100)
    write(chdir, "ok.yaml", TEMPLATE_YAML)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", len(TEMPLATE_JSON) + 50)
    rec = Recorder()
    scan = scan_paths(["."], rec.readers())
    notes = {n.at.path: n.what for n in scan.notes}
    assert notes == {
        "./big.json": f"./big.json: larger than {len(TEMPLATE_JSON) + 50} bytes, too large "
        "for the file",
        "./latin1.yaml": "./latin1.yaml: cannot read the file: not UTF-8 text",
    }
    assert rec.templates == ["./ok.yaml"]


def test_too_deep_a_tree_is_a_note_and_the_rest_is_read(
    chdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_DEPTH", 3)
    write(chdir, "r/a/b/c/stack.yaml", TEMPLATE_YAML)
    write(chdir, "r/a/b/c/d/deep.yaml", TEMPLATE_YAML)
    write(chdir, "r/top.yaml", TEMPLATE_YAML)
    rec = Recorder()
    scan = scan_paths(["r"], rec.readers())
    assert rec.templates == ["r/top.yaml", "r/a/b/c/stack.yaml"]  # a folder's files first
    (note,) = scan.notes
    assert note.unreadable and note.at.path == "r/a/b/c/d"
    assert "more than 3 folders deep" in note.what


def test_too_many_files_is_a_note(chdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_FILES", 3)
    for i in range(5):
        write(chdir, f"r/s{i}.yaml", TEMPLATE_YAML)
    rec = Recorder()
    scan = scan_paths(["r"], rec.readers())
    assert len(rec.templates) == 3
    (note,) = scan.notes
    assert note.unreadable and "more than 3 files" in note.what


def test_a_reader_that_recurses_too_deep_is_a_note_on_that_file(chdir: Path) -> None:
    write(chdir, "a.yaml", TEMPLATE_YAML)
    write(chdir, "b.yaml", TEMPLATE_YAML)
    rec = Recorder()

    def deep(text: str, shown: str) -> IacScan:
        if shown.endswith("a.yaml"):
            raise RecursionError
        return rec.template(text, shown)

    scan = scan_paths(["."], Readers(template=deep))
    assert [n.what for n in scan.notes] == ["./a.yaml: is nested too deeply to read"]
    assert rec.templates == ["./b.yaml"]


# -- fuzz: every candidate file is accounted for ------------------------------------------

_KINDS = {
    "template": TEMPLATE_YAML,
    "plan": PLAN,
    "other": NOT_IAC["k8s.yaml"],
    "latin1": None,
}
_NAMES = st.text(alphabet="abcXYZ-_ .é\u202e", min_size=1, max_size=8).filter(
    lambda s: s.strip(" .") == s and s not in (".", "..")
)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.lists(_NAMES, max_size=3),
            _NAMES,
            st.sampled_from([".json", ".yaml", ".yml", ".template", ".txt"]),
            st.sampled_from(sorted(_KINDS)),
        ),
        max_size=8,
    )
)
def test_fuzz_every_candidate_file_is_read_skipped_or_a_note(
    tmp_path_factory: pytest.TempPathFactory,
    files: list[tuple[list[str], str, str, str]],
) -> None:
    tried("iac-walk-tree")
    root = tmp_path_factory.mktemp("tree")
    written: set[Path] = set()
    expected = {"template": 0, "plan": 0, "other": 0, "latin1": 0}
    for folders, stem, suffix, kind in files:
        path = root.joinpath(*folders, stem + suffix)
        if path in written or any(p in path.parents for p in written):
            continue
        if any(path in w.parents for w in written):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _KINDS[kind]
        if text is None:
            path.write_bytes(b"caf\xe9")
        else:
            path.write_text(text, encoding="utf-8")
        written.add(path)
        if suffix != ".txt":
            expected[kind] += 1
    rec = Recorder()
    scan = scan_paths([root], rec.readers())
    assert len(rec.templates) == expected["template"]
    assert len(rec.plans) == expected["plan"]
    assert scan.skipped == expected["other"]
    assert sum(n.unreadable for n in scan.notes) == expected["latin1"]
    for note in scan.notes:
        assert note.what.startswith(note.at.path + ": ")


# -- the real readers (skipped until they are merged) -------------------------------------


def test_the_real_template_reader_is_reached(chdir: Path) -> None:
    write(chdir, "stack.yaml", TEMPLATE_YAML)
    scan = scan_paths(["stack.yaml"])
    assert scan.files_read == 1
    assert [(r.kind, r.at) for r in scan.resources] == [(IacKind.USER, SourceLine("stack.yaml", 3))]


def test_the_real_plan_reader_is_reached(chdir: Path) -> None:
    write(chdir, "plan.json", PLAN)
    scan = scan_paths(["plan.json"])
    assert scan.files_read == 1
    assert not [n for n in scan.notes if n.unreadable]


def test_the_real_terraform_reader_is_reached(chdir: Path) -> None:
    write(chdir, "infra/main.tf", 'resource "aws_iam_user" "a" {\n  name = "alice"\n}\n')
    scan = scan_paths(["infra"])
    assert scan.files_read == 1
    assert [(r.kind, r.user_name, r.at) for r in scan.resources] == [
        (IacKind.USER, "alice", SourceLine("infra/main.tf", 1))
    ]
    assert {".terraform"} <= walk.SKIPPED_FOLDERS
