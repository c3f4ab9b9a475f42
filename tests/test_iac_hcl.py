"""initkeys' own HCL reader (sources/iac/terraform/native.py) against the one it replaced,
python-hcl2's Lark parser with its tree converter (tests/hcl_lark.py): every .tf/.tfvars in
the corpora and a generator of HCL texts give the same records (or both refuse the text);
where they differ by design the native reader follows Terraform (HashiCorp's "HCL Native
Syntax Specification") and each difference is listed here. Also: the hostile corpus
tests/data/hostile/iac/hcl (README.md there), the bounds (nesting, long lines, many
tokens) and line numbers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import hcl_lark
import pytest
from fuzz_kit import run_main, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initkeys.sources.iac.limits import MAX_NESTING
from initkeys.sources.iac.terraform.hcl import Unparsable, parse_hcl, parse_tfvars_hcl
from initkeys.sources.iac.terraform.syntax import (
    BinOp,
    Lit,
    ObjectExpr,
    Opaque,
    Ref,
    TfFile,
    TupleExpr,
)

DATA = Path(__file__).parent / "data"
HOSTILE = DATA / "hostile" / "iac" / "hcl"
REFUSED = "unparsable"

# python-hcl2 accepts these; Terraform (and so the native reader) refuses them.
TERRAFORM_REFUSES = {
    "two_attributes_one_line.tf": "an argument must end with a newline",
    "object_without_separator.tf": "object elements are separated by a comma or a newline",
    "string_over_two_lines.tf": "a quoted template cannot span lines",
    "operator_on_next_line.tf": "outside ( ) and [ ], a newline ends the expression",
}
# python-hcl2 refuses this; Terraform (and so the native reader) reads "$${" as "${".
TERRAFORM_ACCEPTS = {"lone_escape_sequence.tf": 'the escape "$${" needs no closing "}"'}
# Both read this; Terraform's value is not python-hcl2's (a flush heredoc loses its indent).
TERRAFORM_VALUES = {"heredoc_marker_indented.tf": "<<- removes the lines' common indent"}


def native(text: str, tfvars: bool = False) -> object:
    try:
        return parse_tfvars_hcl(text) if tfvars else parse_hcl(text)
    except Unparsable:
        return REFUSED


def lark(text: str, tfvars: bool = False) -> object:
    try:
        return hcl_lark.parse_tfvars_hcl(text) if tfvars else hcl_lark.parse_hcl(text)
    except Unparsable:
        return REFUSED


def _utf8(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # refused before any parser (test_iac_terraform's not_utf8)
        return False
    return True


def corpus() -> list[Path]:
    files = [
        p
        for base in (DATA / "iac", DATA / "hostile" / "iac")
        for p in base.rglob("*")
        if p.suffix in (".tf", ".tfvars") and p.is_file() and _utf8(p)
    ]
    return sorted(files)


@pytest.mark.parametrize("path", corpus(), ids=lambda p: str(p.relative_to(DATA)))
def test_every_corpus_file_gives_the_records_python_hcl2_gave(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tfvars = path.suffix == ".tfvars"
    new, old = native(text, tfvars), lark(text, tfvars)
    if path.parent == HOSTILE and path.name in TERRAFORM_REFUSES:
        assert new == REFUSED and isinstance(old, TfFile)
    elif path.parent == HOSTILE and path.name in TERRAFORM_ACCEPTS:
        assert old == REFUSED and isinstance(new, TfFile)
    elif path.parent == HOSTILE and path.name in TERRAFORM_VALUES:
        assert isinstance(new, TfFile) and isinstance(old, TfFile) and new != old
    else:
        assert new == old


def test_the_corpus_is_not_empty() -> None:
    # The differential test above means something only with many files of both kinds.
    files = corpus()
    assert len(files) >= 50
    assert any(p.suffix == ".tfvars" for p in files)


# -- documented differences -------------------------------------------------------------------

# (text, what the native reader gives, what python-hcl2 gave): Terraform's reading each time.
DIFFERENCES: list[tuple[str, object, object]] = [
    # "An argument definition must end with a newline" (two on one line).
    ("x = 1 y = 2\n", REFUSED, {"x": Lit(1, "1"), "y": Lit(2, "2")}),
    # Object elements are separated by a comma or a newline.
    (
        "x = {a = 1 b = 2}\n",
        REFUSED,
        {
            "x": ObjectExpr(
                ((Lit("a", "a"), Lit(1, "1")), (Lit("b", "b"), Lit(2, "2"))), "{a = 1 b = 2}"
            )
        },
    ),
    # A quoted template ends on its line (a heredoc spans lines).
    ('x = "a\nb"\n', REFUSED, {"x": Lit("a\nb", '"a b"')}),
    # Newlines are insignificant only inside ( ), [ ] and ${ }: here one ends the argument.
    ("x = a\n+ b\n", REFUSED, {"x": BinOp("+", Ref("a", (), "a"), Ref("b", (), "b"), "a + b")}),
    ("x = a\n  ? b\n  : c\n", REFUSED, "a conditional"),
    # "$${" is a literal "${" whether or not a "}" follows.
    ('x = "$${a"\n', {"x": Lit("${a", '"$${a"')}, REFUSED),
    # A flush heredoc (<<-) loses the fewest leading spaces of its lines that are not blank
    # (python-hcl2's converter kept them); an empty heredoc is "" (it gave "\n").
    (
        "x = <<-EOT\n    a\n      b\n\n    EOT\n",
        {"x": Lit("a\n  b\n\n", "<<-EOT a b EOT")},
        {"x": Lit("    a\n      b\n\n", "<<-EOT a b EOT")},
    ),
    ("x = <<EOT\nEOT\n", {"x": Lit("", "<<EOT EOT")}, {"x": Lit("\n", "<<EOT EOT")}),
    # Strip markers in an interpolation are HCL; the string is not evaluated (Opaque).
    ('x = "${~ a ~}"\n', {"x": Opaque('"${~ a ~}"')}, REFUSED),
]


@pytest.mark.parametrize("text, new, old", DIFFERENCES)
def test_where_python_hcl2_and_terraform_differ_the_reader_follows_terraform(
    text: str, new: object, old: object
) -> None:
    assert native(text, tfvars=True) == new
    got = lark(text, tfvars=True)
    assert got == old if not isinstance(old, str) or old == REFUSED else got != REFUSED


def test_nesting_deeper_than_max_nesting_is_refused_with_its_line() -> None:
    # MAX_NESTING counts two per level (python-hcl2's tree was about twice as deep as the
    # text): 100 levels read, 101 refused, for every kind of nesting, with the line.
    levels = MAX_NESTING // 2
    shapes = [
        lambda n: "x = " + "[" * n + "]" * n,
        lambda n: "x = " + "(" * n + "1" + ")" * n,
        lambda n: "x = " + "{a = " * n + "1" + "}" * n,
        lambda n: "x = " + '"${' * n + "a" + '}"' * n,
        lambda n: "x = " + "-(" * n + "1" + ")" * n,
        lambda n: "x = " + " + ".join(["a"] * (n + 1)),
        lambda n: "x = " + "f(" * n + ")" * n,
    ]
    for shape in shapes:
        assert native(shape(levels - 1) + "\n", tfvars=True) != REFUSED
        with pytest.raises(Unparsable, match=f"^line 1: nested more than {MAX_NESTING} levels"):
            parse_tfvars_hcl(shape(levels + 1) + "\n")
    with pytest.raises(Unparsable, match=r"^line 101: nested more than 200 levels deep$"):
        parse_hcl("b {\n" * 101 + "}\n" * 101)
    # Far deeper than Python's recursion limit: refused as deep, not a RecursionError.
    with pytest.raises(Unparsable, match="nested more than"):
        parse_tfvars_hcl("x = " + "[" * 100_000 + "]" * 100_000)


# -- sizes ------------------------------------------------------------------------------------


def test_a_one_megabyte_single_line_string_is_read_in_linear_time() -> None:
    value = "a" * (1 << 20)
    cases = [
        (f'x = "{value}"\n', True),
        (f'x = "${{y}}{value}${{z}}"\n', True),
        (f'x = "{value}\n', False),  # never closed
        (f"x = a + b + {value}\n", True),
    ]
    for text, read in cases:
        start = time.perf_counter()
        result = native(text, tfvars=True)
        assert time.perf_counter() - start < 2.0
        assert (result != REFUSED) == read
    heredoc = native(f"x = <<EOT\n{value}\nEOT\n", tfvars=True)
    assert heredoc == {"x": Lit(value + "\n", f"<<EOT {value} EOT")}


def test_a_hundred_thousand_tokens_are_read_in_linear_time() -> None:
    items = ", ".join(f"v{i}" for i in range(50_000))  # 100,000 tokens on one line
    start = time.perf_counter()
    parsed = parse_tfvars_hcl(f"x = [{items}]\n")
    assert time.perf_counter() - start < 3.0
    value = parsed["x"]
    assert isinstance(value, TupleExpr) and len(value.items) == 50_000
    lines = "".join(f"a{i} = b.c{i}\n" for i in range(25_000))  # 100,000 tokens, many lines
    start = time.perf_counter()
    assert len(parse_tfvars_hcl(lines)) == 25_000
    assert time.perf_counter() - start < 3.0
    # 50,000 block labels, with no "{" after them: refused, without backtracking.
    start = time.perf_counter()
    assert native("b " + "a " * 50_000 + "=\n") == REFUSED
    assert native("resource " + "a" * 50_000 + ' "x" y z\n') == REFUSED
    assert time.perf_counter() - start < 3.0


def test_lines_are_those_of_each_block_first_line() -> None:
    text = (
        "# a comment\n/* a block\ncomment */\n"
        'resource "aws_iam_user" "a" {\n  name = <<EOT\nx\nEOT\n}\n\n'
        'module "m" {\n  source = "./m"\n  tags = {\n    a = "b"\n  }\n}\n'
        'resource "aws_iam_access_key" "k" { user = "a" }\n'
    )
    parsed = parse_hcl(text)
    assert [r.line for r in parsed.resources] == [4, 16]
    assert [m.line for m in parsed.modules] == [10]
    assert parsed == hcl_lark.parse_hcl(text)


# -- the hostile corpus -----------------------------------------------------------------------

HOSTILE_NOTES = {
    "binary_chain.tf": "line 2: nested more than 200 levels deep",
    "comment_never_closed.tf": "line 4: not valid HCL (unexpected '/* never closed')",
    "control_character.tf": "line 2: not valid HCL (unexpected character)",
    "interpolation_never_closed.tf": "line 2: not valid HCL (unexpected '\"')",
    "nested_blocks.tf": "line 101: nested more than 200 levels deep",
    "nested_templates.tf": "line 2: nested more than 200 levels deep",
    "object_without_separator.tf": "line 2: not valid HCL (unexpected 'b = \"2\" }')",
    "operator_on_next_line.tf": "line 3: not valid HCL (unexpected '+ var.b')",
    "string_over_two_lines.tf": "line 2: not valid HCL (a quoted string does not end on its line)",
    "two_attributes_one_line.tf": "line 2: not valid HCL (unexpected 'path = \"/\"')",
}
# Read, not refused: the user each names (python-hcl2 left the heredoc's indent: "    f\n").
HOSTILE_USERS = {"heredoc_marker_indented.tf": "f\n", "lone_escape_sequence.tf": "${e"}


def test_every_hostile_file_is_listed_in_its_readme() -> None:
    files = {p.name for p in HOSTILE.glob("*.tf")}
    assert files == set(HOSTILE_NOTES) | set(HOSTILE_USERS)
    readme = (HOSTILE / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize("name", sorted(HOSTILE_NOTES))
def test_a_hostile_file_is_refused_with_its_line(name: str) -> None:
    with pytest.raises(Unparsable) as caught:
        parse_hcl((HOSTILE / name).read_text())
    assert str(caught.value) == HOSTILE_NOTES[name]


def test_the_hostile_folder_is_one_error_per_refused_file_and_the_rest_is_read() -> None:
    code, out, err = run_main(["iac", str(HOSTILE), "--format", "json"])
    assert (code, err) == (1, "")
    findings = json.loads(out)["findings"]
    notes = {
        f["note"].split(": ", 1)[0].rsplit("/", 1)[-1]: f["note"].split(": ", 1)[1]
        for f in findings
        if f["reason"] == "iac-unreadable"
    }
    assert notes == HOSTILE_NOTES
    assert all(f["status"] == "ERROR" for f in findings if f["reason"] == "iac-unreadable")
    users = {
        f["user_at"]["path"].rsplit("/", 1)[-1]: (f["user"], f["status"], f["reason"])
        for f in findings
        if f["reason"] != "iac-unreadable"
    }
    assert users == {
        name: (user, "NOT_APPLICABLE", "iac-programmatic-user")
        for name, user in HOSTILE_USERS.items()
    }


# -- the generator ----------------------------------------------------------------------------
# HCL texts in the syntax both readers accept the same way (Terraform's too): the records
# they give must be equal. Newlines and comments go only where HCL allows them.

NAMES = st.sampled_from(["a", "b", "var", "local", "each", "count", "aws_iam_user", "x-y", "_z"])
# Template text: escapes, lone "$" and "%", and the escaped "$${a}" and "%%{b}" (python-hcl2
# keeps an escaped sequence's text up to its "}" as it is; Terraform reads "$${" and goes on,
# so a "$" just before an interpolation or an escape inside "$${...}" would differ).
TEXT = (
    st.lists(
        st.sampled_from(
            [*"ab $%}~/#*.:=-", "\\n", '\\"', "\\\\", "\\u00e9", "é", "$${a}", "%%{b}"]
        ),
        max_size=8,
    )
    .map("".join)
    .map(lambda s: s.rstrip("$%"))
)


def _string(parts: list[str]) -> str:
    return '"' + "".join(parts) + '"'


def _expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        NAMES,
        st.sampled_from(["true", "false", "null", "0", "7", "1.5", "2e3", "007"]),
        TEXT.map(lambda s: _string([s])),
        st.tuples(NAMES, st.lists(NAMES, max_size=3)).map(lambda t: ".".join([t[0], *t[1]])),
        st.tuples(NAMES, st.sampled_from(["[0]", ".0", "[*].id", ".*.id", '["k"]'])).map("".join),
    )

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        term = inner.map(lambda e: f"({e})")
        sep = st.sampled_from([", ", ",\n", " ,\n  # c\n", ", /* c */ "])
        return st.one_of(
            st.tuples(
                term, st.sampled_from([*list("+-*/%<>"), "==", "!=", "<=", ">=", "&&", "||"]), term
            ).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(st.sampled_from(["-", "!"]), term).map("".join),
            st.tuples(term, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
            st.tuples(NAMES, st.lists(inner, max_size=3), sep, st.booleans()).map(
                lambda t: f"{t[0]}({t[2].join(t[1])}{'...' if t[3] and t[1] else ''})"
            ),
            st.tuples(st.lists(inner, max_size=3), sep).map(lambda t: f"[{t[1].join(t[0])}]"),
            st.lists(
                st.tuples(st.one_of(NAMES, TEXT.map(lambda s: _string([s]))), inner), max_size=3
            ).flatmap(
                lambda kv: st.sampled_from(["\n", ", ", ",\n"]).map(
                    lambda s: (
                        "{" + s.join(f"{k} = {v}" for k, v in kv) + ("\n}" if "\n" in s else "}")
                    )
                )
            ),
            st.tuples(NAMES, inner, inner, st.booleans()).map(
                lambda t: f"[for {t[0]} in {t[1]} : {t[2]}{' if ' + t[1] if t[3] else ''}]"
            ),
            st.tuples(NAMES, NAMES, inner, inner, st.sampled_from(["", "...", " if x"])).map(
                lambda t: f"{{for {t[0]}, {t[1]} in {t[2]} : {t[0]} => {t[3]}{t[4]}}}"
            ),
            st.lists(st.one_of(TEXT, inner.map(lambda e: "${" + e + "}")), max_size=3).map(_string),
            TEXT.map(lambda s: _string(["%{ if a }", s, "%{ endif }"])),
            st.tuples(term, st.sampled_from([".a", "[0]", ".0.b", "[*]"])).map("".join),
        )

    return st.recursive(leaves, grow, max_leaves=8)


EXPRESSIONS = _expressions()
# Not empty, and a flush heredoc (<<-) with a line at column 0: see DIFFERENCES for the rest.
HEREDOC = st.tuples(
    st.sampled_from(["<<", "<<-"]),
    st.lists(
        st.sampled_from(["line", "  indented", "", "${a}", "$${a}", "%{ if b }"]),
        min_size=1,
        max_size=3,
    ),
).map(
    lambda t: (
        t[0]
        + "EOT\n"
        + ("line\n" if t[0] == "<<-" else "")
        + "".join(line + "\n" for line in t[1])
        + "  EOT"
    )
)

# The blocks and attributes the records keep, among others they do not.
BLOCK_TYPES = st.one_of(
    NAMES, st.sampled_from(["resource", "locals", "module", "variable", "output"])
)
ATTRIBUTE_NAMES = st.one_of(NAMES, st.sampled_from(["default", "value", "source", "name"]))
COMMENT = st.sampled_from(["", " # note", " // note", " /* note */"])


def _body(depth: int) -> st.SearchStrategy[str]:
    attribute = st.tuples(ATTRIBUTE_NAMES, st.one_of(EXPRESSIONS, HEREDOC), COMMENT).map(
        lambda t: f"{t[0]} = {t[1]}{t[2] if not t[1].endswith('EOT') else ''}\n"
    )
    items: st.SearchStrategy[str] = attribute
    if depth:
        block = st.tuples(
            BLOCK_TYPES,
            st.lists(st.one_of(NAMES, TEXT.map(lambda s: _string([s]))), max_size=2),
            _body(depth - 1),
        ).map(lambda t: " ".join([t[0], *t[1]]) + " {\n" + t[2] + "}\n")
        kept = st.tuples(
            st.sampled_from(['resource "aws_iam_user" "u"', "locals", 'module "m"', "variable v"]),
            _body(depth - 1),
        ).map(lambda t: t[0] + " {\n" + t[1] + "}\n")
        items = st.one_of(attribute, block, kept, st.just("\n"), st.just("# a comment line\n"))
    return st.lists(items, max_size=4).map("".join)


BODIES = _body(2)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(BODIES)
def test_generated_hcl_gives_the_same_records_in_both_readers(text: str) -> None:
    tried("iac-hcl")
    old = lark(text)
    new = native(text)
    assert new == old, text
    assert native(text, tfvars=True) == lark(text, tfvars=True), text


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    BODIES,
    st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.integers(0, 3),
            st.sampled_from(['"', "{", "}", "[", "]", "(", ")", "${", "%{", "<<EOT\n", "\n", "/*"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_hcl_is_records_or_one_unparsable_never_another_exception(
    text: str, cuts: list[tuple[int, int, str]]
) -> None:
    # Broken texts (not compared with python-hcl2: these edits make the differences listed
    # above): records or Unparsable, whose one line becomes the note, never another exception.
    tried("iac-hcl-mutated")
    for at, drop, insert in cuts:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + drop :]
    for tfvars in (False, True):
        try:
            result = parse_tfvars_hcl(text) if tfvars else parse_hcl(text)
        except Unparsable as e:
            assert str(e) and "\n" not in str(e)
        else:
            assert isinstance(result, (dict, TfFile))
