"""A Terraform plan as ``terraform show -json PLAN`` writes it (Terraform, "JSON Output
Format", format_version 1.x) → the users, console passwords and access keys it leaves in
place after apply.

- Read from ``planned_values`` (modules expanded, ``count``/``for_each`` resolved): every
  managed ``aws_iam_user``, ``aws_iam_user_login_profile`` and ``aws_iam_access_key`` that
  will exist after the apply, whether the plan creates it or keeps it (``no-op``,
  ``update``): the configuration is what creates it in a fresh account or workspace, and
  the control judges the configuration. What the plan deletes is not in planned_values.
- The address is the instance's full address (``module.team.aws_iam_access_key.this
  ["alice"]``), the module its module instance, the line 0 (a plan has no lines).
- A profile's or key's ``user`` comes from ``values`` when known at plan time. The user it
  references comes from ``configuration`` (``expressions.user.references``): the user
  resource in the same module instance, with the instance key written in the reference
  (``aws_iam_user.this["alice"]``) or, for ``aws_iam_user.this[each.key]`` or
  ``[count.index]`` (Terraform lists only ``aws_iam_user.this`` then), the profile's or
  key's own instance key when a user with that key exists: the usual pattern of one
  ``for_each`` or ``count`` over the same collection.
- A key planned with ``status = "Inactive"`` is a condition (an inactive setup key is a
  WARNING, as in the audit).
- A plan that ``errored`` is read, with an unreadable note (what it holds is cut short);
  an incomplete one (``complete: false``, changes deferred) with a note.
- The state form (``terraform show -json`` of a state: ``values`` instead of
  ``planned_values``) is read the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from initkeys.inputs import BadJson, load_json
from initkeys.sources.iac import limits
from initkeys.sources.iac._names import name_problem, shorten
from initkeys.sources.iac.records import IacKind, IacNote, IacResource, IacScan, SourceLine

_KINDS = {
    "aws_iam_user": IacKind.USER,
    "aws_iam_user_login_profile": IacKind.LOGIN_PROFILE,
    "aws_iam_access_key": IacKind.ACCESS_KEY,
}
_FORMAT = re.compile(r"1\.\d{1,6}")
# One step of a module address: module.NAME, then an optional [0] or ["key"].
_MODULE_STEP = re.compile(r'module\.([A-Za-z0-9_-]+)(\[(?:\d+|"(?:[^"\\]|\\.)*")\])?\.?')
_USER_REF = re.compile(r'aws_iam_user\.([A-Za-z0-9_-]+)(\[(?:\d+|"(?:[^"\\]|\\.)*")\])?')
_REPEAT_REFS = {"each.key", "each.value", "count.index"}


class _Malformed(Exception):
    """The plan's shape is not what Terraform writes: the reason."""


def read_plan(text: str, shown: str) -> IacScan:
    """The users, passwords and keys the plan leaves in place; an unreadable note instead
    when ``text`` is not a plan Terraform 1.x wrote. Never raises for bad input."""
    try:
        if len(text) > limits.MAX_FILE_BYTES:
            raise _Malformed(f"larger than {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB")
        try:
            document = load_json(text)
        except BadJson as e:
            raise _Malformed(str(e)) from None
        resources, notes = _Plan(document, shown).read()
    except _Malformed as e:
        note = IacNote(
            at=SourceLine(shown, 0),
            configuration=shown,
            what=f"{shown} is not a Terraform plan initkeys can read: {e}",
            unreadable=True,
        )
        return IacScan(notes=(note,))
    return IacScan(resources=tuple(resources), notes=tuple(notes), files_read=1)


@dataclass(frozen=True)
class _Planned:
    """One resource instance from planned_values, and the module instance it is in."""

    module: str
    address: str
    kind: IacKind
    type: str
    name: str
    index: object
    values: Mapping[str, Any]


