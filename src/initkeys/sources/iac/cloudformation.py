"""CloudFormation, SAM and CDK templates (YAML or JSON) → the users, console passwords and
access keys they create (AWS CloudFormation User Guide, "Template reference":
``AWS::IAM::User``, ``AWS::IAM::AccessKey``, "Intrinsic function reference").

- ``AWS::IAM::User``: a user whose address is its logical ID; its name is ``UserName``
  when that is a literal (else CloudFormation generates one). ``Properties.LoginProfile``
  is its console password, at the same line.
- ``AWS::IAM::AccessKey``: a key whose ``UserName`` is read as ``!Ref User`` (the user's
  logical ID), ``!Sub "${User}"`` (the same), a literal name, or ``!GetAtt User.Arn``: a
  misuse (IAM wants a name, not an ARN, so the stack fails until it is mended to ``!Ref``):
  read as that user, with a condition that says so, making the verdict a WARNING.
- A resource ``Condition``, an ``Fn::If`` around ``LoginProfile`` or a key's
  ``UserName``, a key's ``UserName`` from a parameter's default, and ``Status: Inactive``
  on a key are conditions (the verdict cannot be a certain FAIL). A user's ``UserName``
  from a parameter is read as the parameter's default, without a condition: it only
  decides which literal names link to the user.
- Nested stacks (``AWS::CloudFormation::Stack``, ``AWS::Serverless::Application``),
  ``Fn::ForEach`` loops and macros other than SAM's are notes: not scanned here.
- SAM passes ``AWS::IAM::*`` through as written; CDK output is a plain JSON template
  whose ``Metadata.aws:cdk:path`` (the construct path) becomes the module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from initkeys.sources.iac._cfn_load import Lines, Unreadable, load_template
from initkeys.sources.iac._names import name_problem, shorten
from initkeys.sources.iac.records import IacKind, IacNote, IacResource, IacScan, SourceLine

USER = "AWS::IAM::User"
ACCESS_KEY = "AWS::IAM::AccessKey"
_NESTED = {
    "AWS::CloudFormation::Stack": ("nested stack", "TemplateURL"),
    "AWS::Serverless::Application": ("nested application", "Location"),
}
# Transforms whose effect on AWS::IAM::* resources is known: SAM passes them through,
# LanguageExtensions only adds functions (its Fn::ForEach is a note of its own).
_KNOWN_TRANSFORMS = {"AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"}
# "The logical ID must be alphanumeric (A-Za-z0-9) and unique within the template."
_LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")
_SUB_ONE = re.compile(r"\$\{([A-Za-z0-9:_]+)(?:\.([A-Za-z0-9._]+))?\}")


def read_template(text: str, shown: str) -> IacScan:
    """The users, passwords and keys a template creates; an unreadable note instead when
    the text is not a template CloudFormation would read. Never raises for bad input."""
    try:
        documents, lines = load_template(text)
    except Unreadable as e:
        return IacScan(notes=(_unreadable(shown, e),))
    with_resources = [d for d in documents if isinstance(d, dict) and "Resources" in d]
    if len(documents) > 1 and with_resources:
        problem = Unreadable(
            f"it holds {len(documents)} YAML documents, and CloudFormation reads one"
        )
        return IacScan(notes=(_unreadable(shown, problem),))
    if not documents or not isinstance(documents[0], dict):
        if len(documents) > 1:
            return IacScan(files_read=1)  # several non-template documents: a manifest
        what = (
            "it is empty" if not documents or documents[0] is None else "its top is not a mapping"
        )
        return IacScan(notes=(_unreadable(shown, Unreadable(what)),))
    template: dict[str, Any] = documents[0]
    if "Resources" not in template:
        return IacScan(files_read=1)  # not a template: not this reader's business
    reader = _Reader(template, lines, shown)
    reader.read()
    return IacScan(resources=tuple(reader.resources), notes=tuple(reader.notes), files_read=1)


def _unreadable(shown: str, error: Unreadable, line: int | None = None) -> IacNote:
    at = error.line if line is None else line
    where = f" (line {at})" if at else ""
    return IacNote(
        at=SourceLine(shown, at),
        configuration=shown,
        what=f"{shown} is not a template CloudFormation can read: {error.problem}{where}",
        unreadable=True,
    )


@dataclass(frozen=True)
class _Target:
    """Whom a ``UserName`` names: a literal name, a user's logical ID, or neither
    (unknown); ``why`` when the reading is not certain."""

    name: str | None = None
    address: str | None = None
    why: str | None = None


class _Reader:
    def __init__(self, template: dict[str, Any], lines: Lines, shown: str) -> None:
        self.template = template
        self.lines = lines
        self.shown = shown
        parameters = template.get("Parameters")
        self.parameters: Mapping[str, Any] = parameters if isinstance(parameters, dict) else {}
        self.resources: list[IacResource] = []
        self.notes: list[IacNote] = []

    def read(self) -> None:
        self.transforms()
        resources = self.template["Resources"]
        if not isinstance(resources, dict):
            self.bad("Resources is not a mapping", 0)
            return
        for logical_id, body in resources.items():
            line = self.lines.get(logical_id, 0)
            if logical_id.startswith("Fn::ForEach::"):
                self.note(
                    f"{shorten(logical_id)} (AWS::LanguageExtensions) was not expanded: scan "
                    "the processed template (aws cloudformation get-template "
                    "--template-stage Processed)",
                    line,
                )
                continue
            if not _LOGICAL_ID.fullmatch(logical_id):
                # CloudFormation refuses the template; the ID would become an address.
                self.bad(f"the logical ID '{shorten(logical_id)}' is not alphanumeric", line)
                continue
            if not isinstance(body, dict):
                self.bad(f"resource {shorten(logical_id)} is not a mapping", line)
                continue
            kind = body.get("Type")
            if not isinstance(kind, str):
                what = "has no Type" if kind is None else "has a Type that is not a string"
                self.bad(f"resource {shorten(logical_id)} {what}", line)
                continue
            literal = _properties(body).get("UserName")
            if kind in (USER, ACCESS_KEY) and isinstance(literal, str):
                problem = name_problem(literal)
                if problem is not None:
                    self.bad(f"resource {shorten(logical_id)} has a UserName {problem}", line)
                    continue
            if kind == USER:
                self.user(logical_id, body, line)
            elif kind == ACCESS_KEY:
                self.key(logical_id, body, line)
            elif kind in _NESTED:
                noun, field = _NESTED[kind]
                properties = body.get("Properties")
                source = properties.get(field) if isinstance(properties, dict) else None
                self.note(
                    f"{noun} {shorten(logical_id)} ({field} {_show(source)}) was not "
                    "scanned: scan its template too",
                    line,
                )

    def transforms(self) -> None:
        transform = self.template.get("Transform")
        names = transform if isinstance(transform, list) else [transform]
        for name in names:
            if name is None or (isinstance(name, str) and name in _KNOWN_TRANSFORMS):
                continue
            self.note(
                f"the transform {_show(name)} may add resources that were not scanned: scan "
                "the processed template (aws cloudformation get-template --template-stage "
                "Processed)",
                0,
            )

    def user(self, logical_id: str, body: dict[str, Any], line: int) -> None:
        properties = _properties(body)
        module = _cdk_path(body)
        target = self.target(properties.get("UserName"))
        # A parameter's Default is the likely name: it links a key that names the user
        # literally (a !Ref to the user needs no name).
        name = target.name if target.address is None else None
        at = SourceLine(self.shown, line)
        self.resources.append(
            IacResource(
                kind=IacKind.USER,
                address=logical_id,
                at=at,
                configuration=self.shown,
                module=module,
                user_name=name,
                condition=_resource_condition(body),
            )
        )
        choices = list(_choices(properties.get("LoginProfile")))
        present = [conditions for conditions, value in choices if not _absent(value)]
        if not present:
            return
        condition = None
        if len(present) < len(choices):
            condition = "LoginProfile only when " + " or ".join(" and ".join(c) for c in present)
        self.resources.append(
            IacResource(
                kind=IacKind.LOGIN_PROFILE,
                address=f"{logical_id}.LoginProfile",
                at=at,
                configuration=self.shown,
                module=module,
                user_name=name,
                user_address=logical_id,
                condition=condition,
            )
        )

    def key(self, logical_id: str, body: dict[str, Any], line: int) -> None:
        properties = _properties(body)
        fixed = [_resource_condition(body)]
        status = properties.get("Status")
        if status == "Inactive":
            fixed.append("the key is created with Status Inactive")
        elif status is not None and not isinstance(status, str):
            fixed.append(f"the key's Status is {_show(status)}, which may make it Inactive")
        choices = list(_choices(properties.get("UserName")))
        for conditions, value in choices:
            if _absent(value) and len(choices) > 1:
                continue  # that branch creates no key (CloudFormation needs a UserName)
            target = self.target(value)
            depends = ["UserName depends on " + " and ".join(conditions)] if conditions else []
            parts = [p for p in [*fixed, *depends, target.why] if p is not None]
            self.resources.append(
                IacResource(
                    kind=IacKind.ACCESS_KEY,
                    address=logical_id,
                    at=SourceLine(self.shown, line),
                    configuration=self.shown,
                    module=_cdk_path(body),
                    user_name=target.name,
                    user_address=target.address,
                    condition="; ".join(parts) or None,
                )
            )

    def target(self, value: Any, depth: int = 0) -> _Target:
        """Whom ``value`` (a ``UserName``) names."""
        if isinstance(value, str):
            return _Target(name=value)
        if not isinstance(value, dict) or len(value) != 1 or depth > 8:
            return _Target()
        ((function, argument),) = value.items()
        if function == "Ref" and isinstance(argument, str):
            return self.ref(argument)
        if function == "Fn::GetAtt":
            if isinstance(argument, str):
                argument = argument.partition(".")[::2]
            if isinstance(argument, list) and len(argument) == 2:
                resource, attribute = argument
                if isinstance(resource, str) and isinstance(attribute, str):
                    return _get_att(resource, attribute)
            return _Target()
        if function == "Fn::Sub":
            return self.sub(argument, depth)
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            literal = isinstance(parts, list) and all(isinstance(p, str) for p in parts)
            if isinstance(separator, str) and literal:
                return _Target(name=separator.join(parts))
        return _Target()

    def ref(self, name: str) -> _Target:
        if name in self.parameters:
            parameter = self.parameters[name]
            default = parameter.get("Default") if isinstance(parameter, dict) else None
            if isinstance(default, str):
                why = f"UserName is parameter {shorten(name)}, read as its Default "
                why += f"'{shorten(default)}'"
                return _Target(name=default, why=why)
            return _Target()
        if name.startswith("AWS::") or not _LOGICAL_ID.fullmatch(name):
            return _Target()  # a pseudo parameter, or no resource at all, names no user
        return _Target(address=name)

    def sub(self, argument: Any, depth: int) -> _Target:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, list) and len(argument) == 2:
            argument, given = argument
            variables = given if isinstance(given, dict) else {}
        if not isinstance(argument, str):
            return _Target()
        if "${" not in argument.replace("${!", ""):
            return _Target(name=argument.replace("${!", "${"))
        whole = _SUB_ONE.fullmatch(argument)
        if whole is None:
            return _Target()
        name, attribute = whole.group(1), whole.group(2)
        if name in variables and attribute is None:
            return self.target(variables[name], depth + 1)
        if attribute is not None:
            return _get_att(name, attribute)
        return self.ref(name)

    def note(self, what: str, line: int) -> None:
        self.notes.append(IacNote(SourceLine(self.shown, line), self.shown, what))

    def bad(self, problem: str, line: int) -> None:
        self.notes.append(_unreadable(self.shown, Unreadable(problem), line))


def _get_att(resource: str, attribute: str) -> _Target:
    why = (
        f"UserName is Fn::GetAtt {shorten(resource)}.{shorten(attribute)}, not a user name: "
        f"the stack fails to create this key until it is !Ref {shorten(resource)}"
    )
    return _Target(address=resource, why=why)


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    properties = body.get("Properties")
    return properties if isinstance(properties, dict) else {}


def _resource_condition(body: dict[str, Any]) -> str | None:
    condition = body.get("Condition")
    if condition is None:
        return None
    return f"Condition {_show(condition)} (from the template's Conditions)"


def _cdk_path(body: dict[str, Any]) -> str:
    metadata = body.get("Metadata")
    path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
    return path if isinstance(path, str) else ""


def _choices(value: Any, depth: int = 0) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Each value ``value`` may take through ``Fn::If``, with the conditions for it."""
    branch = value.get("Fn::If") if isinstance(value, dict) and len(value) == 1 else None
    if not (isinstance(branch, list) and len(branch) == 3) or depth > 8:
        yield (), value
        return
    name = _show(branch[0])
    for truth, inner in ((True, branch[1]), (False, branch[2])):
        said = f"Condition {name} is {'true' if truth else 'false'}"
        for conditions, result in _choices(inner, depth + 1):
            yield (said, *conditions), result


def _absent(value: Any) -> bool:
    return value is None or value == {"Ref": "AWS::NoValue"}


def _show(value: Any) -> str:
    """A template value, short, for a note."""
    if isinstance(value, str):
        return shorten(value)
    return shorten(json.dumps(value, default=str, separators=(",", ":")))
