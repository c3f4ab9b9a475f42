"""The offline path's light findings equal the Finding path's (issue 13).

A report file's readable rows are read as light tuples (``ReportRow``) and judged
into :class:`~initkeys.evaluate.light.LightFinding` (``evaluate.light``); every
other caller reads :class:`~initkeys.model.IamUser` rows and gets
:class:`~initkeys.model.Finding` objects. On generated rows (N/A,
no_information, not_supported, missing and odd dates, dates out of order, the
root row, two keys, a redacted account, unreadable rows) and settings, the
properties here hold the two together:

- the fast reader's row is what the careful reader makes of the same cells;
- each light finding's verdict, reason, id, message and every field a format
  prints equal the Finding path's;
- every format writes the same bytes from light findings as from Findings.
"""

from __future__ import annotations

import io
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.evaluate.light import ReportFindings, judge_records
from initkeys.evaluate.verdicts import judge_user_unchecked
from initkeys.formats import FORMAT_NAMES, get_formatter, identified_findings
from initkeys.model import AccountAudit, AuditRun, LightFinding, Mode, Settings
from initkeys.sources.credential_report import (
    ReportReader,
    _aws_timestamp,
    _Columns,
    _columns,
    _row_reader,
    _user,
    row_user,
)
from initkeys.sources.credential_report import (
    _where as _where_of,
)
from initkeys.timeutil import format_utc, parse_utc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import offline_report

HEADER = offline_report.HEADER.rstrip("\n")  # AWS's 22 columns
ACCOUNTS = ("123456789012", "XXXXXXXXXXXX")  # a real id, and a redacted report's

# AWS's own form mostly (near the setup window's and the tracking start's edges, and
# the parser's bounds), then the other forms a report may hold, then non-timestamps.
_BASE = datetime(2015, 4, 22, tzinfo=timezone.utc)
_aws_times = st.one_of(
    st.integers(-3 * 86_400, 3 * 86_400).map(lambda s: _BASE + timedelta(seconds=s)),
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(8999, 12, 31), timezones=st.just(None)
    ).map(lambda d: d.replace(microsecond=0, tzinfo=timezone.utc)),
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
_odd_times = st.sampled_from(
    [
        "2015-04-22T00:00:00Z",
        "2015-04-22T00:00:00.250000+00:00",
        "2015-04-22T01:00:00+01:00",
        "2015-04-22 00:00:00+00:00",
        "2015-W17-3T00:00:00+00:00",
        "1969-12-31T23:59:59+00:00",
        "9000-01-01T00:00:00+00:00",
        "2015-02-30T00:00:00+00:00",
        "2015-04-22",
        "N/A",
        "no_information",
        "not_supported",
        "",
        "yesterday",
    ]
)
_times = st.one_of(_aws_times, _aws_times, _aws_times, _odd_times)
_flags = st.sampled_from(["true", "false", "true", "false", "TRUE", "False", "not_supported", ""])


@st.composite
def _row(draw: st.DrawFn, account: str) -> list[str]:
    """One data row's 22 cells."""
    name = draw(
        st.sampled_from(["alice", "bob", "b\u00f6b", "x\x1b[31m", "=cmd", "", "<root_account>"])
    )
    arn = draw(
        st.sampled_from(
            [
                f"arn:aws:iam::{account}:user/{name or 'u'}",
                f"arn:aws:iam::{account}:user/staff/{name or 'u'}",
                f"arn:aws:iam::{account}:root",
                f"arn:aws:iam::{account}:role/r",
                f"arn:aws:iam::{account}:user/",
                "not-an-arn",
            ]
        )
    )
    created = draw(_times)

    def later() -> str:
        # Often a few seconds to days after the user: setup keys and later ones.
        if created.endswith("+00:00") and draw(st.booleans()):
            moment = parse_utc(created)
            if moment is not None:
                gap = draw(st.sampled_from([-61, -60, -5, 0, 5, 599, 600, 601, 3600, 86_400 * 40]))
                shifted = moment + timedelta(seconds=gap)
                if shifted.year < 9000:
                    return shifted.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        return draw(st.one_of(_times, st.just("N/A"), st.just("N/A")))

    cells = [name, arn, created, draw(_flags), "N/A", later(), "N/A", "false"]
    for _ in (1, 2):
        cells += [draw(_flags), later(), later(), "us-east-1", "s3"]
    return [*cells, "false", "N/A", "false", "N/A"]