class _Plan:
    def __init__(self, document: Any, shown: str) -> None:
        if not isinstance(document, dict):
            raise _Malformed("its top is not a JSON object")
        version = document.get("format_version")
        if not isinstance(version, str):
            raise _Malformed("it has no format_version (write it with terraform show -json PLAN)")
        if not _FORMAT.fullmatch(version):
            raise _Malformed(f"format_version {_show(version)} is not 1.x")
        self.document = document
        self.shown = shown

    def read(self) -> tuple[list[IacResource], list[IacNote]]:
        values = self.document.get("planned_values", self.document.get("values"))
        if values is None:
            raise _Malformed("it has no planned_values (write it with terraform show -json PLAN)")
        root = _object(values, "planned_values").get("root_module", {})
        planned = list(_walk(_object(root, "root_module"), "", 0))
        deleted = self.deleted()
        users = {p.address for p in planned if p.kind is IacKind.USER}
        resources = [self.resource(p, users) for p in planned if p.address not in deleted]
        notes = []
        if self.document.get("errored") is True:
            what = "is a plan that errored: what it would create is incomplete; fix the errors"
            notes.append(self.note(f"{what} and scan a new plan", unreadable=True))
        elif self.document.get("complete") is False:
            what = "is an incomplete plan (complete: false): Terraform deferred some changes"
            notes.append(self.note(f"{what} to a later run; scan that run's plan too"))
        return resources, notes

    def note(self, what: str, *, unreadable: bool = False) -> IacNote:
        at = SourceLine(self.shown, 0)
        return IacNote(at, self.shown, f"{self.shown} {what}", unreadable=unreadable)

    def deleted(self) -> set[str]:
        """Instances the plan only deletes (planned_values should not hold them)."""
        changes = self.document.get("resource_changes", [])
        gone = set()
        for change in _list(changes, "resource_changes"):
            change = _object(change, "a resource change")
            if "deposed" in change:
                continue  # an older object of the instance, not the one planned_values holds
            actions = _object(change.get("change", {}), "a change").get("actions", [])
            if isinstance(actions, list) and "create" not in actions and "delete" in actions:
                address = change.get("address")
                if isinstance(address, str):
                    gone.add(address)
        return gone

    def resource(self, planned: _Planned, users: set[str]) -> IacResource:
        values = planned.values
        field = "name" if planned.kind is IacKind.USER else "user"
        name = values.get(field)
        problem = name_problem(name) if isinstance(name, str) else None
        if problem is not None:
            # The AWS provider validates names at plan time: Terraform wrote no such plan.
            raise _Malformed(f"{planned.address} has a {field} {problem}")
        address = None
        condition = None
        if planned.kind is not IacKind.USER:
            address = self.user_address(planned, users)
        if planned.kind is IacKind.ACCESS_KEY and values.get("status") == "Inactive":
            condition = 'the key is planned with status = "Inactive"'
        return IacResource(
            kind=planned.kind,
            address=planned.address,
            at=SourceLine(self.shown, 0),
            configuration=self.shown,
            module=planned.module,
            user_name=name if isinstance(name, str) else None,
            user_address=address,
            condition=condition,
        )

    def user_address(self, planned: _Planned, users: set[str]) -> str | None:
        """The address of the user resource a profile or key references, when it is one
        this plan holds (or the single instance the reference names)."""
        references = self.references(planned)
        prefix = f"{planned.module}." if planned.module else ""
        repeated = any(r in _REPEAT_REFS for r in references)
        for reference in references:
            match = _USER_REF.match(reference)
            if match is None:
                continue
            base = f"{prefix}aws_iam_user.{match.group(1)}"
            if match.group(2):
                return base + match.group(2)
            if repeated and planned.index is not None:
                same = base + _index(planned.index)
                if same in users:
                    return same
            if base in users or not repeated:
                return base
        return None

    def references(self, planned: _Planned) -> list[str]:
        """``expressions.user.references`` of the planned instance's configuration block."""
        module: Any = _object(self.document.get("configuration", {}), "configuration").get(
            "root_module", {}
        )
        for call in _MODULE_STEP.finditer(planned.module):
            calls = _object(module, "a module").get("module_calls", {})
            module = _object(_object(calls, "module_calls").get(call.group(1), {}), "a call")
            module = module.get("module", {})
        for block in _list(_object(module, "a module").get("resources", []), "resources"):
            block = _object(block, "a resource")
            if block.get("address") != f"{planned.type}.{planned.name}":
                continue
            expressions = _object(block.get("expressions", {}), "expressions")
            user = _object(expressions.get("user", {}), "an expression")
            references = user.get("references", [])
            return [r for r in _list(references, "references") if isinstance(r, str)]
        return []


def _walk(module: Mapping[str, Any], address: str, depth: int) -> Iterator[_Planned]:
    if depth > limits.MAX_NESTING:
        raise _Malformed(f"modules nested deeper than {limits.MAX_NESTING} levels")
    for resource in _list(module.get("resources", []), "resources"):
        resource = _object(resource, "a planned resource")
        kind = _KINDS.get(str(resource.get("type")))
        if kind is None or resource.get("mode", "managed") != "managed":
            continue
        where, name = resource.get("address"), resource.get("name")
        if not isinstance(where, str) or not isinstance(name, str):
            raise _Malformed("a planned resource has no address or name")
        if not where.isprintable():
            # Terraform's addresses never hold them; one would reach a terminal as written.
            raise _Malformed(f"the address '{shorten(where)}' holds control characters")
        values = resource.get("values", {})
        yield _Planned(
            module=address,
            address=where,
            kind=kind,
            type=resource["type"],
            name=name,
            index=resource.get("index"),
            values=_object(values if values is not None else {}, "values"),
        )
    for child in _list(module.get("child_modules", []), "child_modules"):
        child = _object(child, "a child module")
        child_address = child.get("address")
        if not isinstance(child_address, str) or not child_address.isprintable():
            raise _Malformed("a child module has no address Terraform would write")
        yield from _walk(child, child_address, depth + 1)


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what} is not a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(f"{what} is not a JSON array")
    return value


def _index(index: object) -> str:
    """An instance key as Terraform writes it in an address: ``[0]`` or ``["alice"]``."""
    return f"[{json.dumps(index)}]"


def _show(value: str) -> str:
    return shorten(value, 40)
