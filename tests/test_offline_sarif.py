"""SARIF's and JSON's template writers give the general layout's bytes (issue 13).

The SARIF result of a finding without exemptions is written from a per-account
template (``sarif._FastResult``), its cached users from another, and a light
finding's message from parts worded once per kind (``json_format.LightMessages``).
Here each is held to the general layout (``json.dumps`` of ``result_document``,
of ``_user_location``; the finding's own ``message``) on hostile runs and on
generated light findings with generated names. ``test_offline_identity`` pins the
whole output on the benchmark's report.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from format_runs import HOSTILE_NAMES, hostile_run
from fuzz_kit import tried
from hypothesis import example, given, settings
from hypothesis import strategies as st

from initkeys.formats import finding_views, identified_findings
from initkeys.formats.json_format import LightMessages
from initkeys.formats.sarif import (
    _FastResult,
    _physical_location,
    _user_location,
    _Users,
    result_document,
)
from initkeys.model import AccountAudit, Finding, FindingView, LightFinding, Reason, Status

UTC = timezone.utc


def _check(account: AccountAudit, findings: list[FindingView]) -> int:
    """Each listed finding's fast result is the general one; returns how many were seen."""
    physical = _physical_location(account)
    fast = _FastResult(account, physical)
    users = _Users(3)
    seen = 0
    audit = replace(account, findings=tuple(findings))  # type: ignore[arg-type]
    for finding_id, finding in identified_findings(audit):
        if finding.status in (Status.PASS, Status.NOT_APPLICABLE):
            continue
        index = users.index(0, finding)
        user = _user_location(index, finding.user, finding.arn or finding.user, 0)
        assert users.entry(index) == json.dumps(user)
        general = json.dumps(result_document(account, physical, finding_id, finding, user))
        if finding.exemption is None and finding.expired_exemption is None:
            assert fast(finding_id, finding, index, users) == general
            seen += 1
        json.loads(general)
    return seen


def test_fast_result_is_the_general_layout() -> None:
    """Hostile names, an ERROR without an ARN, evidence, a key id, odd times, paths."""
    seen = 0
    for account in hostile_run().accounts:
        if account.error is not None:
            continue
        findings: list[FindingView] = list(account.findings)
        findings += [
            replace(
                f,
                access_key_id="AKIA%s\u202e",
                created_by='arn:aws:iam::1:user/"x"\x1b%d',
                created_via="console",
                created_from="198.51.100.7",
                evidence_note="no event <found> 100%",
                last_used=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
                status=Status.WARNING if f.status is Status.PASS else f.status,
            )
            for f in account.findings
        ]
        for source in (account.source, "aws", "<stdin>", "a dir/100% «x».csv"):
            for account_id in (account.account_id, 'x"%s\\'):
                where = replace(account, source=source, account_id=account_id)
                seen += _check(where, findings)
    assert seen >= 40


_REASONS = list(Reason)
_text_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(8999, 12, 31), timezones=st.just(None)
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+00:00"))


@st.composite
def _light(draw: st.DrawFn) -> LightFinding:
    name = draw(st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(max_size=12)))
    arn = draw(st.sampled_from(["", f"arn:aws:iam::123456789012:user/{name}"]))
    keyed = draw(st.booleans())
    cells = (
        name,
        arn,
        draw(st.sampled_from([Status.FAIL, Status.WARNING, Status.ERROR])),
        draw(st.sampled_from(_REASONS)),
        draw(st.sampled_from([1, 2])) if keyed else None,
        draw(st.booleans()) if keyed else None,
        draw(_text_times),
        draw(_text_times) if keyed else None,
        draw(st.one_of(st.none(), _text_times)) if keyed else None,
        draw(st.one_of(st.none(), _text_times)),
        draw(st.integers(-400, 10**9).map(lambda s: timedelta(seconds=s))) if keyed else None,
    )
    return tuple.__new__(LightFinding, cells)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(_light(), min_size=1, max_size=6))
def test_light_results_and_messages(findings: list[LightFinding]) -> None:
    """Generated light findings (names of any characters): the fast result and the
    cached message are the general ones, also when names repeat (cache hits)."""
    tried("sarif-light-results")
    messages = LightMessages()
    for f in findings + [tuple.__new__(LightFinding, ("other" + f[0], *f[1:])) for f in findings]:
        assert messages(f) == f.message
    account = AccountAudit("123456789012", "aws", "report.csv", None, ())
    _check(account, list(findings))


