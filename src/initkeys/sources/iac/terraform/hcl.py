"""Parse Terraform's two syntaxes, native HCL (:mod:`.native`, a reader of our own that
keeps line numbers) and JSON (``.tf.json``), into :class:`~.syntax.TfFile` records.

Only what initkeys judges is kept: ``resource``, ``module``, ``variable``, ``locals`` and
``output`` blocks. Bad input raises :class:`Unparsable`, whose text names the line when known.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from initkeys.inputs import BadJson, load_json
from initkeys.sources.iac.terraform.native import Unparsable, parse_hcl, parse_tfvars_hcl
from initkeys.sources.iac.terraform.native import template as _template
from initkeys.sources.iac.terraform.syntax import (
    Expr,
    Lit,
    ModuleCall,
    ObjectExpr,
    Opaque,
    ResourceDecl,
    TfFile,
    TupleExpr,
    VariableDecl,
)

__all__ = [
    "Unparsable",
    "json_expr",
    "json_literal",
    "parse_hcl",
    "parse_json",
    "parse_tfvars_hcl",
    "parse_tfvars_json",
]


# --- JSON syntax --------------------------------------------------------------------------


def parse_json(text: str) -> TfFile:
    """The blocks of one ``.tf.json`` file (Terraform's JSON configuration syntax)."""
    doc = _json_object(text, "a Terraform JSON configuration")
    lines = _key_lines(text)
    resources: list[ResourceDecl] = []
    modules: list[ModuleCall] = []
    variables: list[VariableDecl] = []
    local_values: list[tuple[str, Expr]] = []
    for rtype, by_name in _labelled(doc.get("resource")):
        for name, body in _labelled(by_name):
            line = lines.get(("resource", rtype, name), 0)
            resources.append(ResourceDecl(rtype, name, _json_attrs(body), line, ""))
    for name, body in _labelled(doc.get("module")):
        line = lines.get(("module", name), 0)
        attrs = _json_attrs(body)
        source = body.get("source") if isinstance(body, dict) else None
        if isinstance(source, str):  # a module source is a literal, never a template
            attrs["source"] = Lit(source, source)
        modules.append(ModuleCall(name, attrs, line, ""))
    for name, body in _labelled(doc.get("variable")):
        default = body.get("default") if isinstance(body, dict) else None
        has = isinstance(body, dict) and "default" in body
        variables.append(VariableDecl(name, json_literal(default) if has else None))
    for block in _blocks(doc.get("locals")):
        local_values += [(k, json_expr(v)) for k, v in block.items()]
    outputs = [
        (name, json_expr(body["value"]))
        for name, body in _labelled(doc.get("output"))
        if isinstance(body, dict) and "value" in body
    ]
    return TfFile(
        tuple(resources), tuple(modules), tuple(variables), tuple(local_values), tuple(outputs)
    )


def parse_tfvars_json(text: str) -> dict[str, Expr]:
    doc = _json_object(text, "a variables file")
    return {k: json_literal(v) for k, v in doc.items()}


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        doc = load_json(text)
    except BadJson as e:
        raise Unparsable(f"not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise Unparsable(f"not {what} (the top level is not an object)")
    return doc


def _blocks(value: object) -> list[dict[str, Any]]:
    # Terraform's JSON syntax allows a block type's value to be an object or a list of them.
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _labelled(value: object) -> Iterator[tuple[str, Any]]:
    for block in _blocks(value):
        yield from block.items()


def _json_attrs(body: object) -> dict[str, Expr]:
    attrs: dict[str, Expr] = {}
    for block in _blocks(body):
        attrs.update((k, json_expr(v)) for k, v in block.items())
    return attrs


def json_literal(value: object) -> Expr:
    """A JSON value taken as it is (a variable default, a ``.tfvars.json`` value)."""
    return _json(value, templates=False)


def json_expr(value: object) -> Expr:
    """A JSON value in an expression position: its strings are templates."""
    return _json(value, templates=True)


def _json(value: object, *, templates: bool) -> Expr:
    text = _brief(value)
    if isinstance(value, str):
        if templates and "%{" in value.replace("%%{", ""):
            return Opaque(value)  # a template directive: not evaluated
        return _json_template(value) if templates and ("${" in value) else Lit(value, value)
    if value is None or isinstance(value, (bool, int, float)):
        return Lit(value, text)
    if isinstance(value, list):
        return TupleExpr(tuple(_json(v, templates=templates) for v in value), text)
    if isinstance(value, dict):
        items = tuple(
            (_json(k, templates=templates), _json(v, templates=templates)) for k, v in value.items()
        )
        return ObjectExpr(items, text)
    return Opaque(text)


def _brief(value: object) -> str:
    return value if isinstance(value, str) else repr(value)[:80]


def _json_template(value: str) -> Expr:
    parts: list[str | Expr] = []
    i = 0
    while i < len(value):
        start = value.find("${", i)
        if start < 0:
            parts.append(value[i:])
            break
        if start > 0 and value[start - 1] == "$":  # $${ is a literal ${
            parts.append(value[i : start - 1] + "${")
            i = start + 2
            continue
        parts.append(value[i:start])
        end = _closing_brace(value, start + 2)
        if end < 0:
            return Opaque(value)
        parts.append(_hcl_expression(value[start + 2 : end]))
        i = end + 1
    return _template(parts, value)


def _closing_brace(value: str, i: int) -> int:
    depth, quoted = 0, False
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _hcl_expression(source: str) -> Expr:
    try:
        attrs = parse_tfvars_hcl(f"x = {source}\n")
    except Unparsable:
        return Opaque(source)
    expr = attrs.get("x")
    if expr is None or len(attrs) != 1:
        return Opaque(source)
    return expr


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of each object key up to three levels down, by path (lists are
    transparent, as Terraform's JSON syntax allows a list where one block is)."""
    lines: dict[tuple[str, ...], int] = {}
    path: list[str | None] = []  # one entry per open container: its key, or None for a list
    pending: str | None = None
    line, i, n = 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            raw = text[i + 1 : j]
            k = j + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if k < n and text[k] == ":":
                key = _json_key(raw)
                full = (*(p for p in path if p is not None), key)
                if len(full) <= 3:
                    lines.setdefault(full, line)
                pending = key
            line += text.count("\n", i, j)
            i = j
        elif c == "{":
            path.append(pending)
            pending = None
        elif c == "[":
            path.append(None if pending is None else pending)
            pending = None
        elif c in "}]":
            if path:
                path.pop()
        elif c == ",":
            pending = None
        i += 1
    return lines


def _json_key(raw: str) -> str:
    try:
        key = load_json(f'"{raw}"')
    except BadJson:
        return raw
    return key if isinstance(key, str) else raw
