"""The defaults issue 13 chose from benchmarks/org_audit.py: 32 accounts at a time, at
most 128. They were 8 and 64: a changed contract, pinned here."""

from __future__ import annotations

import inspect

import click
from fuzz_kit import assert_clean_end, run_main

from initkeys.app.audit import ACCOUNT_WORKERS, MAX_ACCOUNT_WORKERS, LiveOptions, audit_accounts
from initkeys.cli import cli


def _option(name: str) -> click.Option:
    audit = cli.commands["audit"]  # type: ignore[attr-defined]
    (option,) = [p for p in audit.params if isinstance(p, click.Option) and name in p.opts]
    return option


def test_workers_default_is_32_and_the_cap_128() -> None:
    assert (ACCOUNT_WORKERS, MAX_ACCOUNT_WORKERS) == (32, 128)
    workers = _option("--workers")
    assert workers.default == 32
    assert isinstance(workers.type, click.IntRange) and workers.type.max == 128
    # The library's defaults are the CLI's.
    assert LiveOptions().workers == 32
    assert inspect.signature(audit_accounts).parameters["workers"].default == 32


def test_user_workers_keep_their_default() -> None:
    user_workers = _option("--user-workers")
    assert user_workers.default == 8
    assert isinstance(user_workers.type, click.IntRange) and user_workers.type.max == 64


def test_workers_past_the_cap_is_one_line_exit_2() -> None:
    code, out, err = run_main(["audit", "--org", "--workers", "129"])
    assert_clean_end(code, err)
    assert code == 2 and out == ""
    assert "129 is not in the range 1<=x<=128" in err
