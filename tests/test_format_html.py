"""``--format html``: a self-contained page, checked by a strict HTML parser and a real browser.

The static tests parse the page with html5lib in strict mode (any HTML parse
error fails them). The browser tests open the file in headless Chromium
through chromedriver, with one browser for the whole module: the counts and
failing users render, a heading click sorts the table, user-controlled text
stays text, and the page neither loads anything nor logs a console error (a
Content-Security-Policy violation would be one).

Without Chromium and chromedriver the browser tests skip with the reason;
with ``INITKEYS_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.
``make browser`` installs both on Debian.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import here, no_aws_env
from test_formats import ACCOUNT, GENERATED, _render, _run

from initkeys.control import CONTROL
from initkeys.formats import identified_findings
from initkeys.formats.html import CONTENT_SECURITY_POLICY, HtmlFormatter
from initkeys.model import (
    AccountAudit,
    AuditRun,
    Exemption,
    Finding,
    Reason,
    Settings,
    Status,
)

UTC = timezone.utc
DATA = Path(__file__).parent / "data"
NS = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
SCREENSHOT = Path("/tmp/initkeys-report.png")

HOSTILE_USER = '<script>window.pwned=1</script>"onmouseover=window.pwned=2 x="'
HOSTILE_NAME = "<img src=x onerror=window.pwned=3>&amp;"
HOSTILE_SOURCE = '"><b>report</b>.csv'


def _finding(user: str, status: Status, reason: Reason, **kwargs: Any) -> Finding:
    created = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "message": f"Key 1 of {user}: {reason.value}.",
        "key_slot": 1,
        "active": True,
        "user_created": created,
        "key_created": created + timedelta(seconds=12),
        "password_created": created,
    }
    values.update(kwargs)
    return Finding(user=user, status=status, reason=reason, **values)


def _rich_run() -> AuditRun:
    """The shared test run, plus named accounts, an exemption and hostile text."""
    base = _run()
    production = replace(base.accounts[0], account_name="production")
    hostile = AccountAudit(
        "333344445555",
        "aws",
        HOSTILE_SOURCE,
        GENERATED - timedelta(minutes=20),
        account_name=HOSTILE_NAME,
        findings=(
            _finding(HOSTILE_USER, Status.FAIL, Reason.SETUP_KEY_UNUSED),
            _finding(
                "svc-backup",
                Status.FAIL,
                Reason.SETUP_KEY_UNUSED,
                exemption=Exemption("vendor backup agent", "cli", date(2027, 1, 31)),
            ),
            _finding("zoë", Status.PASS, Reason.KEY_USED, last_used=GENERATED),
        ),
    )
    sandbox = AccountAudit(
        "444455556666",
        "aws",
        "sandbox.csv",
        GENERATED - timedelta(hours=2),
        account_name="sandbox",
        findings=(
            _finding("dana", Status.PASS, Reason.KEY_USED, last_used=GENERATED),
            _finding("lee", Status.WARNING, Reason.UNUSED_KEY, key_slot=2),
        ),
    )
    accounts = (production, hostile, sandbox, base.accounts[1])
    return replace(base, accounts=accounts)


def _parse(text: str) -> Any:
    """The page as an element tree; any HTML parse error raises."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(text)


def _text(element: Any) -> str:
    return "".join(element.itertext())


def _by_id(tree: Any, ident: str) -> Any:
    found = tree.find(f".//*[@id='{ident}']")
    assert found is not None, ident
    return found


def _rows(tree: Any) -> list[Any]:
    table = _by_id(tree, "findings-table")
    return list(table.find(f"{NS}tbody"))


def _cells(row: Any) -> list[str]:
    return [_text(cell) for cell in row]


# --------------------------------------------------------------------------- static checks