def test_light_messages_stop_caching_at_the_limit() -> None:
    """Past ``limit`` kinds a message is worded in full: the cache stays bounded."""
    messages = LightMessages(limit=2)
    base = ("u", "", Status.FAIL, Reason.UNUSED_KEY, 1, True, "t", "t", None, None)
    for seconds in range(10):
        f = tuple.__new__(LightFinding, (*base, timedelta(days=seconds)))
        assert messages(f) == f.message
    assert len(messages._parts) == 2


def test_a_message_without_the_name_once_is_worded_in_full() -> None:
    """A name that is empty (or a message without it) is never split around."""
    f = tuple.__new__(
        LightFinding,
        ("", "", Status.PASS, Reason.NO_ACCESS_KEYS, None, None, "t", None, None, None, None),
    )
    messages = LightMessages()
    assert messages(f) == f.message
    g = tuple.__new__(LightFinding, ("x\x00y", *f[1:]))
    assert messages(g) == g.message


def _reference_ids(account: AccountAudit) -> list[tuple[str, FindingView]]:
    """identified_findings as it was before issue 13's SARIF round: repeats counted by id."""
    seen: dict[str, int] = {}
    head = "\x1f".join(("cis-aws-1.11", account.partition, account.account_id, ""))
    result = []
    for finding in finding_views(account):
        if finding.key_slot is None:
            subject = "user"
        else:
            subject = f"key{finding.key_slot}@{finding.key_created_utc or '?'}"
        material = head + (finding.arn or finding.user) + "\x1f" + subject
        base = "initkeys-1.11-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]
        count = seen.get(base, 0) + 1
        seen[base] = count
        result.append((base if count == 1 else f"{base}-{count}", finding))
    return result


_KEY_TIMES = (None, datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, 0, 0, 1, tzinfo=UTC))


@st.composite
def _finding(draw: st.DrawFn) -> Finding:
    user = draw(st.sampled_from(["a", "b", "c\x1fkey1@?", ""]))
    slot = draw(st.sampled_from([None, 1, 2]))
    return Finding(
        user=user,
        arn=draw(st.sampled_from(["", f"arn:aws:iam::1:user/{user}"])),
        status=draw(st.sampled_from(list(Status))),
        reason=Reason.INVALID_ROW,
        message="m",
        key_slot=slot,
        key_created=None if slot is None else draw(st.sampled_from(_KEY_TIMES)),
    )


def _fail(user: str, slot: int | None = None) -> Finding:
    return Finding(user, "", Status.FAIL, Reason.INVALID_ROW, "m", key_slot=slot)


# A user twice in a row, another, then the first a third time: its third id is -3.
@example([_fail("a"), _fail("a"), _fail("b"), _fail("a"), _fail("b", 1), _fail("b")], True)
@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(_finding(), max_size=12), st.booleans())
def test_ids_and_repeats_are_the_reference(findings: list[Finding], listed: bool) -> None:
    """Repeated rows, adjacent or coming back later, users whose names hold the
    separator, with and without ``listed``: the ids of the recipe that counted ids."""
    tried("finding-ids-repeats")
    account = AccountAudit("123456789012", "aws", "report.csv", None, tuple(findings))
    want = _reference_ids(account)
    if listed:
        shown = (Status.FAIL, Status.WARNING, Status.ERROR)
        want = [(i, f) for i, f in want if f.status in shown]
        assert list(identified_findings(account, shown)) == want
    else:
        assert list(identified_findings(account)) == want


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
def test_json_batches_are_one_document(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON report's findings written a batch at a time: the same bytes for any
    batch size, a last batch full or partial (the default holds these runs whole)."""
    import io

    from initkeys.formats import json_format

    run = hostile_run()
    whole = io.StringIO()
    json_format.JsonFormatter().render(run, whole, tool_version="0")
    monkeypatch.setattr(json_format, "_BATCH", batch)
    batched = io.StringIO()
    json_format.JsonFormatter().render(run, batched, tool_version="0")
    assert batched.getvalue() == whole.getvalue()
    assert sum(len(a.findings) for a in run.accounts) > 5
