"""Static evaluation of Terraform expressions: what can be known before ``terraform plan``.

A value is plain Python data (str, int, float, bool, None, list, dict), a reference to an
IAM resource (:class:`ResRef`), or :class:`Unknown` with the reason, in a few words, that
a condition quotes (``var.ci has no default``). Nothing is guessed: what is not decided
from literals, variable defaults, ``.tfvars``, locals and iteration keys is Unknown.

Work is bounded (:class:`Budget`): a hostile configuration ends in Unknown, not a hang.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from initkeys.sources.iac.terraform.syntax import (
    Access,
    BinOp,
    Call,
    Cond,
    Expr,
    ForExpr,
    Lit,
    ObjectExpr,
    Opaque,
    Ref,
    Template,
    TupleExpr,
    Unary,
)

IAM_TYPES = frozenset({"aws_iam_user", "aws_iam_user_login_profile", "aws_iam_access_key"})
# Attributes of aws_iam_user that are its name (the provider sets id to the name).
NAME_ATTRS = frozenset({"name", "id"})
MAX_ITEMS = 1_000
MAX_STRING = 64 * 1024
MAX_EVAL_DEPTH = 120
MAX_STEPS = 200_000


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value that cannot be decided statically, and why."""

    why: str


@dataclass(frozen=True, slots=True)
class ResRef:
    """``aws_iam_user.alice[0].name``: the resource's full address, the attribute taken,
    and the user's name when it is static."""

    type: str
    address: str
    attr: str | None
    name: str | None = None
    undecided_index: bool = False
    """The instance key could not be evaluated (the address holds its expression)."""


@dataclass
class Budget:
    """Work left for one configuration; shared by every scope under one root."""

    steps: int = MAX_STEPS
    depth: int = 0


@dataclass
class Scope:
    """What names mean where an expression is evaluated: one module instance, and inside
    it, one resource instance (``each``, ``count.index``) or one for-expression item."""

    variables: dict[str, object]
    local_exprs: dict[str, Expr] = field(default_factory=dict)
    prefix: str = ""
    """``module.a.`` for resources in module a; "" at the root."""
    users: dict[str, str | None] = field(default_factory=dict)
    """The users of this module instance: address → static name."""
    budget: Budget = field(default_factory=Budget)
    each: tuple[object, object] | None = None
    count_index: object = None
    bound: dict[str, object] = field(default_factory=dict)
    modules: dict[str, dict[str, Callable[[str], object]]] = field(default_factory=dict)
    """Module calls of this module instance: name → instance suffix → output reader."""
    _locals: dict[str, object] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)

    def child(self, **changes: Any) -> Scope:
        """The same module instance with other iteration values (locals are shared)."""
        return dataclasses.replace(self, **changes)

    def local(self, name: str) -> object:
        if name in self._locals:
            return self._locals[name]
        expr = self.local_exprs.get(name)
        if expr is None:
            return Unknown(f"local.{name} is not declared")
        if name in self._busy:
            return Unknown(f"local.{name} refers to itself")
        self._busy.add(name)
        try:
            # Locals see no iteration values: evaluate them in the module's own scope.
            value = evaluate(expr, self.child(each=None, count_index=None, bound={}))
        finally:
            self._busy.discard(name)
        self._locals[name] = value
        return value


def evaluate(expr: Expr, scope: Scope) -> object:
    """The value of ``expr`` in ``scope``, or Unknown."""
    budget = scope.budget
    budget.steps -= 1
    if budget.steps < 0:
        return Unknown("the configuration is too large to evaluate")
    if budget.depth >= MAX_EVAL_DEPTH:
        return Unknown(f"{_brief(expr.text)} is nested too deeply to evaluate")
    budget.depth += 1
    try:
        return _evaluate(expr, scope)
    finally:
        budget.depth -= 1


