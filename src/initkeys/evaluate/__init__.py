"""The evaluate stage: records + settings → findings.

Pure: no I/O, no clock reads, no AWS. Everything the verdict depends on is in
the arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from initkeys.evaluate.evidence import needs_evidence, search_ranges, with_evidence
from initkeys.evaluate.light import ReportFindings
from initkeys.evaluate.verdicts import (
    is_setup_key,
    judge_deleted_user,
    judge_key,
    judge_unreadable_user,
    judge_user,
    judge_user_unchecked,
)
from initkeys.model import AccountAudit, CredentialReport, Finding, IamUser, Settings

__all__ = [
    "audit_of",
    "evaluate_parsed_users",
    "evaluate_report",
    "evaluate_users",
    "is_setup_key",
    "judge_deleted_user",
    "judge_key",
    "judge_unreadable_user",
    "judge_user",
    "needs_evidence",
    "search_ranges",
    "with_evidence",
]


def evaluate_users(users: Iterable[IamUser], settings: Settings) -> Iterator[Finding]:
    """Findings for every user, in input order; at least one per user."""
    for user in users:
        yield from judge_user(user, settings)


def evaluate_parsed_users(users: Iterable[IamUser], settings: Settings) -> Iterator[Finding]:
    """:func:`evaluate_users` for users a report reader made: their datetimes are aware UTC
    by construction, so the naive-datetime check (a guard for callers' own records) is
    left out; a million-row report pays for every call per row."""
    for user in users:
        yield from judge_user_unchecked(user, settings)


def evaluate_report(report: CredentialReport, settings: Settings) -> AccountAudit:
    """Judge a whole credential report."""
    return audit_of(report, evaluate_users(report.users, settings))


def audit_of(report: CredentialReport, findings: Iterable[Finding]) -> AccountAudit:
    """The audit of ``report``'s account: ``findings``, with what the report says of itself."""
    return AccountAudit(
        account_id=report.account_id,
        partition=report.partition,
        source=report.source,
        report_generated_at=report.generated_at,
        # A report file's light findings stay as they are (see evaluate.light).
        findings=findings if isinstance(findings, ReportFindings) else tuple(findings),
        report_lines=report.lines,
        notes=report.notes,
    )
