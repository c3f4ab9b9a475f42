"""Terraform expressions as initkeys reads them: a small syntax tree that the HCL and the
JSON syntax both turn into, each node keeping its source text (a condition quotes it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal: string, number, bool or null."""

    value: str | int | float | bool | None
    text: str


@dataclass(frozen=True, slots=True)
class Template:
    """A quoted string with ``${...}`` interpolations."""

    parts: tuple[str | Expr, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Ref:
    """``root.attr[index].attr``: a variable, local, resource or iteration reference.
    A step is an attribute name (str) or an index expression."""

    root: str
    steps: tuple[str | Expr, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Access:
    """Attributes and indexes taken from an expression that is not a plain name."""

    base: Expr
    steps: tuple[str | Expr, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Cond:
    test: Expr
    yes: Expr
    no: Expr
    text: str


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    text: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Expr
    text: str


@dataclass(frozen=True, slots=True)
class TupleExpr:
    items: tuple[Expr, ...]
    text: str


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    items: tuple[tuple[Expr, Expr], ...]
    text: str


@dataclass(frozen=True, slots=True)
class ForExpr:
    """``[for v in coll : value if cond]`` or ``{for k, v in coll : key => value if cond}``."""

    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None
    value: Expr
    cond: Expr | None
    text: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Opaque:
    """Syntax initkeys does not evaluate (splats, template directives)."""

    text: str


Expr = (
    Lit
    | Template
    | Ref
    | Access
    | Cond
    | BinOp
    | Unary
    | TupleExpr
    | ObjectExpr
    | ForExpr
    | Call
    | Opaque
)


@dataclass(frozen=True, slots=True)
class ResourceDecl:
    type: str
    name: str
    attrs: dict[str, Expr]
    line: int
    path: str
    """The file, as shown to the user."""


@dataclass(frozen=True, slots=True)
class ModuleCall:
    name: str
    attrs: dict[str, Expr]
    line: int
    path: str


@dataclass(frozen=True, slots=True)
class VariableDecl:
    name: str
    default: Expr | None


@dataclass(frozen=True, slots=True)
class TfFile:
    """What one ``.tf`` or ``.tf.json`` file declares that initkeys reads."""

    resources: tuple[ResourceDecl, ...] = ()
    modules: tuple[ModuleCall, ...] = ()
    variables: tuple[VariableDecl, ...] = ()
    locals: tuple[tuple[str, Expr], ...] = ()
    outputs: tuple[tuple[str, Expr], ...] = ()