def _evaluate(expr: Expr, scope: Scope) -> object:
    if isinstance(expr, Lit):
        return expr.value
    if isinstance(expr, Template):
        return _template(expr, scope)
    if isinstance(expr, Ref):
        return _ref(expr, scope)
    if isinstance(expr, Access):
        return _steps(evaluate(expr.base, scope), expr.steps, expr.text, scope)
    if isinstance(expr, Cond):
        test = _as_bool(evaluate(expr.test, scope), expr.test.text)
        if isinstance(test, Unknown):
            return test
        return evaluate(expr.yes if test else expr.no, scope)
    if isinstance(expr, BinOp):
        return _binop(expr, scope)
    if isinstance(expr, Unary):
        return _unary(expr, scope)
    if isinstance(expr, TupleExpr):
        if len(expr.items) > MAX_ITEMS:
            return Unknown(f"{_brief(expr.text)} has too many items to evaluate")
        return [evaluate(item, scope) for item in expr.items]
    if isinstance(expr, ObjectExpr):
        return _object(expr, scope)
    if isinstance(expr, ForExpr):
        return _for(expr, scope)
    if isinstance(expr, Call):
        return _call(expr, scope)
    assert isinstance(expr, Opaque)
    return Unknown(f"{_brief(expr.text)} is not evaluated statically")