def test_page_is_strict_html_with_every_part() -> None:
    run_ = _run()
    text = _render("html", run_, tool_version="9.9.9")
    tree = _parse(text)
    assert text.startswith("<!DOCTYPE html>\n")
    page = _text(tree)
    # The control's metadata.
    for value in (CONTROL.title, CONTROL.rationale, CONTROL.control_id, CONTROL.see_also):
        assert value in page
    assert "NIST SP 800-53: AC-3, AC-6(2), AC-6(5), MP-2" in page
    assert "CIS Controls v7: 16" in page
    # Scope and time.
    assert "2026-11-28T01:00:00Z" in page and "report.csv" in page
    assert "setup: the control's intent" in page and "10m (600s)" in page
    assert "initkeys 9.9.9" in page
    # Summary counts, as in the text report.
    counts = {s.value: _text(_by_id(tree, f"count-{s.value}")) for s in Status}
    assert counts == {"FAIL": "2", "ERROR": "1", "WARNING": "1", "PASS": "2", "NOT_APPLICABLE": "2"}
    assert _text(_by_id(tree, "result")) == "FAIL"
    assert "2 account(s): 1 audited, 1 could not be audited." in _text(
        _by_id(tree, "accounts-line")
    )
    # The account that could not be audited: in the scope and as a table row.
    assert "AccessDenied" in _text(_by_id(tree, "scope"))
    # Every finding, in the table, with its stable id; then the error account's row.
    rows = _rows(tree)
    ids = [i for a in run_.accounts for i, _ in identified_findings(a)]
    assert {_text(r[0]) for r in rows} == {*ids, "-"}
    assert len(rows) == len(ids) + 1
    # Problems first (FAIL, ERROR, WARNING in report order), then PASS and N/A.
    statuses = [_text(r[4]) for r in rows]
    assert statuses == [
        "FAIL", "WARNING", "FAIL", "ERROR", "ERROR", "NOT_APPLICABLE", "PASS", "PASS",
        "NOT_APPLICABLE",
    ]  # fmt: skip
    alice = _cells(next(r for r in rows if _text(r[2]) == "alice"))
    assert alice[1:] == [
        ACCOUNT,
        "alice",
        "key 1active",
        "FAIL",
        "setup-key-unused",
        "2022-01-01T00:00:00Z",
        "2022-01-01T00:00:30Z",
        "30s after",
        "never",
        "2022-01-01T00:00:05Z",
        "-",
        alice[-1],
    ]
    error_row = _cells(rows[4])
    assert error_row[1] == "210987654321" and error_row[-1].startswith("Could not be audited")


def test_page_loads_nothing_and_its_policy_matches_its_inline_blocks() -> None:
    text = _render("html", _rich_run())
    tree = _parse(text)
    # Nothing that could load: no src, no stylesheet links, no url() or @import.
    for element in tree.iter():
        assert "src" not in element.attrib and "srcset" not in element.attrib
        assert element.tag not in (f"{NS}link", f"{NS}iframe", f"{NS}img", f"{NS}object")
    assert "url(" not in text and "@import" not in text
    links = {e.get("href") for e in tree.iter(f"{NS}a")}
    assert CONTROL.see_also in links and links <= {CONTROL.see_also, "#scope"}
    # The policy: nothing by default, the inline style and script by their hashes.
    meta = tree.find(f".//{NS}meta[@http-equiv='Content-Security-Policy']")
    assert meta is not None and meta.get("content") == CONTENT_SECURITY_POLICY
    (style,) = tree.iter(f"{NS}style")
    (script,) = tree.iter(f"{NS}script")
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["style-src"] == _hash(style.text)
    assert policy["script-src"] == _hash(script.text)
    # Pure ASCII: any output encoding can carry it.
    assert text.isascii()
    assert "zo&#235;" in text


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def test_hostile_text_is_text() -> None:
    tree = _parse(_render("html", _rich_run()))
    assert len(list(tree.iter(f"{NS}script"))) == 1
    for element in tree.iter():
        assert not any(name.startswith("on") for name in element.attrib), element.attrib
    users = [_text(r[2]) for r in _rows(tree)]
    assert HOSTILE_USER in users
    page = _text(tree)
    assert HOSTILE_NAME in page and HOSTILE_SOURCE in page
    # Attributes keep the text whole too (the ARN in the user cell's title).
    titles = [c.get("title") for r in _rows(tree) for c in r if c.get("title")]
    assert f"arn:aws:iam::{ACCOUNT}:user/{HOSTILE_USER}" in titles


