"""The Terraform reader's HCL path as it was before initkeys' own reader (native.py):
python-hcl2's Lark parser and a converter from its tree to the syntax records. Kept only
for tests/test_iac_hcl.py, which checks that both readers give the same records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from initkeys.sources.iac.limits import MAX_NESTING
from initkeys.sources.iac.terraform.hcl import Unparsable
from initkeys.sources.iac.terraform.native import template as _template
from initkeys.sources.iac.terraform.native import unescape as _unescape
from initkeys.sources.iac.terraform.syntax import (
    Access,
    BinOp,
    Call,
    Cond,
    Expr,
    ForExpr,
    Lit,
    ModuleCall,
    ObjectExpr,
    Opaque,
    Ref,
    ResourceDecl,
    TfFile,
    TupleExpr,
    Unary,
    VariableDecl,
)

_SKIP = frozenset({"new_line_or_comment"})


def parse_hcl(text: str) -> TfFile:
    """The blocks of one ``.tf`` file."""
    tree = _tree(text)
    return _file(_Converter(text), tree)


def parse_tfvars_hcl(text: str) -> dict[str, Expr]:
    """The top-level ``name = value`` attributes of a ``.tfvars`` file."""
    tree = _tree(text)
    conv = _Converter(text)
    return {name: expr for name, expr, _ in conv.attributes(_body(tree))}


def _tree(text: str) -> Tree[Any]:
    try:
        tree = hcl2.parses_to_tree(text)
    except UnexpectedToken as e:
        raise Unparsable(f"line {e.line}: not valid HCL (unexpected {_short(e.token)})") from None
    except UnexpectedCharacters as e:
        raise Unparsable(f"line {e.line}: not valid HCL (unexpected character)") from None
    except UnexpectedEOF:
        raise Unparsable("not valid HCL (unexpected end of file)") from None
    except (LarkError, RecursionError) as e:
        raise Unparsable(f"not valid HCL ({type(e).__name__})") from None
    _check_depth(tree)
    return tree


def _short(token: object) -> str:
    lines = [line.strip() for line in str(token).splitlines() if line.strip()]
    return repr(lines[0][:30]) if lines else "end of line"


def _check_depth(tree: Tree[Any]) -> None:
    # Iterative, so that a hostile file is refused before any recursive pass reads it.
    stack: list[tuple[Tree[Any], int]] = [(tree, 0)]
    limit = MAX_NESTING
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            line = getattr(node.meta, "line", None) if not node.meta.empty else None
            where = f"line {line}: " if line else ""
            raise Unparsable(f"{where}nested more than {limit} levels deep")
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))


def _body(tree: Tree[Any]) -> Tree[Any]:
    (body,) = [c for c in tree.children if isinstance(c, Tree) and c.data == "body"]
    return body


def _file(conv: _Converter, tree: Tree[Any]) -> TfFile:
    resources: list[ResourceDecl] = []
    modules: list[ModuleCall] = []
    variables: list[VariableDecl] = []
    local_values: list[tuple[str, Expr]] = []
    outputs: list[tuple[str, Expr]] = []
    for block in _kids(_body(tree), "block"):
        kind, labels, body = conv.block_head(block)
        line = block.meta.line
        if kind == "resource" and len(labels) == 2:
            attrs = {n: e for n, e, _ in conv.attributes(body)}
            resources.append(ResourceDecl(labels[0], labels[1], attrs, line, ""))
        elif kind == "module" and len(labels) == 1:
            attrs = {n: e for n, e, _ in conv.attributes(body)}
            modules.append(ModuleCall(labels[0], attrs, line, ""))
        elif kind == "variable" and len(labels) == 1:
            attrs = {n: e for n, e, _ in conv.attributes(body)}
            variables.append(VariableDecl(labels[0], attrs.get("default")))
        elif kind == "locals" and not labels:
            local_values += [(n, e) for n, e, _ in conv.attributes(body)]
        elif kind == "output" and len(labels) == 1:
            attrs = {n: e for n, e, _ in conv.attributes(body)}
            if "value" in attrs:
                outputs.append((labels[0], attrs["value"]))
    return TfFile(
        tuple(resources), tuple(modules), tuple(variables), tuple(local_values), tuple(outputs)
    )


def _kids(node: Tree[Any], data: str) -> Iterator[Tree[Any]]:
    return (c for c in node.children if isinstance(c, Tree) and c.data == data)


def _trees(node: Tree[Any]) -> list[Tree[Any]]:
    return [c for c in node.children if isinstance(c, Tree) and c.data not in _SKIP]


class _Converter:
    """Lark tree → :mod:`.syntax` nodes; source text from the tree's positions."""

    def __init__(self, text: str) -> None:
        self.text = text + "\n"

    def src(self, node: Tree[Any] | Token) -> str:
        if isinstance(node, Token):
            return str(node)
        if node.meta.empty:
            return ""
        return " ".join(self.text[node.meta.start_pos : node.meta.end_pos].split())

    def block_head(self, block: Tree[Any]) -> tuple[str, list[str], Tree[Any]]:
        names: list[str] = []
        body: Tree[Any] | None = None
        for child in block.children:
            if not isinstance(child, Tree):
                continue
            if child.data == "body":
                body = child
            elif child.data == "string":
                names.append(self.string_literal(child))
            elif child.data in ("identifier", "keyword", "literal_value"):
                names.append(self.src(child))
        if body is None or not names:  # the grammar makes both present; be sure
            raise Unparsable(f"line {block.meta.line}: a block without a body")
        return names[0], names[1:], body

    def string_literal(self, node: Tree[Any]) -> str:
        expr = self.string(node)
        if isinstance(expr, Lit) and isinstance(expr.value, str):
            return expr.value
        return expr.text

    def attributes(self, body: Tree[Any]) -> Iterator[tuple[str, Expr, int]]:
        for attr in _kids(body, "attribute"):
            name_node, *_, value = [c for c in attr.children if isinstance(c, Tree)]
            name = self.src(name_node)
            if name_node.data == "string":
                name = self.string_literal(name_node)
            yield name, self.expr(value), attr.meta.line

    def expr(self, node: Tree[Any] | Token) -> Expr:
        if isinstance(node, Token):
            return Opaque(str(node))
        text = self.src(node)
        kind = node.data
        kids = _trees(node)
        if kind == "expr_term":
            return self.expr(kids[0]) if len(kids) == 1 else Opaque(text)
        if kind == "int_lit":
            return self.number(text, int)
        if kind == "float_lit":
            return self.number(text, float)
        if kind == "literal_value":
            return Lit({"true": True, "false": False}.get(text), text)
        if kind == "string":
            return self.string(node)
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self.heredoc(node, text)
        if kind in ("identifier", "keyword"):
            return Ref(text, (), text)
        if kind in ("get_attr_expr_term", "index_expr_term"):
            base = self.expr(kids[0])
            step = self.step(kids[1])
            if isinstance(base, Ref):
                return Ref(base.root, (*base.steps, step), text)
            if isinstance(base, Access):
                return Access(base.base, (*base.steps, step), text)
            return Access(base, (step,), text)
        if kind == "conditional":
            test, yes, no = (self.expr(k) for k in kids)
            return Cond(test, yes, no, text)
        if kind == "binary_op":
            left, term = kids[0], kids[1]
            op_node, right = _trees(term)
            return BinOp(self.src(op_node).strip(), self.expr(left), self.expr(right), text)
        if kind == "unary_op":
            op = str(node.children[0])
            return Unary(op, self.expr(kids[0]), text)
        if kind == "tuple":
            return TupleExpr(tuple(self.expr(k) for k in kids), text)
        if kind == "object":
            return ObjectExpr(tuple(self.object_elem(k) for k in kids), text)
        if kind == "function_call":
            name = self.src(kids[0])
            args = [a for a in kids[1:] if a.data == "arguments"]
            values = tuple(self.expr(a) for a in _trees(args[0])) if args else ()
            if len(kids) > 2 and any(k.data == "identifier" for k in kids[1:]):
                return Opaque(text)  # provider::NAME::FUNC(...)
            return Call(name, values, text)
        if kind in ("for_tuple_expr", "for_object_expr"):
            return self.for_expr(node, kind == "for_object_expr", text)
        return Opaque(text)

    def number(self, text: str, kind: type[int] | type[float]) -> Expr:
        try:
            return Lit(kind(text), text)
        except (ValueError, OverflowError):
            return Opaque(text)

    def step(self, node: Tree[Any]) -> str | Expr:
        if node.data == "get_attr":
            return self.src(_trees(node)[0])
        if node.data == "short_index":
            return self.number(str(node.children[-1]), int)
        if node.data == "braces_index":
            return self.expr(_trees(node)[0])
        return Opaque(self.src(node))

    def object_elem(self, node: Tree[Any]) -> tuple[Expr, Expr]:
        key_node, value = _trees(node)
        (key_expr,) = _trees(key_node) if _trees(key_node) else [key_node]
        key = self.expr(key_expr)
        if isinstance(key, Ref) and not key.steps:
            key = Lit(key.root, key.text)  # a bare name is the key itself, not a reference
        return key, self.expr(value)

    def string(self, node: Tree[Any]) -> Expr:
        parts: list[str | Expr] = []
        for part in _kids(node, "string_part"):
            child = part.children[0]
            if isinstance(child, Token):
                if child.type == "STRING_CHARS":
                    parts.append(_unescape(str(child)))
                else:  # $${...} and %%{...} are literal text
                    parts.append(str(child)[1:])
            elif child.data == "interpolation":
                parts.append(self.expr(_trees(child)[0]))
            else:
                return Opaque(self.src(node))
        return _template(parts, self.src(node))

    def heredoc(self, node: Tree[Any], text: str) -> Expr:
        raw = str(node.children[0])
        lines = raw.split("\n")
        body = "\n".join(lines[1:-2]) + "\n" if len(lines) > 2 else ""
        if "${" in body or "%{" in body:
            return Opaque(text)
        return Lit(body, text)

    def for_expr(self, node: Tree[Any], is_object: bool, text: str) -> Expr:
        kids = _trees(node)
        intro = kids[0]
        names = [self.src(k) for k in _trees(intro) if k.data == "identifier"]
        coll = [k for k in _trees(intro) if k.data != "identifier"]
        if not coll or not names:
            return Opaque(text)
        rest = kids[1:]
        cond: Expr | None = None
        if rest and rest[-1].data == "for_cond":
            cond = self.expr(_trees(rest[-1])[0])
            rest = rest[:-1]
        if any(str(t) == "..." for t in node.children if isinstance(t, Token)):
            return Opaque(text)  # grouping mode: rare, not evaluated
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        collection = self.expr(coll[0])
        if is_object and len(rest) == 2:
            return ForExpr(
                key_var, value_var, collection, self.expr(rest[0]), self.expr(rest[1]), cond, text
            )
        if not is_object and len(rest) == 1:
            return ForExpr(key_var, value_var, collection, None, self.expr(rest[0]), cond, text)
        return Opaque(text)