def _brief(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def first_unknown(value: object) -> Unknown | None:
    """The first Unknown inside a value (a list or map with one unknown item is unknown)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Unknown):
            return v
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return None


def _string(value: object, text: str) -> str | Unknown:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, ResRef) and value.name is not None and value.attr in NAME_ATTRS:
        return value.name
    if isinstance(value, ResRef):
        return Unknown(f"{_brief(text)} is known only after apply")
    return Unknown(f"{_brief(text)} is not a string")


def _template(expr: Template, scope: Scope) -> object:
    if len(expr.parts) == 1 and not isinstance(expr.parts[0], str):
        return evaluate(expr.parts[0], scope)  # "${x}" is x itself, of any type
    out: list[str] = []
    size = 0
    for part in expr.parts:
        if isinstance(part, str):
            piece: str | Unknown = part
        else:
            piece = _string(evaluate(part, scope), part.text)
        if isinstance(piece, Unknown):
            return piece
        size += len(piece)
        if size > MAX_STRING:
            return Unknown(f"{_brief(expr.text)} is too long to evaluate")
        out.append(piece)
    return "".join(out)


def _ref(ref: Ref, scope: Scope) -> object:
    root, steps = ref.root, ref.steps
    if root in scope.bound:
        return _steps(scope.bound[root], steps, ref.text, scope)
    head = steps[0] if steps and isinstance(steps[0], str) else None
    if root == "var" and head is not None:
        value = scope.variables.get(head, Unknown(f"var.{head} is not declared"))
        return _steps(value, steps[1:], ref.text, scope)
    if root == "local" and head is not None:
        return _steps(scope.local(head), steps[1:], ref.text, scope)
    if root == "each" and head in ("key", "value"):
        if scope.each is None:
            return Unknown(f"{ref.text} is used outside for_each")
        value = scope.each[0] if head == "key" else scope.each[1]
        return _steps(value, steps[1:], ref.text, scope)
    if root == "count" and head == "index":
        if scope.count_index is None:
            return Unknown(f"{ref.text} is used outside count")
        return _steps(scope.count_index, steps[1:], ref.text, scope)
    if root == "module" and head is not None:
        return _module_output(head, steps[1:], ref.text, scope)
    if root in IAM_TYPES and head is not None:
        return _resource_ref(root, head, steps[1:], ref.text, scope)
    return Unknown(f"{_brief(ref.text)} is not known statically")


def _resource_ref(
    rtype: str, name: str, steps: tuple[str | Expr, ...], text: str, scope: Scope
) -> object:
    address = f"{scope.prefix}{rtype}.{name}"
    undecided = False
    if steps and not isinstance(steps[0], str):
        key = evaluate(steps[0], scope)
        undecided = isinstance(key, Unknown)
        address += instance_suffix(key, steps[0].text)
        steps = steps[1:]
    attr = steps[0] if steps and isinstance(steps[0], str) else None
    if len(steps) > 1:
        return Unknown(f"{_brief(text)} is not known statically")
    user_name = scope.users.get(address) if rtype == "aws_iam_user" else None
    name_value = user_name if attr in NAME_ATTRS else None
    return ResRef(rtype, address, attr, name_value, undecided)


def _module_output(name: str, steps: tuple[str | Expr, ...], text: str, scope: Scope) -> object:
    instances = scope.modules.get(name)
    if instances is None:
        return Unknown(f"{_brief(text)} is not known statically")
    suffix = ""
    if steps and not isinstance(steps[0], str):
        suffix = instance_suffix(evaluate(steps[0], scope), steps[0].text)
        steps = steps[1:]
    read = instances.get(suffix)
    if read is None or not steps or not isinstance(steps[0], str):
        return Unknown(f"{_brief(text)} is not known statically")
    return _steps(read(steps[0]), steps[1:], text, scope)


def instance_suffix(key: object, text: str) -> str:
    """``[0]``, ``["alice"]``, or the index expression's text when its value is unknown."""
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        return f"[{text}]"
    if isinstance(key, int):
        return f"[{key}]"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'["{escaped}"]'


def _steps(value: object, steps: tuple[str | Expr, ...], text: str, scope: Scope) -> object:
    for step in steps:
        if isinstance(value, Unknown):
            return value
        key: object = step if isinstance(step, str) else evaluate(step, scope)
        if isinstance(key, Unknown):
            return key
        if isinstance(value, dict) and isinstance(key, str):
            if key not in value:
                return Unknown(f"{_brief(text)} names a missing key {key!r}")
            value = value[key]
        elif isinstance(value, list) and isinstance(key, (int, str)) and not isinstance(key, bool):
            index = _as_int(key)
            if index is None or not 0 <= index < len(value):
                return Unknown(f"{_brief(text)} is out of range")
            value = value[index]
        else:
            return Unknown(f"{_brief(text)} is not known statically")
    return value


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    return None


def _as_bool(value: object, text: str) -> bool | Unknown:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    return Unknown(f"{_brief(text)} is not a bool")


def _as_number(value: object) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            return None
    return None


def _binop(expr: BinOp, scope: Scope) -> object:
    op = expr.op
    left = evaluate(expr.left, scope)
    if op in ("&&", "||"):
        lb = _as_bool(left, expr.left.text)
        # false && x is false and true || x is true whatever x is.
        if lb is (op == "||"):
            return lb
        rb = _as_bool(evaluate(expr.right, scope), expr.right.text)
        if rb is (op == "||"):
            return rb
        return lb if isinstance(lb, Unknown) else rb
    right = evaluate(expr.right, scope)
    for side in (left, right):
        unknown = first_unknown(side)
        if unknown is not None:
            return unknown
    if op in ("==", "!="):
        if isinstance(left, ResRef) or isinstance(right, ResRef):
            return Unknown(f"{_brief(expr.text)} is known only after apply")
        a, b = _as_number(left), _as_number(right)
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            same = a == b and a is not None  # 1 == 1.0, but true != 1
        else:
            same = left == right and type(left) is type(right)
        return same is (op == "==")
    a, b = _as_number(left), _as_number(right)
    if a is None or b is None:
        return Unknown(f"{_brief(expr.text)} is not arithmetic on numbers")
    try:
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b if abs(a) < 1e15 and abs(b) < 1e15 else Unknown("a number is too large")
        if op == "/":
            return a / b
        if op == "%":
            return a % b
    except (ZeroDivisionError, OverflowError):
        return Unknown(f"{_brief(expr.text)} cannot be computed")
    return Unknown(f"{_brief(expr.text)} is not evaluated statically")


def _unary(expr: Unary, scope: Scope) -> object:
    value = evaluate(expr.operand, scope)
    if expr.op == "!":
        b = _as_bool(value, expr.operand.text)
        return b if isinstance(b, Unknown) else not b
    if isinstance(value, Unknown):
        return value
    n = _as_number(value)
    return -n if n is not None else Unknown(f"{_brief(expr.text)} is not a number")


def _object(expr: ObjectExpr, scope: Scope) -> object:
    if len(expr.items) > MAX_ITEMS:
        return Unknown(f"{_brief(expr.text)} has too many items to evaluate")
    out: dict[str, object] = {}
    for key_expr, value_expr in expr.items:
        key = _string(evaluate(key_expr, scope), key_expr.text)
        if isinstance(key, Unknown):
            return key
        out[key] = evaluate(value_expr, scope)
    return out


def _for(expr: ForExpr, scope: Scope) -> object:
    collection = evaluate(expr.collection, scope)
    if isinstance(collection, Unknown):
        return collection
    pairs: list[tuple[object, object]]
    if isinstance(collection, dict):
        pairs = sorted(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        return Unknown(f"{_brief(expr.collection.text)} is not a collection")
    if len(pairs) > MAX_ITEMS:
        return Unknown(f"{_brief(expr.collection.text)} has too many items to evaluate")
    items: list[object] = []
    mapping: dict[str, object] = {}
    for k, v in pairs:
        bound = dict(scope.bound)
        bound[expr.value_var] = v
        if expr.key_var is not None:
            bound[expr.key_var] = k
        inner = scope.child(bound=bound)
        if expr.cond is not None:
            keep = _as_bool(evaluate(expr.cond, inner), expr.cond.text)
            if isinstance(keep, Unknown):
                return Unknown(f"the condition {_brief(expr.cond.text)} is undecided: {keep.why}")
            if not keep:
                continue
        value = evaluate(expr.value, inner)
        if expr.key is None:
            items.append(value)
            continue
        key = _string(evaluate(expr.key, inner), expr.key.text)
        if isinstance(key, Unknown):
            return key
        mapping[key] = value
    return items if expr.key is None else mapping


def _call(expr: Call, scope: Scope) -> object:
    function = _FUNCTIONS.get(expr.name)
    if function is None:
        return Unknown(f"{expr.name}(...) is not evaluated statically")
    args = [evaluate(a, scope) for a in expr.args]
    for arg in args:
        unknown = first_unknown(arg)
        if unknown is not None:
            return unknown
    try:
        return function(args)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return Unknown(f"{_brief(expr.text)} cannot be evaluated")


def _strings(args: list[object]) -> list[str]:
    (items,) = args
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError
    return [i for i in items if isinstance(i, str)]


def _set(args: list[object]) -> object:
    (items,) = args
    if not isinstance(items, list):
        raise TypeError
    return list(dict.fromkeys(str(i) if isinstance(i, (int, float, str)) else i for i in items))


def _length(args: list[object]) -> object:
    (value,) = args
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise TypeError


def _lookup(args: list[object]) -> object:
    mapping, key, *default = args
    if not isinstance(mapping, dict) or not isinstance(key, str) or len(default) > 1:
        raise TypeError
    return mapping[key] if key in mapping else default[0]


def _merge(args: list[object]) -> object:
    out: dict[str, object] = {}
    for arg in args:
        if not isinstance(arg, dict):
            raise TypeError
        out.update(arg)
    return out


def _concat(args: list[object]) -> object:
    out: list[object] = []
    for arg in args:
        if not isinstance(arg, list):
            raise TypeError
        out += arg
    return out


def _keys(args: list[object]) -> object:
    (mapping,) = args
    if not isinstance(mapping, dict):
        raise TypeError
    return sorted(mapping)


def _identity(args: list[object]) -> object:
    (value,) = args
    return value


def _text(function: Callable[[str], str]) -> Callable[[list[object]], object]:
    def apply(args: list[object]) -> object:
        (value,) = args
        if not isinstance(value, str):
            raise TypeError
        return function(value)

    return apply


def _contains(args: list[object]) -> object:
    items, value = args
    if not isinstance(items, list):
        raise TypeError
    return value in items


def _coalesce(args: list[object]) -> object:
    return next(a for a in args if a is not None and a != "")


_FUNCTIONS: dict[str, Callable[[list[object]], object]] = {
    "toset": _set,
    "tolist": _identity,
    "tomap": _identity,
    "tostring": _identity,
    "tonumber": _identity,
    "tobool": _identity,
    "length": _length,
    "lookup": _lookup,
    "merge": _merge,
    "concat": _concat,
    "keys": _keys,
    "contains": _contains,
    "coalesce": _coalesce,
    "lower": _text(str.lower),
    "upper": _text(str.upper),
    "trimspace": _text(str.strip),
    "distinct": lambda args: list(dict.fromkeys(_strings(args))),
}
