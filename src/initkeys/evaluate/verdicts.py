"""The verdict table of ``docs/verdicts.md``, as code.

First matching row wins:

1. row unreadable                                   ERROR            invalid-row
2. used, created inside the window                  PASS             setup-key-used
3. used                                             PASS             key-used
4. never used, created before tracking start        WARNING | cis: FAIL if active else PASS
5. never used, setup key, active                    FAIL             setup-key-unused
6. never used, setup key, inactive                  WARNING | cis: PASS
7. never used, outside window, active               WARNING | cis: FAIL
8. never used, outside window, inactive             PASS             inactive-unused-key
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from initkeys.evaluate.names import name_glob
from initkeys.humanize import describe_gap
from initkeys.model import (
    CLOCK_SKEW,
    TRACKING_START,
    AccessKey,
    Exemption,
    Finding,
    IamUser,
    Mode,
    Reason,
    Settings,
    Status,
)
from initkeys.timeutil import require_aware


def is_setup_key(user_created: datetime, key_created: datetime, window: timedelta) -> bool:
    """True when the key was made with the user: -60 s <= gap <= window, inclusive."""
    if user_created.tzinfo is None or key_created.tzinfo is None:
        require_aware(user_created, "user_created")
        require_aware(key_created, "key_created")
    return _is_setup_key(user_created, key_created, window)


def _is_setup_key(user_created: datetime, key_created: datetime, window: timedelta) -> bool:
    gap = key_created - user_created
    return -CLOCK_SKEW <= gap <= window


def judge_user(user: IamUser, settings: Settings) -> list[Finding]:
    """All findings for one user: one per key of a console user, else one for the user.

    Exemptions (the user's ``initkeys:exempt`` tag, then the rules in
    ``settings``) are attached to every finding of the user they match. A naive
    datetime anywhere in ``user`` is a TypeError.
    """
    _require_aware_user(user)
    return judge_user_unchecked(user, settings)


def judge_user_unchecked(user: IamUser, settings: Settings) -> list[Finding]:
    """:func:`judge_user` for a user whose datetimes are known to be aware (a report
    reader's): the same findings, without the check."""
    findings = _judge_user(user, settings)
    if user.exempt_tag is None and not settings.exemptions:
        return findings
    tag = None if user.is_root else user.exempt_tag
    active, expired = find_exemption(user.name, user.arn, settings, tag=tag)
    if active is None and expired is None:
        return findings
    return [replace(f, exemption=active, expired_exemption=expired) for f in findings]


def find_exemption(
    name: str, arn: str, settings: Settings, *, tag: str | None = None
) -> tuple[Exemption | None, Exemption | None]:
    """(the exemption in force, an expired one that matched) for the user ``name``.

    ``tag`` is the value of the user's ``initkeys:exempt`` tag, if it has one. An
    exemption applies through its ``expires`` day, inclusive. Patterns match the
    name without regard to case (IAM user names are unique case-insensitively);
    a pattern that starts with ``/`` matches path and name, the path exactly as
    written (IAM keeps paths as given and compares them as written).
    """
    candidates: list[Exemption] = []
    if tag is not None:
        candidates.append(Exemption(reason=tag or "(no reason given)", source="tag"))
    if settings.exemptions:
        path_name = user_path_name(arn, name)
        for rule in settings.exemptions:
            if rule.pattern.startswith("/"):
                matched = name_glob(rule.pattern, path_name, path_name.rfind("/") + 1)
            else:
                matched = name_glob(rule.pattern, name, 0)
            if matched:
                candidates.append(
                    Exemption(
                        reason=rule.reason,
                        source=rule.source,
                        expires=rule.expires,
                        pattern=rule.pattern,
                    )
                )
    expired: Exemption | None = None
    for candidate in candidates:
        if candidate.expires is None or (
            settings.today is not None and settings.today <= candidate.expires
        ):
            return candidate, None
        expired = expired or candidate
    return None, expired


def with_exemption_rules(findings: Iterable[Finding], settings: Settings) -> tuple[Finding, ...]:
    """Findings judged earlier (an approved report) with today's exemption rules added:
    a rule can keep more keys than the report did, never fewer."""
    result: list[Finding] = []
    for finding in findings:
        if finding.exemption is None and settings.exemptions:
            active, _ = find_exemption(finding.user, finding.arn, settings)
            if active is not None:
                finding = replace(finding, exemption=active)
        result.append(finding)
    return tuple(result)


def user_path_name(arn: str, name: str) -> str:
    """``/path/name`` from ``arn:aws:iam::123456789012:user/path/name``."""
    _, _, resource = arn.rpartition(":user/")
    return "/" + resource if resource else "/" + name


def _judge_user(user: IamUser, settings: Settings) -> list[Finding]:
    if user.is_root:
        status, reason = Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT
        message = "The root account's access keys are checked by CIS 1.4, not 1.11."
    elif user.problem is not None or user.created is None:
        status, reason = Status.ERROR, Reason.INVALID_ROW
        message = (
            f"The row for {user.name!r} could not be read: "
            f"{user.problem or 'user_creation_time is missing'}."
        )
    elif not user.console_password:
        status, reason = Status.NOT_APPLICABLE, Reason.NO_CONSOLE_PASSWORD
        message = user_message(reason, user.name)
    elif not user.keys:
        status, reason = Status.PASS, Reason.NO_ACCESS_KEYS
        message = user_message(reason, user.name)
    else:
        return [_judge_key(user, key, settings) for key in user.keys]
    return [_user_finding(user, status, reason, message)]


def user_message(reason: Reason, name: str) -> str:
    """The sentence of a readable console-less or keyless user's finding."""
    if reason is Reason.NO_CONSOLE_PASSWORD:
        return f"{name} has no console password; the control applies to console users."
    return f"{name} has a console password and no access keys."


def judge_key(user: IamUser, key: AccessKey, settings: Settings) -> Finding:
    """The verdict for one key of a console user whose row is readable."""
    _require_aware_user(user, (key,))
    return _judge_key(user, key, settings)


def _judge_key(user: IamUser, key: AccessKey, settings: Settings) -> Finding:
    assert user.created is not None, "judge_user handles unreadable rows"
    return Finding(
        user.name,
        user.arn,
        *_verdict(user.name, user.created, key, settings),  # status, reason, message
        key_slot=key.slot,
        access_key_id=key.access_key_id,
        active=key.active,
        user_created=user.created,
        key_created=key.created,
        last_used=key.last_used,
        password_created=user.password_created,
    )


def _verdict(
    name: str, user_created: datetime, key: AccessKey, settings: Settings
) -> tuple[Status, Reason, str]:
    gap = key.created - user_created
    status, reason = key_verdict(gap, key.created, key.active, key.last_used is not None, settings)
    return status, reason, key_message(reason, name, key.slot, key.active, gap)


def key_verdict(
    gap: timedelta, key_created: datetime, active: bool, used: bool, settings: Settings
) -> tuple[Status, Reason]:
    """The verdict table's rows 2-8 for one key of a console user: ``gap`` is the key's
    creation less its user's. The one judge of a key, for every path (a report
    reader's light rows too, see :func:`judge_row`)."""
    setup_key = -CLOCK_SKEW <= gap <= settings.setup_window
    if used:
        return Status.PASS, (Reason.SETUP_KEY_USED if setup_key else Reason.KEY_USED)
    cis = settings.mode is Mode.CIS
    if key_created < TRACKING_START:
        if not cis:
            return Status.WARNING, Reason.USAGE_UNKNOWN
        return (Status.FAIL if active else Status.PASS), Reason.USAGE_UNKNOWN
    if setup_key:
        if active:
            return Status.FAIL, Reason.SETUP_KEY_UNUSED
        return (Status.PASS if cis else Status.WARNING), Reason.SETUP_KEY_INACTIVE
    if active:
        return (Status.FAIL if cis else Status.WARNING), Reason.UNUSED_KEY
    return Status.PASS, Reason.INACTIVE_UNUSED_KEY


def key_message(reason: Reason, name: str, slot: int, active: bool, gap: timedelta) -> str:
    """The sentence of a key's finding: what :func:`key_verdict` found, for people."""
    who = f"Key {slot} of {name}"
    if reason is Reason.KEY_USED:
        return f"{who} has been used."
    if reason is Reason.INACTIVE_UNUSED_KEY:
        return f"{who} has never been used and is inactive."
    if reason is Reason.USAGE_UNKNOWN:
        state = "active" if active else "inactive"
        return (
            who + " was created before AWS began recording key use "
            "(2015-04-22); whether it was ever used is unknown (" + state + ")."
        )
    described = describe_gap(gap) + " the user"
    if reason is Reason.SETUP_KEY_USED:
        return f"{who} was created with the user ({described}) and has been used."
    if reason is Reason.SETUP_KEY_UNUSED:
        return (
            who + " was created with the user (" + described + ") "
            "and has never been used; delete it."
        )
    if reason is Reason.SETUP_KEY_INACTIVE:
        return (
            who + " was created with the user (" + described + "), "
            "has never been used and is inactive; delete it."
        )
    return (
        f"{who} is active and has never been used; it was created {described}, outside the "
        "setup window."
    )


def _require_aware_user(user: IamUser, keys: Iterable[AccessKey] | None = None) -> None:
    """TypeError when a datetime of ``user`` or of ``keys`` (default: all its keys) is naive."""
    # Attribute reads and no allocation: this runs once per user of every report.
    naive = (user.created is not None and user.created.tzinfo is None) or (
        user.password_created is not None and user.password_created.tzinfo is None
    )
    if not naive:
        for k in user.keys if keys is None else keys:
            if k.created.tzinfo is None or (k.last_used is not None and k.last_used.tzinfo is None):
                naive = True
                break
    if naive:
        require_aware(user.created, f"{user.name!r}: created")
        require_aware(user.password_created, f"{user.name!r}: password_created")
        for k in user.keys if keys is None else keys:
            require_aware(k.created, f"{user.name!r}, key {k.slot}: created")
            require_aware(k.last_used, f"{user.name!r}, key {k.slot}: last_used")


def judge_deleted_user(user: IamUser) -> Finding:
    """A user in the credential report who no longer exists (live audits)."""
    _require_aware_user(user)
    return _user_finding(
        user,
        Status.NOT_APPLICABLE,
        Reason.USER_DELETED,
        f"{user.name} was deleted after the credential report was generated.",
    )


def judge_unreadable_user(user: IamUser, why: str) -> Finding:
    """A user whose live re-read failed: the verdict is unknown, so ERROR."""
    _require_aware_user(user)
    return _user_finding(
        user, Status.ERROR, Reason.LIVE_READ_FAILED, f"{user.name} could not be re-read live: {why}"
    )


def _user_finding(user: IamUser, status: Status, reason: Reason, message: str) -> Finding:
    return Finding(
        user=user.name,
        arn=user.arn,
        status=status,
        reason=reason,
        message=message,
        user_created=user.created,
        password_created=user.password_created,
    )
