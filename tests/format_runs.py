"""Audit runs for the format tests: hostile names, exemptions, ERROR findings, many rows.

The ordinary run (a parsed credential report plus an account that could not be
audited) is ``test_formats._run``; these add what it lacks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from test_formats import ACCOUNT, GENERATED

from initkeys.model import (
    AccountAudit,
    AuditRun,
    Exemption,
    Finding,
    Reason,
    Settings,
    Status,
)

UTC = timezone.utc
CREATED = datetime(2022, 1, 1, tzinfo=UTC)

# User names as a crafted credential report could carry them: markup for every
# format, line breaks, control characters XML 1.0 cannot hold, a bidi override.
HOSTILE_NAMES = (
    "eve<b>&amp;\"'</b>",
    "pipe|break\nrow\r\n| x | y |",
    "`tick``s` [link](https://evil.example) ![img](x) <script>alert(1)</script>",
    "nul\x00esc\x1b[31mbell\x07\u202eform\x0cfeed",
    "www.evil.example @everyone *bold* _it_ ~~s~~ # h",
)


def key_finding(
    user: str,
    status: Status,
    reason: Reason,
    *,
    slot: int = 1,
    exemption: Exemption | None = None,
    gap: timedelta = timedelta(seconds=30),
    last_used: datetime | None = None,
) -> Finding:
    return Finding(
        user=user,
        arn=f"arn:aws:iam::{ACCOUNT}:user/{user}",
        status=status,
        reason=reason,
        message=f"Key {slot} of {user}: {reason.value}.",
        key_slot=slot,
        active=True,
        user_created=CREATED,
        key_created=CREATED + gap,
        last_used=last_used,
        password_created=CREATED,
        exemption=exemption,
    )


EXEMPTION = Exemption(
    reason="break-glass <admin> | approved `CISO`",
    source="config:initkeys.toml",
    expires=date(2027, 1, 31),
    pattern="ops-*",
)


def hostile_run(fail_on: Status = Status.FAIL) -> AuditRun:
    """Every listed status, an exempt FAIL, hostile names, and a hostile failed account."""
    findings = [
        key_finding(name, Status.FAIL, Reason.SETUP_KEY_UNUSED, slot=1 + i % 2)
        for i, name in enumerate(HOSTILE_NAMES)
    ]
    findings += [
        key_finding("ops-admin", Status.FAIL, Reason.SETUP_KEY_UNUSED, exemption=EXEMPTION),
        key_finding("wanda", Status.WARNING, Reason.UNUSED_KEY, gap=timedelta(days=3)),
        key_finding("paul", Status.PASS, Reason.KEY_USED, last_used=CREATED + timedelta(days=9)),
        Finding(
            user="bro<ken>|",
            arn="",
            status=Status.ERROR,
            reason=Reason.INVALID_ROW,
            message="row 9 could not be read: bad timestamp '<now>|\n'",
        ),
        Finding(
            user="svc",
            arn=f"arn:aws:iam::{ACCOUNT}:user/svc",
            status=Status.NOT_APPLICABLE,
            reason=Reason.NO_CONSOLE_PASSWORD,
            message="svc has no console password.",
        ),
    ]
    ok = AccountAudit(
        ACCOUNT,
        "aws",
        "client report <v2>.csv",
        GENERATED - timedelta(hours=1),
        findings=tuple(findings),
        account_name='prod & "main"',
    )
    failed = AccountAudit(
        "210987654321",
        "aws",
        "aws",
        None,
        error="AccessDenied <b>|</b>\nnext line \x1b[2J",
    )
    return AuditRun(
        settings=Settings(fail_on=fail_on),
        generated_at=GENERATED,
        accounts=(ok, failed),
    )


def many_fails(count: int) -> AuditRun:
    """One account with ``count`` FAIL keys (and as many PASS ones)."""
    findings = []
    for i in range(count):
        findings.append(key_finding(f"user{i:05d}", Status.FAIL, Reason.SETUP_KEY_UNUSED))
        findings.append(
            key_finding(f"user{i:05d}", Status.PASS, Reason.KEY_USED, slot=2, last_used=CREATED)
        )
    account = AccountAudit(ACCOUNT, "aws", "aws", None, findings=tuple(findings))
    return AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))


def one_finding(
    user: str,
    status: Status,
    message: str = "m",
    *,
    key_slot: int | None = None,
    source: str = "x.csv",
    account_name: str | None = None,
) -> AuditRun:
    """A run with one account of one finding (no ARN), for arbitrary text."""
    reason = {
        Status.FAIL: Reason.SETUP_KEY_UNUSED,
        Status.WARNING: Reason.UNUSED_KEY,
        Status.ERROR: Reason.INVALID_ROW,
    }[status]
    finding = Finding(user, "", status, reason, message, key_slot=key_slot)
    account = AccountAudit(
        ACCOUNT, "aws", source, None, findings=(finding,), account_name=account_name
    )
    return AuditRun(settings=Settings(), generated_at=GENERATED, accounts=(account,))


def empty_run() -> AuditRun:
    return AuditRun(settings=Settings(), generated_at=GENERATED)
