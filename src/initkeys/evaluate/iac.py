"""Verdicts on infrastructure as code: does one configuration create a user, its console
password and an access key for it in the same apply? (docs/verdicts.md, "Infrastructure
as code".)

Pure: the readers' records in, findings out. A profile or key is linked to its user by
the reference it makes (``aws_iam_user.alice.name``, ``!Ref Alice``), else by the user
name, without regard to case as IAM compares names, first within its own configuration,
then across the scan (a key created in another configuration for a scanned user).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from initkeys.evaluate.verdicts import find_exemption
from initkeys.model import Settings, Status
from initkeys.sources.iac.records import (
    IacFinding,
    IacKind,
    IacNote,
    IacReason,
    IacResource,
    IacScan,
)


@dataclass
class _Group:
    """The profiles and keys that name one user."""

    user: IacResource | None
    profiles: list[IacResource] = field(default_factory=list)
    keys: list[IacResource] = field(default_factory=list)
    elsewhere: list[IacResource] = field(default_factory=list)


def judge_iac(scan: IacScan, settings: Settings) -> tuple[IacFinding, ...]:
    """One finding per user resource, one per user that only profiles or keys name (a
    user defined elsewhere), one per note; users first, in the scan's order."""
    users = [r for r in scan.resources if r.kind is IacKind.USER]
    groups = {id(user): _Group(user) for user in users}
    by_address = {(u.configuration, u.address): u for u in users}
    by_name: dict[tuple[str, str], IacResource] = {}
    by_name_anywhere: dict[str, IacResource] = {}
    for u in users:
        if u.user_name is not None:
            by_name.setdefault((u.configuration, u.user_name.casefold()), u)
            by_name_anywhere.setdefault(u.user_name.casefold(), u)

    outside: dict[tuple[str, str, str], _Group] = {}
    for resource in scan.resources:
        if resource.kind is IacKind.USER:
            continue
        name = resource.user_name.casefold() if resource.user_name is not None else None
        where = (resource.configuration, resource.user_address or "")
        user: IacResource | None = by_address.get(where)
        if user is None and name is not None:
            user = by_name.get((resource.configuration, name))
        if user is not None:
            _add(groups[id(user)], resource)
            continue
        other = by_name_anywhere.get(name) if name is not None else None
        if other is not None and resource.kind is IacKind.ACCESS_KEY:
            groups[id(other)].elsewhere.append(resource)
            continue
        ref = resource.user_name or resource.user_address or "?"
        key = (resource.configuration, resource.module, name or ref)
        _add(outside.setdefault(key, _Group(None)), resource)

    findings = [_judge(groups[id(u)], settings) for u in users]
    findings += [_judge(group, settings) for group in outside.values()]
    findings += [_judge_note(note) for note in scan.notes]
    return tuple(findings)


def _add(group: _Group, resource: IacResource) -> None:
    if resource.kind is IacKind.LOGIN_PROFILE:
        group.profiles.append(resource)
    else:
        group.keys.append(resource)


def _judge(group: _Group, settings: Settings) -> IacFinding:
    user = group.user
    first = user or (group.profiles + group.keys)[0]
    if user is not None:
        status, reason, conditions = _verdict(user, group)
    elif first.user_name is None and first.user_address is None and group.keys:
        # A key whose user cannot be read statically may be a console user's.
        unknown = "the user this key is for cannot be decided statically"
        status, reason, conditions = Status.WARNING, IacReason.MAYBE_SETUP_KEY, (unknown,)
    elif group.profiles and group.keys:
        status, reason, conditions = Status.WARNING, IacReason.PASSWORD_AND_KEY, ()
    elif group.keys:
        status, reason, conditions = Status.NOT_APPLICABLE, IacReason.PROGRAMMATIC_USER, ()
    else:
        status, reason, conditions = Status.PASS, IacReason.CONSOLE_USER_NO_KEY, ()
    name = first.user_name
    exemption = None
    if name is not None and settings.exemptions:
        exemption, _ = find_exemption(name, "", settings)
    return IacFinding(
        status=status,
        reason=reason,
        configuration=first.configuration,
        user=name or first.user_address or first.address,
        module=first.module,
        user_at=user.at if user else None,
        password_at=tuple(p.at for p in group.profiles),
        key_at=tuple(k.at for k in group.keys + group.elsewhere),
        conditions=conditions,
        elsewhere=_unique(k.configuration for k in group.elsewhere),
        exemption=exemption,
    )


def _verdict(user: IacResource, group: _Group) -> tuple[Status, IacReason, tuple[str, ...]]:
    if not group.profiles:
        return Status.NOT_APPLICABLE, IacReason.PROGRAMMATIC_USER, ()
    if not group.keys and not group.elsewhere:
        return Status.PASS, IacReason.CONSOLE_USER_NO_KEY, ()
    certain_profile = any(p.condition is None for p in group.profiles)
    certain_key = any(k.condition is None for k in group.keys)
    if user.condition is None and certain_profile and certain_key:
        return Status.FAIL, IacReason.SETUP_KEY, ()
    conditions = _unique(
        r.condition for r in [user, *group.profiles, *group.keys] if r.condition is not None
    )
    return Status.WARNING, IacReason.MAYBE_SETUP_KEY, conditions


def _judge_note(note: IacNote) -> IacFinding:
    return IacFinding(
        status=Status.ERROR if note.unreadable else Status.WARNING,
        reason=IacReason.UNREADABLE if note.unreadable else IacReason.NOT_SCANNED,
        configuration=note.configuration,
        user="",
        module=note.module,
        note=note,
    )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
