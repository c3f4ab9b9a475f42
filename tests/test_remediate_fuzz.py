"""Fuzzing remediation's two inputs from outside: approved audit reports and journals.

Both start from real output (tests/data/hostile/remediate/seed-*) and mutate it the
way an editor, an attacker or a bad disk would: fields deleted, types changed,
numbers pushed to extremes, verdicts and phases edited, lines dropped, repeated,
swapped or torn. The properties:

- approved-audit-json: the report is refused with one InputError (exit 2), or every
  action its plan takes is one the real evaluator gives from the finding's own dates
  (FAIL for deactivate; FAIL or setup-key-inactive for delete); through the CLI
  (a dry run against the emulator) exit 0/1/2 with one line, never 4, nothing changed;
- journal: read_journal/plan_rollback end in an InputError or a plan that reactivates
  only keys the journal says were Active before a planned deactivation; a writer
  opening the file either refuses it (bytes unchanged) or only cuts a torn tail.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from fuzz_kit import assert_clean_end, run_main, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remediation_kit import snapshot

from initkeys.errors import InputError
from initkeys.model import AccessKey, IamUser, Mode, Reason, Status
from initkeys.remediate import plan_remediation, plan_rollback, read_audit_report, read_journal
from initkeys.remediate.journal import JournalWriter
from initkeys.remediate.plan import Action, judge_again

HOSTILE = Path(__file__).parent / "data" / "hostile" / "remediate"
SEED_REPORT = json.loads((HOSTILE / "seed-audit.json").read_text())
SEED_JOURNAL = [json.loads(x) for x in (HOSTILE / "seed-journal.jsonl").read_text().splitlines()]

EXTREMES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2,
    3,
    2**63,
    -(2**63),
    10**39,
    1e300,
    -1e-300,
    0.5,
    "",
    "x" * 300,
    "\x1b[31mred\x1b[0m",
    "\u202eevil",
    [],
    {},
    [[[[[]]]]],
    "2026-11-27T12:00:00Z",
    "2015-04-21T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "8999-12-31T23:59:59Z",
    "2023-04-01T14:00:00",
    "2023-04-01",
    "not a date",
    "Active",
    "Inactive",
    "FAIL",
    "WARNING",
    "PASS",
    "ERROR",
    "setup-key-unused",
    "setup-key-inactive",
    "unused-key",
    "setup",
    "cis",
    "123456789012",
    "210987654321",
    "deactivate",
    "delete",
    "reactivate",
    "planned",
    "applied",
    "already-done",
]
TEXT_EXTREMES = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "9" * 60,
    '"\\ud800"',
    "[" * 300 + "]" * 300,
]

values = st.sampled_from(EXTREMES)


def _containers(document: Any) -> list[Any]:
    """Every dict and list inside ``document`` (itself first)."""
    found = [document]
    stack = [document]
    while stack:
        value = stack.pop()
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            if isinstance(item, (dict, list)):
                found.append(item)
                stack.append(item)
    return found


@st.composite
def mutated(draw: st.DrawFn, seed: Any) -> Any:
    """``seed`` with a few fields deleted, replaced, or set to extremes."""
    document = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 4))):
        containers = [c for c in _containers(document) if c]
        if not containers:
            break
        target = draw(st.sampled_from(containers))
        if isinstance(target, dict):
            key = draw(st.sampled_from(sorted(target)))
            if draw(st.booleans()) and draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(values)
        else:
            index = draw(st.integers(0, len(target) - 1))
            choice = draw(st.integers(0, 2))
            if choice == 0:
                del target[index]
            elif choice == 1:
                target.append(copy.deepcopy(target[index]))
            else:
                target[index] = draw(values)
    return document


@st.composite
def verdict_edits(draw: st.DrawFn) -> Any:
    """A real report whose findings' verdicts and dates are edited (a forged approval)."""
    document = copy.deepcopy(SEED_REPORT)
    findings = document["accounts"][0]["findings"]
    for finding in draw(st.lists(st.sampled_from(findings), min_size=1, max_size=4)):
        finding["status"] = draw(st.sampled_from(["FAIL", "WARNING", "PASS", "ERROR"]))
        finding["reason"] = draw(st.sampled_from([r.value for r in Reason]))
        if draw(st.booleans()):
            field = draw(st.sampled_from(["user_created", "key_created", "last_used", "active"]))
            finding[field] = draw(values)
    if draw(st.booleans()):
        document["mode"] = draw(st.sampled_from(["setup", "cis"]))
    if draw(st.booleans()):
        document["setup_window_seconds"] = draw(
            st.sampled_from([1, 60, 600, 86400 * 30, 86400 * 30 + 1, 0, -1, 1e300])
        )
    return document


def report_text(document: Any, raw: str | None) -> str:
    text = json.dumps(document)
    if raw is not None:
        # Text no json.dumps writes: non-finite numbers, huge numbers, deep nesting.
        text = text.replace('"setup_window_seconds": ', f'"setup_window_seconds": {raw}, "x": ', 1)
    return text


