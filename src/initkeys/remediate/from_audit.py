"""Read back a report that ``initkeys audit --format json`` wrote (schema_version 1).

Remediating from a saved report lets a change be reviewed and approved before it
is applied: only the keys in the report are candidates, judged by the report's
own status, reason and exemption. The report is input initkeys did not write
(it may have been edited on its way to approval): it is validated with the
report's JSON Schema (:mod:`initkeys.schema`) before a field is read, and its
verdicts can only narrow what is done, never widen it. Each verdict that asks
for an action is judged again from the finding's own dates, and the live key is
judged again right before the action (see :mod:`initkeys.remediate.plan` and
:mod:`initkeys.remediate.execute`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from initkeys.durations import MAX_SETUP_WINDOW, check_setup_window
from initkeys.errors import InputError
from initkeys.humanize import shown
from initkeys.inputs import BadJson, load_json, read_text
from initkeys.model import AccountAudit, Exemption, Finding, Mode, Reason, Status
from initkeys.schema import validate
from initkeys.timeutil import parse_utc

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AuditReport:
    """The parts of a saved audit that remediation needs."""

    path: str
    mode: Mode
    setup_window: timedelta
    generated_at: datetime | None
    accounts: tuple[AccountAudit, ...]

    def account(self, account_id: str) -> AccountAudit:
        """The report's findings about ``account_id``; InputError when it has none."""
        for audit in self.accounts:
            if audit.account_id == account_id:
                if audit.error is not None:
                    raise InputError(
                        f"{self.path}: account {account_id} could not be audited "
                        f"({shown(audit.error)}); audit it again"
                    )
                return audit
        ids = sorted({shown(a.account_id) for a in self.accounts})
        about = ", ".join(ids[:5] + (["..."] if len(ids) > 5 else [])) or "no account"
        raise InputError(
            f"{self.path} is about {about}, but the credentials sign in to account "
            f"{account_id}; use the credentials of the audited account"
        )


class _Bad(ValueError):
    """A report that is not one this version reads; becomes one InputError."""


def read_audit_report(path: str) -> AuditReport:
    """Parse an audit JSON file (``-`` is stdin); InputError for anything else."""
    # A FIFO, device or directory is refused without blocking on it ('-' is stdin).
    text = read_text(path, "audit report", limit=MAX_REPORT_BYTES, regular_only=True)
    try:
        document = load_json(text)
    except BadJson as e:
        raise InputError(f"{path}: not an initkeys JSON audit report: {e}") from None
    try:
        return _report(path, document)
    except ValueError as e:  # _Bad, or the schema's SchemaError
        raise InputError(f"{path}: not an initkeys JSON audit report: {e}") from None


MAX_REPORT_BYTES = 256 * 1024 * 1024
"""Far beyond the report of any real organization; a larger file is not read."""


def _report(path: str, document: Any) -> AuditReport:
    if not isinstance(document, dict):
        raise _Bad("the top level is not an object")
    # The version says which schema applies, so it is checked before the schema.
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        if "schema_version" in document:
            raise _Bad(
                f"schema_version {repr(version)[:40]} is not supported (this initkeys reads 1)"
            )
        raise _Bad("schema_version is missing (write it with 'initkeys audit --format json')")
    # Every type, enum and timestamp below is guaranteed by the schema
    # (initkeys/schemas/report-v1.json); what is left here is about meaning.
    validate(document)
    return AuditReport(
        path=path,
        mode=Mode(document["mode"]),
        setup_window=_window(document["setup_window_seconds"]),
        generated_at=_time(document.get("generated_at")),
        accounts=tuple(_account(a) for a in document["accounts"]),
    )


def _account(document: dict[str, Any]) -> AccountAudit:
    return AccountAudit(
        account_id=document["account_id"],
        partition=document["partition"],
        source=document["source"],
        report_generated_at=_time(document.get("report_generated_at")),
        error=document.get("error"),
        findings=tuple(_finding(f) for f in document["findings"]),
    )


def _finding(document: dict[str, Any]) -> Finding:
    slot = document.get("key_slot")
    return Finding(
        user=document["user"],
        arn=document["arn"],
        status=Status(document["status"]),
        reason=Reason(document["reason"]),
        message=document.get("message") or "",
        # The schema's integer admits 1.0; a slot is an int.
        key_slot=int(slot) if slot is not None else None,
        access_key_id=document.get("access_key_id"),
        active=document.get("active"),
        user_created=_time(document.get("user_created")),
        key_created=_time(document.get("key_created")),
        last_used=_time(document.get("last_used")),
        password_created=_time(document.get("password_created")),
        exemption=_exemption(document.get("exemption")),
    )


def _exemption(value: dict[str, Any] | None) -> Exemption | None:
    """The report's exemption, if any. Any non-empty one counts: being wrong in
    that direction leaves a key alone, never removes one."""
    if not value:
        return None
    expires: date | None = None
    if isinstance(value.get("expires"), str):
        try:
            expires = date.fromisoformat(value["expires"][:10])
        except ValueError:
            expires = None
    return Exemption(
        reason=value.get("reason") or "exempt",
        source=value.get("source") or "report",
        expires=expires,
        pattern=value.get("pattern"),
    )


def _window(seconds: float) -> timedelta:
    """The report's setup window: finite, more than 0 s, at most 30 days."""
    # Bounded before timedelta() sees it: 1e300 seconds overflows it.
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_SETUP_WINDOW.total_seconds():
        raise _Bad(
            f"setup_window_seconds {str(seconds)[:30]} is not more than 0 and at most "
            f"{MAX_SETUP_WINDOW.total_seconds():.0f} (30 days)"
        )
    return check_setup_window(timedelta(seconds=seconds))


def _time(text: str | None) -> datetime | None:
    # The schema's date-time is parse_utc's: a string here always parses.
    return None if text is None else parse_utc(text)
