"""Fuzzing the command line's options and every format's handling of hostile text.

- ``cli-options``: any value of the duration, format, output and judgement options
  ends in exit 0/1 or exit 2 with one line (never 4, never a traceback).
- ``format-text``: any text in a user name, message, source, account name or account
  error reaches no format raw when it could drive a terminal (control, C1, bidi and
  other format characters), and every machine format stays parseable.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from fuzz_kit import assert_clean_end, run_main, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import FAILING, row

from initkeys.formats import FORMAT_NAMES, get_formatter, unsafe_pattern
from initkeys.model import AccountAudit, AuditRun, Finding, Reason, Settings, Status

# dave: a FAIL setup key; alice: an unreadable row (ERROR).
REPORT = FAILING + "\n" + row("alice", "not-a-date", "true", None)
DURATION = st.one_of(
    st.text(max_size=12),
    st.from_regex(
        r"-?[0-9]{1,20}(\.[0-9]{1,8})?( ?[dhmsDHMS])?([0-9]{1,6}[dhms])?", fullmatch=True
    ),
    st.sampled_from(["0", "0s", "1e300", "inf", "nan", "-0", "30d", "30d1s", "86400", "86401"]),
)


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    args: list[str] = []
    if draw(st.booleans()):
        args += ["--setup-window", draw(DURATION)]
    if draw(st.booleans()):
        args += ["--report-timeout", draw(DURATION)]
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from([*FORMAT_NAMES, "", "xml", "JSON"]), max_size=3))
        args += ["--format", ",".join(names)]
    if draw(st.booleans()):
        args += ["--fail-on", draw(st.sampled_from(["FAIL", "warning", "ERROR", ""]))]
    if draw(st.booleans()):
        args += ["--mode", draw(st.sampled_from(["setup", "cis", "CIS", "x"]))]
    if draw(st.booleans()):
        args.append("--allow-errors")
    if draw(st.booleans()):
        args += ["-o", "-"]
    return args


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(args=argv())
def test_any_option_values_end_cleanly(tmp_path: Path, args: list[str]) -> None:
    tried("cli-options")
    report = tmp_path / "r.csv"
    report.write_text(REPORT)
    code, out, err = run_main(["audit", "--credential-report", str(report), *args])
    assert_clean_end(code, err)
    if code != 2:
        # The report has an ERROR row: fail closed unless --allow-errors (the FAIL
        # only counts in a window that makes dave's 30 s key a setup key).
        assert code == 1 or "--allow-errors" in args, (args, err)
        assert out


RAW = unsafe_pattern()
GENERATED = datetime(2026, 11, 28, tzinfo=timezone.utc)
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from("\x1b\x07\x9b\x85\u202e\u2066\u200b\ufeff\U000e0041\r\n\t|<&`=\"'"),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    user=HOSTILE,
    message=HOSTILE,
    source=HOSTILE,
    name=HOSTILE,
    error=HOSTILE,
    status=st.sampled_from([Status.FAIL, Status.WARNING, Status.ERROR]),
)
def test_any_text_reaches_no_format_raw(
    user: str, message: str, source: str, name: str, error: str, status: Status
) -> None:
    tried("format-text")
    reason = {
        Status.FAIL: Reason.SETUP_KEY_UNUSED,
        Status.WARNING: Reason.UNUSED_KEY,
        Status.ERROR: Reason.INVALID_ROW,
    }[status]
    finding = Finding(
        user or "u", f"arn:aws:iam::123456789012:user/{user}", status, reason, message, key_slot=1
    )
    accounts = (
        AccountAudit("123456789012", "aws", source, None, (finding,), account_name=name or None),
        AccountAudit("210987654321", "aws", "aws", None, error=error or "e"),
    )
    run = AuditRun(settings=Settings(), generated_at=GENERATED, accounts=accounts)
    for output_format in FORMAT_NAMES:
        out = io.StringIO()
        get_formatter(output_format).render(run, out)
        text = out.getvalue()
        assert {c for c in RAW.findall(text) if c != "\n"} == set(), output_format
        if output_format in ("json", "sarif", "asff", "ocsf"):
            json.loads(text)
        elif output_format == "junit":
            ET.fromstring(text.encode())