def test_control_characters_and_bidi_overrides_are_shown_as_escapes() -> None:
    finding = _finding("ev\x1b[2Jil\n\u202ex", Status.FAIL, Reason.SETUP_KEY_UNUSED)
    account = AccountAudit(ACCOUNT, "aws", "r\x00.csv", None, findings=(finding,))
    run_ = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))
    tree = _parse(_render("html", run_))
    assert _text(_rows(tree)[0][2]) == "ev\\x1b[2Jil\\x0a\\u202ex"
    assert "r\\x00.csv" in _text(_by_id(tree, "scope"))


@settings(max_examples=60, deadline=None)
@given(user=st.text(min_size=1, max_size=30), message=st.text(max_size=60))
def test_any_text_gives_strict_html(user: str, message: str) -> None:
    finding = _finding(user, Status.WARNING, Reason.UNUSED_KEY, message=message)
    account = AccountAudit(ACCOUNT, "aws", user, None, account_name=user, findings=(finding,))
    run_ = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))
    text = _render("html", run_)
    assert text.isascii()
    (row,) = _rows(_parse(text))
    shown = _text(row[2])
    # Shown as written, or with its unsafe characters as visible escapes.
    assert shown == user or "\\x" in shown or "\\u" in shown


def test_empty_run() -> None:
    tree = _parse(_render("html", AuditRun(settings=Settings(), generated_at=GENERATED)))
    assert _text(_by_id(tree, "count-FAIL")) == "0"
    assert _text(_by_id(tree, "result")) == "NOT_APPLICABLE"
    assert "No accounts were audited." in _text(tree)
    assert tree.find(".//*[@id='chart']") is None
    assert _rows(tree) == []


def _many(n: int) -> AuditRun:
    findings = tuple(
        _finding(
            f"user{i:05d}",
            Status.FAIL if i % 2 else Status.PASS,
            Reason.SETUP_KEY_UNUSED if i % 2 else Reason.KEY_USED,
        )
        for i in range(n)
    )
    account = AccountAudit(ACCOUNT, "aws", "big.csv", GENERATED, findings=findings)
    return AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))


