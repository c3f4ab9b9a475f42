"""``--format markdown``: parsed with markdown-it (CommonMark + GFM tables), the tables hold
the right rows, and no data turns into markup, HTML or a link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from format_runs import HOSTILE_NAMES, empty_run, hostile_run, many_fails, one_finding
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from test_cli import FAILING, here, no_aws_env, write
from test_formats import ACCOUNT, GENERATED, _render, _run

from initkeys.formats.markdown import MAX_ROWS, code, escape_inline
from initkeys.model import AccountAudit, AuditRun, Settings, Status

MARKDOWN = MarkdownIt("commonmark").enable("table")
# Tokens that data must never produce (HTML, links, images, emphasis).
MARKUP = {"html_inline", "html_block", "link_open", "image", "em_open", "strong_open", "s_open"}


def _tables(text: str) -> list[list[list[str]]]:
    """Each table as rows of cell texts (header row first), as a GFM renderer sees them."""
    tables: list[list[list[str]]] = []
    row: list[str] = []
    in_table = False
    for token in MARKDOWN.parse(text):
        if token.type in ("table_open", "table_close"):
            in_table = token.type == "table_open"
            tables += [[]] if in_table else []
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and in_table:
            row.append(_plain(token))
        elif token.type == "tr_close":
            tables[-1].append(row)
    return tables


def _plain(token: Token) -> str:
    return "".join(child.content for child in token.children or ())


def _markup_from_data(text: str, allowed: int = 0) -> list[str]:
    """Markup tokens in ``text`` beyond the ``allowed`` ones we write ourselves."""
    found = [
        child.type
        for token in MARKDOWN.parse(text)
        if token.type == "inline"
        for child in token.children or ()
        if child.type in MARKUP
    ]
    return found[allowed:]


def _findings_table(text: str) -> list[list[str]]:
    counts, findings = _tables(text)[:2]
    assert counts[0] == ["FAIL", "ERROR", "WARNING", "PASS", "N/A"]
    return findings


def test_title_counts_and_findings() -> None:
    text = _render("markdown", _run(), tool_version="9.9.9")
    first = text.splitlines()[0]
    assert first.startswith("## ") and "FAIL" in first and "1.11" in first
    assert "initkeys 9.9.9" in text
    counts = _tables(text)[0]
    assert counts[1] == ["2", "1", "1", "2", "2"]
    header, *rows = _findings_table(text)
    assert header == [
        "status",
        "account",
        "user",
        "key",
        "created after user",
        "last used",
        "reason",
    ]
    # FAIL first, then ERROR, then WARNING.
    assert [(r[0].split()[-1], r[2]) for r in rows] == [
        ("FAIL", "alice"),
        ("FAIL", "=cmd+1"),
        ("ERROR", "broken"),
        ("WARNING", "bob"),
    ]
    alice = rows[0]
    assert alice[1] == ACCOUNT
    assert alice[3:6] == ["1", "30s", "never"]
    assert alice[6] == "setup-key-unused"
    assert rows[1][4] == "-30s"  # key created before the user (clock skew)
    assert rows[2][3:5] == ["-", "-"]  # a user-level finding
    assert "could not be read" in rows[2][6]
    assert "and" not in text.split("### Findings")[1].split("###")[0].splitlines()[-1]


def test_accounts_not_audited_are_listed() -> None:
    text = _render("markdown", _run())
    section = text.split("### Accounts that could not be audited")[1]
    assert "`210987654321`: `AccessDenied: not allowed" in section
    assert "2 accounts" not in text and "1 account audited, 1 could not be audited" in text


def test_rows_are_capped() -> None:
    text = _render("markdown", many_fails(MAX_ROWS + 20))
    header, *rows = _findings_table(text)
    assert len(rows) == MAX_ROWS
    assert "account" not in header  # one account: no account column
    assert [r[1] for r in rows] == [f"user{i:05d}" for i in range(MAX_ROWS)]
    assert "…and 20 more FAIL, ERROR or WARNING findings" in text


def test_exempt_findings_are_noted_and_listed_last() -> None:
    text = _render("markdown", hostile_run())
    _, *rows = _findings_table(text)
    assert rows[-1][0].endswith("FAIL exempt")
    assert rows[-1][2] == "ops-admin"
    assert rows[-1][6] == "setup-key-unused, exempt: break-glass <admin> | approved `CISO`"
    assert "1 finding exempt" in text


def test_hostile_text_cannot_break_tables_or_inject_markup() -> None:
    run = hostile_run()
    text = _render("markdown", run)
    # Our own markup: the title's emphasis, the **INCOMPLETE:** banner (the run has an
    # ERROR row and an account not audited) and the note's *exempt* (twice).
    assert _markup_from_data(text, allowed=4) == []
    html = MARKDOWN.render(text)
    assert "<script" not in html and "<a " not in html and "<img" not in html
    _, *rows = _findings_table(text)
    assert all(len(row) == 7 for row in rows)
    assert len(rows) == 5 + 1 + 1 + 1  # hostile FAILs, wanda, bro<ken>|, ops-admin
    users = [row[2] for row in rows]
    assert users[0] == HOSTILE_NAMES[0]
    assert users[1] == "pipe|break\\x0arow\\x0d\\x0a| x | y |"  # visible, on one row
    assert users[2] == HOSTILE_NAMES[2]
    assert users[3] == "nul\\x00esc\\x1b[31mbell\\x07\\u202eform\\x0cfeed"
    assert users[4] == HOSTILE_NAMES[4]
    section = text.split("### Accounts that could not be audited")[1]
    assert "AccessDenied <b>|</b>\\x0anext line \\x1b[2J" in section


def test_code_spans() -> None:
    assert code("alice") == "`alice`"
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b", table=True) == "`a\\|b`"
    assert code("a\nb") == "`a\\x0ab`"
    assert code("") == ""
    assert escape_inline("a|b <c> *d*") == "a\\|b \\<c\\> \\*d\\*"


def test_empty_run_and_clean_run() -> None:
    text = _render("markdown", empty_run())
    assert "No accounts audited." in text
    clean = AuditRun(
        settings=Settings(),
        generated_at=GENERATED,
        accounts=(AccountAudit(ACCOUNT, "aws", "aws", None),),
    )
    text = _render("markdown", clean)
    assert "No FAIL, ERROR or WARNING findings." in text
    assert len(_tables(text)) == 1


@settings(max_examples=60, deadline=None)
@given(user=st.text(min_size=1, max_size=30), reason=st.text(min_size=1, max_size=20))
def test_any_text_stays_in_its_cell(user: str, reason: str) -> None:
    text = _render("markdown", one_finding(user, Status.ERROR, reason))
    header, row = _findings_table(text)
    assert len(row) == len(header)
    # The title's emphasis and the **INCOMPLETE:** banner (an ERROR finding) are ours.
    assert _markup_from_data(text, allowed=2) == []


def test_cli_markdown(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", FAILING)
    proc = here(
        ["audit", "--credential-report", path, "--format", "markdown"], no_aws_env(tmp_path)
    )
    assert proc.returncode == 1, proc.stderr
    _, (_, row) = _tables(proc.stdout)[:2]
    assert row[1] == "dave"


def test_new_formats_do_not_import_rich() -> None:
    # Like json and csv: rich is slow to import and only the text format needs it.
    code = (
        "import sys, initkeys.formats as f\n"
        "for name in ('sarif', 'junit', 'markdown'): f.get_formatter(name)\n"
        "assert 'rich' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
