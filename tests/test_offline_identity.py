"""Byte identity of every audit format on the offline benchmark's own report.

The offline path (report reader → evaluate → formats) is tuned for speed
(issue 13); this pins its output. The report is ``benchmarks/offline_report.py``'s
``write_report`` (3,000 rows, its fixed seed), the clock is fixed, and each
format's output, with the report's path and the tool version replaced by
placeholders, must hash to the digest in ``tests/data/offline/digests.json``,
made with the code before any optimisation. ``INITKEYS_REGOLD=1`` rewrites the
digests (only for a deliberate change of output, said so in the commit).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fuzz_kit import run_main

import initkeys.cli
from initkeys._version import __version__
from initkeys.formats import FORMAT_NAMES, file_name

ROOT = Path(__file__).resolve().parent.parent
DIGESTS = Path(__file__).resolve().parent / "data" / "offline" / "digests.json"
ROWS = 3_000
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)

sys.path.insert(0, str(ROOT / "benchmarks"))
from offline_report import write_report  # noqa: E402


class _FixedClock(datetime):
    """``datetime`` whose ``now`` is :data:`NOW`: the run's start, in the CLI."""

    @classmethod
    def now(cls, tz: object = None) -> _FixedClock:  # type: ignore[override]
        return cls.fromtimestamp(NOW.timestamp(), timezone.utc)


def _digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    report = tmp_path / "report.csv"
    write_report(str(report), ROWS)
    out_dir = tmp_path / "out"
    monkeypatch.setattr(initkeys.cli, "datetime", _FixedClock)
    code, _, err = run_main(
        [
            "audit",
            "--credential-report",
            str(report),
            "--format",
            ",".join(FORMAT_NAMES),
            "--output-dir",
            str(out_dir),
        ]
    )
    assert code == 1, err  # the report holds unused setup keys: FAIL
    result = {}
    for name in FORMAT_NAMES:
        data = (out_dir / file_name(name)).read_bytes()
        # The temporary path and the version are not the output's substance.
        data = data.replace(str(report).encode(), b"REPORT").replace(
            __version__.encode(), b"VERSION"
        )
        result[name] = hashlib.sha256(data).hexdigest()
    return result


def test_every_format_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    got = _digests(tmp_path, monkeypatch)
    if os.environ.get("INITKEYS_REGOLD") == "1":
        DIGESTS.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    want = json.loads(DIGESTS.read_text())
    assert sorted(want) == sorted(FORMAT_NAMES)
    changed = [name for name in FORMAT_NAMES if got[name] != want[name]]
    assert not changed, f"output changed for: {', '.join(changed)}"


def test_json_flat_finding_is_the_general_layout() -> None:
    """The JSON writer's fast path gives the bytes of the general one, hostile names too."""
    from format_runs import hostile_run

    from initkeys.formats.json_format import (
        _flat_object,
        _FlatFinding,
        _pad,
        finding_document,
    )

    flat = _FlatFinding(3)
    seen = 0
    for account in hostile_run().accounts:
        findings = list(account.findings)
        # Evidence, a key id and sub-second times, which the hostile run lacks.
        findings += [
            replace(
                f,
                access_key_id="AKIA%s\u202e",
                created_by='arn:aws:iam::1:user/"x"\x1b',
                created_via="console",
                created_from="198.51.100.7",
                evidence_note="no event <found> 100%",
                last_used=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone.utc),
            )
            for f in findings
        ]
        for finding in findings:
            if finding.exemption is None and finding.expired_exemption is None:
                general = _pad(3) + _flat_object(finding_document(finding, "id-1"), 3)
                assert flat("id-1", finding) == general
                seen += 1
    assert seen >= 10


@pytest.mark.parametrize(
    "text",
    [
        "1969-12-31T23:59:59+00:00",
        "1970-01-01T00:00:00+00:00",
        "2016-02-29T12:00:00+00:00",
        "8999-12-31T23:59:59+00:00",
        "9000-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+00:00",
        "197a-01-01T00:00:00+00:00",
        "2016-13-01T00:00:00+00:00",
        "2016-01-01T00:00:00+01:00",
        " 2016-01-01T00:00:00+00:0",
    ],
)
def test_fast_timestamp_is_parse_utc(text: str) -> None:
    """The reader's fast timestamp keeps the bounded parser's answer at its bounds."""
    from initkeys.sources.credential_report import _fast_timestamp
    from initkeys.timeutil import EARLIEST, LATEST, parse_utc

    assert (
        datetime(1970, 1, 1, tzinfo=timezone.utc),
        datetime(9000, 1, 1, tzinfo=timezone.utc),
    ) == (EARLIEST, LATEST)
    assert _fast_timestamp(text) == parse_utc(text)


def test_identified_findings_use_the_id_recipe() -> None:
    """identified_findings' inlined recipe gives finding_id's ids (first of each)."""
    from format_runs import hostile_run

    from initkeys.formats import finding_id, identified_findings

    for account in hostile_run().accounts:
        seen: set[str] = set()
        for given, finding in identified_findings(account):
            base = finding_id(account, finding)
            assert given == base if base not in seen else given.startswith(base + "-")
            seen.add(base)


def test_text_layout_lengths_are_the_cells() -> None:
    """The text table's widths come from lengths computed without the cells: the same."""
    from format_runs import hostile_run

    from initkeys.formats.text import _cells, _one_line_lengths

    findings = [f for a in hostile_run().accounts for f in a.findings]
    findings += [
        replace(
            f,
            created_by="arn:aws:iam::1:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/s",
            created_via="console",
            last_used=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone.utc),
            user_created=None,
        )
        for f in findings
    ]
    for f in findings:
        for trail in (False, True):
            want = [len(cell[0]) for cell in _cells(f, True, trail)]
            assert _one_line_lengths(f, trail) == want


# The text table laid out for a 100-column terminal (times split into date and time of
# day): not one of the digests' outputs, so pinned here, made with the code before the
# light findings of issue 13 (main 1bc60c1).
NARROW_TEXT_SHA256 = "98b71b828fa7b0030d3f3ca3517a1f1662123ba05cbbaecd5660108c279dda48"


def _narrow_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    import io

    import initkeys.formats.text as text_format
    from initkeys.audit import audit_report_file
    from initkeys.model import AuditRun, Settings

    report = tmp_path / "report.csv"
    write_report(str(report), ROWS)
    monkeypatch.setattr(text_format, "DEFAULT_WIDTH", 100)
    run = AuditRun(Settings(), NOW, (audit_report_file(str(report), Settings()),))
    out = io.StringIO()
    text_format.TextFormatter().render(run, out, tool_version="VERSION")
    return out.getvalue().encode()


def test_narrow_text_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = hashlib.sha256(_narrow_text(tmp_path, monkeypatch)).hexdigest()
    assert digest == NARROW_TEXT_SHA256