@st.composite
def _report(draw: st.DrawFn) -> tuple[list[list[str]], Settings]:
    account = draw(st.sampled_from(ACCOUNTS))
    rows = draw(st.lists(_row(account), min_size=1, max_size=6))
    if draw(st.booleans()):
        rows.insert(
            0,
            [
                "<root_account>",
                f"arn:aws:iam::{account}:root",
                "2016-01-01T00:00:00+00:00",
                "not_supported",
                "N/A",
                "not_supported",
                "not_supported",
                "true",
                *("false", "N/A", "N/A", "N/A", "N/A") * 2,
                "false",
                "N/A",
                "false",
                "N/A",
            ],
        )
    judged = Settings(
        mode=draw(st.sampled_from(list(Mode))),
        setup_window=timedelta(seconds=draw(st.sampled_from([1, 60, 600, 3600, 86_400 * 30]))),
        today=date(2026, 6, 1),
    )
    return rows, judged


def _reader(rows: list[list[str]]) -> ReportReader:
    lines = [HEADER + "\n", *(",".join(r) + "\n" for r in rows)]
    return ReportReader(lines, "report.csv")


def _where() -> _Columns:
    return _where_of(_columns(HEADER, 1, "report.csv")[0])


FIELDS = (
    "user",
    "arn",
    "status",
    "reason",
    "message",
    "key_slot",
    "access_key_id",
    "active",
    "user_created",
    "key_created",
    "last_used",
    "password_created",
    "exemption",
    "expired_exemption",
    "created_by",
    "created_via",
    "created_from",
    "evidence_note",
    "setup_gap",
    "user_created_utc",
    "key_created_utc",
    "last_used_utc",
    "password_created_utc",
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_report())
def test_light_findings_are_the_findings(report: tuple[list[list[str]], Settings]) -> None:
    tried("light-findings")
    rows, judged = report
    where = _where()
    fast_row = _row_reader(where)
    for number, cells in enumerate(rows, start=2):
        light = fast_row(list(cells), [""])
        if light is not None:  # the fast reader's row is the careful reader's
            assert row_user(light) == _user(list(cells), number, where)
    full = [f for user in _reader(rows).users() for f in judge_user_unchecked(user, judged)]
    views = list(judge_records(_reader(rows).records(), judged))
    assert len(views) == len(full)
    for view, finding in zip(views, full, strict=True):
        for name in FIELDS:
            assert getattr(view, name) == getattr(finding, name), name
        if isinstance(view, LightFinding):
            assert view.finding() == finding
    # The ids every format writes.
    heads = [("123456789012", "aws")]
    for account_id, partition in heads:
        as_full = AccountAudit(account_id, partition, "report.csv", None, tuple(full))
        as_light = AccountAudit(account_id, partition, "report.csv", None, ReportFindings(views))
        assert [i for i, _ in identified_findings(as_light)] == [
            i for i, _ in identified_findings(as_full)
        ]
        assert tuple(as_light.findings) == tuple(full)
        assert as_light.counts() == as_full.counts()


@settings(max_examples=30, deadline=None, derandomize=True)
@given(_report())
def test_every_format_writes_light_findings_as_findings(
    report: tuple[list[list[str]], Settings],
) -> None:
    tried("light-formats")
    rows, judged = report
    reader = _reader(rows)
    views = list(judge_records(reader.records(), judged))
    full = tuple(f for user in _reader(rows).users() for f in judge_user_unchecked(user, judged))
    try:
        account, partition = reader.account_id, reader.partition
    except Exception:  # no row names an account: nothing a format would be given
        return
    started = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)

    def render(findings: ReportFindings | tuple[object, ...], name: str) -> str:
        audit = AccountAudit(account, partition, "report.csv", None, findings)  # type: ignore[arg-type]
        out = io.StringIO()
        get_formatter(name).render(AuditRun(judged, started, (audit,)), out, tool_version="0")
        return out.getvalue()

    for name in FORMAT_NAMES:
        assert render(ReportFindings(views), name) == render(full, name), name


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(_aws_times, _odd_times, st.text(max_size=30)))
def test_aws_timestamp_text_is_format_utc(text: str) -> None:
    """A timestamp read in AWS's form writes back as its text: the light path's slice."""
    tried("light-timestamp")
    moment = _aws_timestamp(text)
    if moment is not None:
        assert moment == parse_utc(text)
        assert format_utc(moment) == text[:19] + "Z"
