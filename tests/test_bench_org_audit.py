"""benchmarks/org_audit.py's bookkeeping (no emulator): a table row read back, a
background run's log turned into rows, and the 10,000-account model's floor."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from counting_proxy import Realism
from org_audit import OLD_POLLING, POLLING, Run, from_log, model_lines, parse_row

_NEW = Run(1000, 32, 240.5, 96.0, 13400, 7, 1001, 0, 44.7, POLLING, (("iam:principal", 7),))


def test_a_row_reads_back_as_it_was_written() -> None:
    again = parse_row(_NEW.row())
    assert again is not None
    assert again.row() == _NEW.row()


def test_older_rows_say_the_polling_they_measured() -> None:
    seven = parse_row("| 100 | 8 | 94.6 | 0.946 | 18.0 | 0 (yes) | 71 |")
    eight = parse_row("| 1,000 | 64 | 158.4 | 0.158 | 13.4 | 1 (yes) | 126 | 197.1 |")
    assert seven is not None and eight is not None
    assert (seven.accounts, seven.workers, seven.polling, seven.wall) == (100, 8, OLD_POLLING, 94.6)
    assert (eight.accounts, eight.throttled, eight.upstream_ms) == (1000, 1, 197.1)
    assert parse_row("|---:|---:|") is None


def test_a_logged_run_becomes_rows() -> None:
    log = (
        "accounts: 1000 x 5 users (seeded in 495 s)\n"
        "  --workers 8: 900.1 s; 13500 calls (13.5 per account); throttled 0 (all retried: "
        "True); accounts audited 1001, in error 0; CLI peak RSS 70 MiB; emulator answers in "
        "12.0 ms on average\n"
        f"  --workers 64: report polling {POLLING}; 150.0 s; 12000 calls (12.0 per account); "
        "throttled 12: iam:principal 10, sts:principal 2 (yes) (all retried: True); accounts "
        "audited 1001, in error 0; CLI peak RSS 120 MiB; emulator answers in 200.0 ms on average\n"
    )
    old, new = from_log(log, [1000], OLD_POLLING)
    assert (old.workers, old.polling, old.wall, old.calls, old.throttled) == (
        8,
        OLD_POLLING,
        900.1,
        13500,
        0,
    )
    assert (new.polling, new.throttled_by) == (
        POLLING,
        (("iam:principal", 10), ("sts:principal", 2)),
    )


def test_the_model_never_goes_under_the_sts_floor() -> None:
    fast = Run(1000, 64, 10.0, 100.0, 13000, 0, 1001, 0, 5.0)
    text = "\n".join(model_lines([fast], Realism()))
    # 10,000 AssumeRole by one principal at 20/s: 500 s, however many workers.
    assert "| time at 256 workers (2 processes, accounts split) | 500 s |" in text
    assert (
        "| floor set by STS: 10,000 AssumeRole at 20/s per principal (modelled) | 500 s |" in text
    )