class _Writes(io.StringIO):
    """Records the size of each write."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, text: str) -> int:
        self.sizes.append(len(text))
        return super().write(text)


def test_large_runs_list_every_problem_and_cap_the_rest_streaming() -> None:
    out = _Writes()
    HtmlFormatter(passing_limit=100).render(_many(2400), out)
    tree = _parse(out.getvalue())
    users = [_text(r[2]) for r in _rows(tree)]
    assert users[:1200] == [f"user{i:05d}" for i in range(1, 2400, 2)]
    assert users[1200:] == [f"user{i:05d}" for i in range(0, 200, 2)]
    note = _text(_by_id(tree, "findings-note"))
    assert "1,300 of 2,400 findings listed" in note
    assert "the other 1,100 are counted in the summary but not listed" in note
    assert _text(_by_id(tree, "count-PASS")) == "1,200"
    # Written piece by piece: no write holds more than the head or a few rows.
    assert len(out.sizes) > 1300
    assert max(out.sizes) < 16_000 < len(out.getvalue()) / 20


def test_chart_draws_the_worst_accounts_and_says_so() -> None:
    findings = (_finding("u", Status.PASS, Reason.KEY_USED),)
    accounts = [
        AccountAudit(f"{n:012d}", "aws", "x.csv", None, findings=findings) for n in range(30)
    ]
    accounts[17] = replace(
        accounts[17], findings=(*findings, _finding("bad", Status.FAIL, Reason.SETUP_KEY_UNUSED))
    )
    accounts[23] = replace(accounts[23], findings=(), error="AccessDenied")
    run_ = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=tuple(accounts))
    tree = _parse(_render("html", run_))
    chart = _by_id(tree, "chart")
    labels = [
        _text(t)
        for t in chart.iter(f"{SVG}text")
        if t.get("text-anchor") == "end"  # account labels
    ]
    assert len(labels) == 20
    assert labels[:2] == ["000000000017000000000017", "000000000023000000000023"]
    assert "Only the 20 accounts with the most severe results are drawn, of 30" in _text(chart)
    # Each drawn bar fills the bar's width, however small a segment is.
    bars = [r for r in chart.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    fail_bar = [r for r in bars if "000000000017" in _text(r)]
    assert [round(float(r.get("width")), 1) for r in fail_bar] == [200.0, 200.0]


def test_tiny_segments_stay_visible() -> None:
    from initkeys.formats.html import _segments

    counts = dict.fromkeys(Status, 0)
    counts[Status.FAIL] = 1
    counts[Status.PASS] = 1_000_000
    widths = dict(_segments(counts, 1_000_001))
    assert widths[Status.FAIL] >= 3
    assert sum(widths.values()) == pytest.approx(400)


def test_cli_writes_html(tmp_path: Path) -> None:
    report = str(DATA / "report_normal.csv")
    proc = here(["audit", "--credential-report", report, "--format", "html"], no_aws_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    tree = _parse(proc.stdout)
    assert _text(_by_id(tree, "count-FAIL")) == "1"
    out = tmp_path / "reports"
    proc = here(
        ["audit", "--credential-report", report, "--format", "json,html", "--output-dir", str(out)],
        no_aws_env(tmp_path),
    )
    assert proc.returncode == 1, proc.stderr
    ids = {
        f["id"] for f in json.loads((out / "initkeys.json").read_text())["accounts"][0]["findings"]
    }
    rows = _rows(_parse((out / "initkeys.html").read_text()))
    assert {_text(r[0]) for r in rows} == ids


# --------------------------------------------------------------------------- the browser


def _browser_paths() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    paths = _browser_paths()
    if paths is None:
        reason = (
            "the HTML report's browser tests need chromium and chromedriver "
            "(Debian: `make browser`, as root)"
        )
        if os.environ.get("INITKEYS_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; INITKEYS_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespaces to sandbox with
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: Any, tmp_path: Path, run_: AuditRun) -> str:
    path = tmp_path / "initkeys.html"
    with path.open("w", encoding="utf-8") as out:
        HtmlFormatter().render(run_, out, tool_version="9.9.9")
    url = path.as_uri()
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get_log("performance")
    driver.get(url)
    return url


def _column(driver: Any, index: int) -> list[str]:
    script = (
        "return Array.from(document.querySelectorAll('#findings-table tbody tr'))"
        f".map(r => r.cells[{index}].textContent);"
    )
    values: list[str] = driver.execute_script(script)
    return values


def test_browser_renders_counts_and_failing_users(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, tmp_path, _rich_run())
    counts = {s.value: browser.find_element(By.ID, f"count-{s.value}").text for s in Status}
    assert counts == {"FAIL": "4", "ERROR": "1", "WARNING": "2", "PASS": "4", "NOT_APPLICABLE": "2"}
    assert browser.find_element(By.ID, "result").text == "FAIL"
    failing = browser.execute_script(
        "return Array.from(document.querySelectorAll('#findings-table tbody tr.fail'))"
        ".map(r => r.cells[2].innerText);"
    )
    assert failing == ["alice", "=cmd+1", HOSTILE_USER, "svc-backup"]
    table = browser.find_element(By.ID, "findings-table")
    assert table.is_displayed()
    assert "vendor backup agent" in table.text and "Could not be audited" in table.text
    chart = browser.find_element(By.ID, "chart")
    assert chart.size["height"] > 100 and chart.is_displayed()
    # The inline style applied (so its hash matched): the masthead has its colour.
    colour = browser.execute_script(
        "return getComputedStyle(document.querySelector('header.masthead')).backgroundColor"
    )
    assert colour == "rgb(35, 58, 94)"
    # A picture for people to judge, and the page prints (auditors file PDFs).
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(height + 120, 6000))
    browser.save_screenshot(str(SCREENSHOT))
    browser.set_window_size(1400, 1000)
    pdf = base64.b64decode(browser.print_page())
    assert pdf.startswith(b"%PDF")


def test_browser_sorts_by_a_clicked_heading(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, tmp_path, _rich_run())
    headings = browser.find_elements(By.CSS_SELECTOR, "#findings-table thead th")
    user = headings[2]
    user.find_element(By.TAG_NAME, "button").click()
    users = [u for u in _column(browser, 2) if u != "-"]
    assert users == [
        "<root_account>", HOSTILE_USER, "=cmd+1", "alice", "bob", "bob", "broken", "carol",
        "dana", "lee", "svc-backup", "svc-deploy", "zo\u00eb",
    ]  # fmt: skip
    assert user.get_attribute("aria-sort") == "ascending"
    user.find_element(By.TAG_NAME, "button").click()
    assert [u for u in _column(browser, 2) if u != "-"] == users[::-1]
    assert user.get_attribute("aria-sort") == "descending"
    # Numbers sort as numbers; missing values go last either way.
    gap = headings[8]
    gap.find_element(By.TAG_NAME, "button").click()
    gaps = _column(browser, 8)
    known = [g for g in gaps if g != "-"]
    assert known[0] == "30s before" and known[-1] == "3 days after"
    assert gaps[len(known) :] == ["-"] * (len(gaps) - len(known))
    # Status sorts by severity, worst first.
    headings[4].find_element(By.TAG_NAME, "button").click()
    statuses = [s.removesuffix("exempt") for s in _column(browser, 4)]
    order = [s.value for s in Status]
    assert statuses == sorted(statuses, key=order.index)
    assert headings[2].get_attribute("aria-sort") == "none"


def test_browser_no_network_no_console_errors_and_policy_enforced(
    browser: Any, tmp_path: Path
) -> None:
    url = _open(browser, tmp_path, _rich_run())
    # Nothing was fetched but the page itself.
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    requested = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.add(message["params"]["request"]["url"])
    assert requested <= {url}
    # No console errors: a policy violation or a script error would be one.
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert browser.execute_script("return window.pwned") is None
    # The policy is enforced: a load the page might attempt is refused.
    blocked = browser.execute_async_script(
        "var done = arguments[0];"
        "document.addEventListener('securitypolicyviolation',"
        " function (e) { done(e.violatedDirective); });"
        "var img = new Image(); img.src = 'http://127.0.0.1:9/x.png';"
        "document.body.appendChild(img);"
    )
    assert blocked == "img-src"


def test_browser_shows_hostile_names_as_text(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, tmp_path, _rich_run())
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 1
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.find_elements(By.CSS_SELECTOR, "[onmouseover], [onerror]") == []
    page = browser.find_element(By.TAG_NAME, "body").text
    assert HOSTILE_USER in page and HOSTILE_NAME in page and HOSTILE_SOURCE in page
    assert "zoë" in page
    assert browser.execute_script("return window.pwned") is None


def test_browser_shows_cloudtrail_evidence_as_text_and_sorts_it(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from test_evidence_formats import EVIDENCE, HOSTILE, HOSTILE_BY, HOSTILE_FROM, SSO_ADMIN

    run_ = replace(EVIDENCE, accounts=(*EVIDENCE.accounts, *HOSTILE.accounts))
    _open(browser, tmp_path, run_)
    headings = browser.find_elements(By.CSS_SELECTOR, "#findings-table thead th")
    names = [h.text for h in headings]
    column = names.index("CREATED BY")  # headings are shown in capitals
    creators = _column(browser, column)
    assert SSO_ADMIN + "console \u00b7 192.0.2.44" in creators
    assert HOSTILE_BY.replace("\n", "\\x0a") + "other \u00b7 " + HOSTILE_FROM in creators
    headings[column].find_element(By.TAG_NAME, "button").click()
    ordered = _column(browser, column)
    known = [c for c in ordered if c != "-" and not c.startswith("not found")]
    assert known == sorted(known, key=str.casefold)  # the ARNs, in order; the rest last
    assert ordered[len(known) :] and all(c not in known for c in ordered[len(known) :])
    assert browser.execute_script("return window.pwned") is None
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
