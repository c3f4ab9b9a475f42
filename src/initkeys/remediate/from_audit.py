"""Read back a report that ``initkeys audit --format json`` wrote (schema_version 1).

Remediating from a saved report lets a change be reviewed and approved before it
is applied: only the keys in the report are candidates, judged by the report's
own status, reason and exemption. The report is input initkeys did not write
(it may have been edited on its way to approval): every field is checked, and
its verdicts can only narrow what is done, never widen it. Each verdict that
asks for an action is judged again from the finding's own dates, and the live
key is judged again right before the action (see :mod:`initkeys.remediate.plan`
and :mod:`initkeys.remediate.execute`).
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from initkeys.durations import MAX_SETUP_WINDOW, check_setup_window
from initkeys.errors import InputError
from initkeys.inputs import BadJson, load_json, read_text
from initkeys.model import AccountAudit, Exemption, Finding, Mode, Reason, Status
from initkeys.remediate.journal import shown
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
    """A field that is missing or has the wrong type; becomes one InputError."""


def read_audit_report(path: str) -> AuditReport:
    """Parse an audit JSON file (``-`` is stdin); InputError for anything else."""
    text = read_text(path, "audit report") if path == "-" else _read_file(path)
    try:
        document = load_json(text)
    except BadJson as e:
        raise InputError(f"{path}: not an initkeys JSON audit report: {e}") from None
    try:
        return _report(path, document)
    except (_Bad, ValueError, TypeError) as e:
        raise InputError(f"{path}: not an initkeys JSON audit report: {e}") from None


MAX_REPORT_BYTES = 256 * 1024 * 1024
"""Far beyond the report of any real organization; a larger file is not read."""


def _read_file(path: str) -> str:
    """The report's text; a FIFO, device or directory is refused without blocking on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"{path}: no such audit report") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the audit report: {e.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(f"{path}: the audit report is not a regular file")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_REPORT_BYTES:
                raise InputError(f"{path}: too large for an audit report")
    except OSError as e:
        raise InputError(f"{path}: cannot read the audit report: {e.strerror}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: cannot read the audit report: {e}") from None


def _report(path: str, document: Any) -> AuditReport:
    if not isinstance(document, dict):
        raise _Bad("the top level is not an object")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        if "schema_version" in document:
            raise _Bad(
                f"schema_version {repr(version)[:40]} is not supported (this initkeys reads 1)"
            )
        raise _Bad("schema_version is missing (write it with 'initkeys audit --format json')")
    mode_text = _get(document, "mode", str)
    try:
        mode = Mode(mode_text)
    except ValueError:
        raise _Bad(f"unknown mode {mode_text[:40]!r}") from None
    accounts = _get(document, "accounts", list)
    return AuditReport(
        path=path,
        mode=mode,
        setup_window=_window(_get(document, "setup_window_seconds", (int, float))),
        generated_at=_time(document, "generated_at"),
        accounts=tuple(_account(a, i) for i, a in enumerate(accounts)),
    )


def _account(document: Any, index: int) -> AccountAudit:
    where = f"accounts[{index}]"
    if not isinstance(document, dict):
        raise _Bad(f"{where} is not an object")
    try:
        findings = _get(document, "findings", list)
        return AccountAudit(
            account_id=_get(document, "account_id", str),
            partition=_get(document, "partition", str),
            source=_get(document, "source", str),
            report_generated_at=_time(document, "report_generated_at"),
            error=_optional(document, "error", str),
            findings=tuple(_finding(f, i) for i, f in enumerate(findings)),
        )
    except _Bad as e:
        raise _Bad(f"{where}: {e}") from None


def _finding(document: Any, index: int) -> Finding:
    where = f"findings[{index}]"
    if not isinstance(document, dict):
        raise _Bad(f"{where} is not an object")
    try:
        status_text = _get(document, "status", str)
        reason_text = _get(document, "reason", str)
        try:
            status = Status(status_text)
        except ValueError:
            raise _Bad(f"unknown status {status_text[:40]!r}") from None
        try:
            reason = Reason(reason_text)
        except ValueError:
            # A reason this version does not know cannot be matched to the table.
            raise _Bad(
                f"unknown reason {reason_text[:40]!r} (the report is from a newer initkeys?)"
            ) from None
        slot = _optional(document, "key_slot", int)
        if slot is not None and not 1 <= slot <= 2:
            raise _Bad(f"key_slot {slot} is not 1 or 2")
        return Finding(
            user=_get(document, "user", str),
            arn=_get(document, "arn", str),
            status=status,
            reason=reason,
            message=_optional(document, "message", str) or "",
            key_slot=slot,
            access_key_id=_optional(document, "access_key_id", str),
            active=_optional(document, "active", bool),
            user_created=_time(document, "user_created"),
            key_created=_time(document, "key_created"),
            last_used=_time(document, "last_used"),
            password_created=_time(document, "password_created"),
            exemption=_exemption(document.get("exemption")),
        )
    except _Bad as e:
        raise _Bad(f"{where}: {e}") from None


def _exemption(value: Any) -> Exemption | None:
    """The report's exemption, if any. Any non-empty value counts: being wrong
    in that direction leaves a key alone, never removes one."""
    if value is None or value is False or value == "" or value == {}:
        return None
    if not isinstance(value, dict):
        return Exemption(reason=str(value), source="report")
    expires: date | None = None
    if isinstance(value.get("expires"), str):
        try:
            expires = date.fromisoformat(value["expires"][:10])
        except ValueError:
            expires = None
    return Exemption(
        reason=str(value.get("reason") or "exempt"),
        source=str(value.get("source") or "report"),
        expires=expires,
        pattern=value.get("pattern") if isinstance(value.get("pattern"), str) else None,
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


def _get(document: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in document:
        raise _Bad(f"{name} is missing")
    value = document[name]
    # bool is an int in Python, but not a number (or a slot) in JSON.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Bad(f"{name} has the wrong type ({type(value).__name__})")
    return value


def _optional(document: dict[str, Any], name: str, kind: type) -> Any:
    if document.get(name) is None:
        return None
    return _get(document, name, kind)


def _time(document: dict[str, Any], name: str) -> datetime | None:
    text = _optional(document, name, str)
    if text is None:
        return None
    moment = parse_utc(text)
    if moment is None:
        raise _Bad(f"{name} is not a timestamp: {text[:40]!r}")
    return moment
