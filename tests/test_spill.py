"""Findings spilled to disk read back the same, and every format renders them the same."""

from __future__ import annotations

import io
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from test_formats import _run

from initkeys.formats import FORMAT_NAMES, get_formatter
from initkeys.model import AuditRun, Exemption, Settings, Status, count_statuses
from initkeys.spill import FindingSpill


def _render(name: str, run: AuditRun) -> str:
    out = io.StringIO()
    get_formatter(name).render(run, out)
    return out.getvalue()


def test_spilled_findings_read_back_in_order_any_number_of_times() -> None:
    findings = tuple(_run().accounts[0].findings) * 700  # several chunks
    with FindingSpill() as spill:
        kept = spill.keep(findings)
        assert len(kept) == len(findings)
        assert tuple(kept) == findings
        assert list(kept) == list(findings)  # a second pass
        assert kept[0] == findings[0] and kept[-1] == findings[-1]
        assert kept[1500] == findings[1500]
        assert tuple(kept[3:6]) == findings[3:6]
        with pytest.raises(IndexError):
            kept[len(findings)]
        assert count_statuses(kept) == count_statuses(findings)


def test_an_empty_account_spills_to_an_empty_sequence() -> None:
    with FindingSpill() as spill:
        kept = spill.keep(())
        assert len(kept) == 0 and list(kept) == []


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_renders_spilled_findings_as_it_renders_a_tuple(name: str) -> None:
    run = _run()
    with FindingSpill() as spill:
        spilled = replace(
            run, accounts=tuple(replace(a, findings=spill.keep(a.findings)) for a in run.accounts)
        )
        assert _render(name, spilled) == _render(name, run)
        assert spilled.counts() == run.counts()
        assert spilled.fails() == run.fails()
        assert [a.status for a in spilled.accounts] == [a.status for a in run.accounts]


def test_the_spill_is_private_and_removed_on_close(tmp_path: os.PathLike[str]) -> None:
    spill = FindingSpill(directory=str(tmp_path))
    with ThreadPoolExecutor(4) as pool:  # accounts finish on worker threads
        kept = list(pool.map(spill.keep, [_run().accounts[0].findings] * 8))
    (root,) = os.listdir(tmp_path)
    assert stat.S_IMODE(os.stat(os.path.join(tmp_path, root)).st_mode) == 0o700
    assert len(os.listdir(os.path.join(tmp_path, root))) == 8
    assert all(len(k) == len(kept[0]) for k in kept)
    spill.close()
    assert os.listdir(tmp_path) == []


def test_exempt_findings_do_not_fail_a_spilled_run() -> None:
    run = _run(with_error_account=False)
    exempt = Exemption(reason="break-glass", source="cli")
    account = run.accounts[0]
    only_fail_exempt = tuple(
        replace(f, exemption=exempt) if f.status is Status.FAIL else f
        for f in account.findings
        if f.status is not Status.ERROR
    )
    held = replace(run, accounts=(replace(account, findings=only_fail_exempt),))
    with FindingSpill() as spill:
        spilled = replace(held, accounts=(replace(account, findings=spill.keep(only_fail_exempt)),))
        assert held.fails() is False and spilled.fails() is False
        strict = Settings(fail_on=Status.WARNING)
        assert replace(spilled, settings=strict).fails() is True
        assert tuple(spilled.accounts[0].findings) == only_fail_exempt
