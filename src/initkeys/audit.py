"""Wire the stages for one account: sources → evaluate, with live re-reads.

The credential report can be up to 4 hours old, so a live audit judges the
report first and then re-reads, live, every user whose keys did not PASS and
every user the report does not know yet, and judges those again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from initkeys.aws import describe_access_error
from initkeys.evaluate import (
    audit_of,
    evaluate_parsed_users,
    judge_deleted_user,
    judge_unreadable_user,
    judge_user,
    search_ranges,
    with_evidence,
)
from initkeys.evaluate.light import ReportFindings, judge_records
from initkeys.model import AccountAudit, CredentialReport, Finding, IamUser, Settings, Status
from initkeys.sources.aws import ListedUser, LiveAccount
from initkeys.sources.credential_report import open_credential_report

if TYPE_CHECKING:
    from initkeys.sources.cloudtrail import TrailReader

    # The CloudTrail reader for an audited account (None: a report file's account).
    TrailFor = Callable[[LiveAccount | None], TrailReader]

# Statuses that do not need a fresher look.
_SETTLED = frozenset({Status.PASS, Status.NOT_APPLICABLE})


@dataclass(frozen=True)
class Progress:
    """What a live audit is doing, for a spinner or progress bar."""

    stage: str
    done: int = 0
    total: int = 0


ProgressCallback = Callable[[Progress], None]


def audit_report_file(
    path: str, settings: Settings | None = None, trail: TrailReader | None = None
) -> AccountAudit:
    """Audit a credential report file (CSV or the AWS CLI's JSON); ``-`` is stdin.

    Rows are judged as they are read, so only findings stay in memory; the result
    says how the file's lines were accounted for (``report_lines``). With
    ``trail``, keys that did not pass get CloudTrail evidence, matched by user and
    creation time (a report carries no key ids).
    """
    settings = settings or Settings()
    if trail is None and not settings.exemptions:
        from initkeys.split_report import judge_split

        # A big file: two processes (None: small, or anything the split does not handle).
        split = judge_split(os.fspath(path), settings)
        if split is not None:
            return audit_of(split[0].report(), ReportFindings(split[1]))
    with open_credential_report(path) as reader:
        findings: Sequence[Finding]
        if trail is None and not settings.exemptions:
            # The light path (evaluate.light): nothing to attach to a finding afterwards.
            findings = ReportFindings(judge_records(reader.records(), settings))
        else:
            findings = tuple(evaluate_parsed_users(reader.users(), settings))
        # The account, lines and notes are known once every row is read: after the findings.
        result = audit_of(reader.report(), findings)
    return result if trail is None else add_trail_evidence(result, trail, settings)


def add_trail_evidence(audit: AccountAudit, trail: TrailReader, settings: Settings) -> AccountAudit:
    """``audit`` with CloudTrail evidence on the keys that did not pass; CloudTrail is
    read only around those keys' creation, and not at all when there are none."""
    findings = tuple(audit.findings)
    ranges = search_ranges(findings, settings)
    if not ranges:
        return audit
    evidence = trail.read(audit.account_id, audit.partition, ranges)
    return replace(audit, findings=tuple(with_evidence(findings, evidence, settings)))


def audit_live_account(
    account: LiveAccount,
    *,
    settings: Settings,
    max_workers: int = 8,
    report_timeout: float = 300.0,
    progress: ProgressCallback | None = None,
    trail: TrailFor | None = None,
) -> AccountAudit:
    """Audit through an existing :class:`LiveAccount`; its identity is read once only."""
    notify = progress or (lambda _: None)
    notify(Progress("identity"))
    account.whoami()  # no call when the identity is known already
    notify(Progress("credential report"))
    report = account.credential_report(
        timeout=report_timeout, on_wait=lambda state: notify(Progress(f"credential report {state}"))
    )
    listed = account.list_users()
    result = refresh_live(account, report, listed, settings, max_workers, notify)
    if trail is None:
        return result
    notify(Progress("reading CloudTrail"))
    return add_trail_evidence(result, trail(account), settings)


def refresh_live(
    account: LiveAccount,
    report: CredentialReport,
    listed: dict[str, ListedUser],
    settings: Settings,
    max_workers: int,
    notify: ProgressCallback,
) -> AccountAudit:
    """Judge the report, re-read what did not PASS and what is new, judge again."""
    findings: dict[str, list[Finding]] = {}
    to_read: list[tuple[ListedUser, IamUser | None]] = []
    in_report: set[str] = set()
    for user in report.users:
        first = judge_user(user, settings)
        if user.is_root:  # known by its ARN: its name says nothing about IAM users
            findings[f"\0root:{user.arn}"] = first
            continue
        in_report.add(user.name)
        findings[user.name] = first
        now = listed.get(user.name)
        if now is None and user.problem is not None:
            continue  # an unreadable row naming no listed user stays ERROR: fail closed
        if now is None or not _same_user(user, now):
            findings[user.name] = [judge_deleted_user(user)]
            if now is not None:  # deleted and re-created under the same name
                in_report.discard(user.name)
            continue
        if any(f.status not in _SETTLED for f in first):
            to_read.append((now, user))
    for name, now in listed.items():
        if name not in in_report:
            to_read.append((now, None))

    total = len(to_read)
    notify(Progress("re-reading users live", 0, total))

    def read(item: tuple[ListedUser, IamUser | None]) -> tuple[str, list[Finding]]:
        now, known = item
        try:
            fresh = account.read_user(now, known)
        except Exception as exc:  # one user's failure must not abort the account
            return now.name, [_read_failed(now, exc)]
        if fresh is None:
            return now.name, [judge_deleted_user(known or _placeholder(now))]
        return now.name, judge_user(fresh, settings)

    done = 0
    extra: dict[str, list[Finding]] = {}
    if to_read:
        with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
            for name, fresh_findings in pool.map(read, to_read):
                if name in findings and name in in_report:
                    findings[name] = fresh_findings
                else:
                    extra[name] = fresh_findings
                done += 1
                notify(Progress("re-reading users live", done, total))

    ordered = [finding for group in findings.values() for finding in group]
    for name in sorted(extra):  # users the report did not know yet, by name
        ordered.extend(extra[name])
    # Re-read users are not report lines, and a live report is never redacted.
    return audit_of(replace(report, lines=None, notes=()), ordered)


def _same_user(user: IamUser, listed: ListedUser) -> bool:
    """Same name and creation time: a re-created user is a different user."""
    if user.created is None:
        return True  # unreadable row: the live read decides
    return abs(user.created - listed.created) <= timedelta(seconds=1)


def _placeholder(listed: ListedUser) -> IamUser:
    return IamUser(name=listed.name, arn=listed.arn, created=listed.created, console_password=False)


def _read_failed(listed: ListedUser, exc: BaseException) -> Finding:
    user = _placeholder(listed)
    return judge_unreadable_user(user, describe_access_error(exc, "reading the user"))