def check_report(path: str, delete: bool) -> None:
    """The property of an approved report read back and planned (pure, no AWS)."""
    try:
        report = read_audit_report(path)
    except InputError as e:
        assert "\n" not in str(e)
        return
    for audit in report.accounts:
        if audit.error is not None:
            continue
        findings = {id(f): f for f in audit.findings}
        planned = plan_remediation(
            audit.findings, mode=report.mode, delete=delete, setup_window=report.setup_window
        )
        for p in planned:
            if not p.acts:
                continue
            (finding,) = [f for f in findings.values() if f.access_key_id == p.access_key_id][:1]
            assert finding.user_created is not None and finding.key_created is not None
            assert finding.active is not None
            judged = judge_again(
                IamUser(finding.user, finding.arn, finding.user_created, True),
                AccessKey(
                    finding.key_slot or 1, finding.key_created, finding.active, finding.last_used
                ),
                report.mode,
                report.setup_window,
            )
            assert (judged.status, judged.reason) == (finding.status, finding.reason)
            if p.action is Action.DEACTIVATE:
                assert judged.status is Status.FAIL
            else:
                assert p.action is Action.DELETE
                assert judged.status is Status.FAIL or judged.reason is Reason.SETUP_KEY_INACTIVE
            assert p.mode is report.mode and p.setup_window == report.setup_window
            assert finding.exemption is None
        assert report.mode in (Mode.SETUP, Mode.CIS)


@settings(max_examples=250, deadline=None, derandomize=True)
@given(
    document=st.one_of(mutated(SEED_REPORT), verdict_edits()),
    raw=st.one_of(st.none(), st.sampled_from(TEXT_EXTREMES)),
    delete=st.booleans(),
)
def test_fuzz_approved_audit_json(document: Any, raw: str | None, delete: bool) -> None:
    tried("approved-audit-json")
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "audit.json")
        Path(path).write_text(report_text(document, raw), encoding="utf-8", errors="surrogatepass")
        check_report(path, delete)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(document=verdict_edits(), raw=st.one_of(st.none(), st.sampled_from(TEXT_EXTREMES)))
def test_fuzz_approved_audit_json_through_the_cli(
    aws: Any, tmp_path: Path, document: Any, raw: str | None
) -> None:
    """A dry run against the emulator (whose account the seed is about): one clean end."""
    tried("approved-audit-json")
    path = tmp_path / "audit.json"
    path.write_text(report_text(document, raw), encoding="utf-8", errors="surrogatepass")
    before = snapshot(aws)
    code, out, err = run_main(
        ["remediate", "--endpoint-url", aws.endpoint_url, "--from-audit", str(path)]
    )
    assert_clean_end(code, err)
    if code == 1:  # a dry run fails only when the report asks for what initkeys refuses
        assert "refused: " in out, out
    assert snapshot(aws) == before


# -- journals ---------------------------------------------------------------------------------


@st.composite
def journal_bytes(draw: st.DrawFn) -> bytes:
    lines = copy.deepcopy(SEED_JOURNAL)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.integers(0, 5))
        index = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if not lines:
            break
        if op == 0:
            del lines[index]
        elif op == 1:
            lines.insert(draw(st.integers(0, len(lines))), copy.deepcopy(lines[index]))
        elif op == 2:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif op == 3:
            state = draw(st.sampled_from(["before", "after"]))
            if isinstance(lines[index].get(state), dict):
                lines[index][state]["status"] = draw(st.sampled_from(["Active", "Inactive"]))
        elif op == 4:
            lines[index]["phase"] = draw(
                st.sampled_from(["planned", "applied", "already-done", "skipped", "failed"])
            )
        else:
            lines[index] = draw(mutated(lines[index]))
    data = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8", "surrogatepass")
    ending = draw(st.integers(0, 3))
    if ending == 1 and data:
        data = data[: draw(st.integers(0, len(data)))]  # torn anywhere
    elif ending == 2:
        data += draw(st.sampled_from([b'{"time": "2026', b"notes", b"\n", b"\xff", b"NaN\n"]))
    elif ending == 3:
        data += draw(st.sampled_from(TEXT_EXTREMES)).encode() + b"\n"
    return data


def check_rollback(path: str) -> None:
    try:
        entries = read_journal(path)
        plan = plan_rollback(entries)
    except InputError as e:
        assert "\n" not in str(e)
        return
    for action in plan.reactivate:
        assert action.action is Action.REACTIVATE
        # The journal says the key was Active before a deactivation initkeys planned.
        assert any(
            e.access_key_id == action.access_key_id
            and e.action is Action.DEACTIVATE
            and e.phase.value == "planned"
            and e.before is not None
            and e.before.status == "Active"
            and e.before.create_date == action.key_created
            for e in entries
        ), action


def check_writer(path: str, data: bytes) -> None:
    """A writer refuses the file (unchanged) or changes at most its torn tail."""
    try:
        writer = JournalWriter(path)
    except InputError:
        assert Path(path).read_bytes() == data
        return
    writer.close()
    after = Path(path).read_bytes()
    if after == data or after == data + b"\n":
        return
    # Cut back to the end of the last whole line, and only a torn journal line.
    assert data.startswith(after) and (after == b"" or after.endswith(b"\n")), after[-80:]
    assert data[len(after) :].startswith(b'{"time": "'), data[len(after) :][:40]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=journal_bytes())
def test_fuzz_journal(data: bytes) -> None:
    tried("journal")
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "j.jsonl")
        Path(path).write_bytes(data)
        os.chmod(path, 0o600)
        check_rollback(path)
        check_writer(path, data)
