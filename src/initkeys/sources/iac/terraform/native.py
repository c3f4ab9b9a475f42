"""A hand-written reader of HCL native syntax (Terraform's ``.tf`` and ``.tfvars``) that
builds the :mod:`.syntax` records directly: one master regex for tokens, read lazily (a
quoted template or a heredoc switches to its own scanning), and recursive descent for
bodies and expressions, with binary operators by precedence climbing (no recursion per
level), so that ``MAX_NESTING`` bounds the stack.

It follows the HCL Native Syntax Specification where python-hcl2 (which initkeys used
before) is more lenient: an attribute or block ends at a newline, object elements are
separated by a comma or a newline, a quoted string does not span lines, and newlines are
insignificant only inside ``( )``, ``[ ]``, ``${ }`` and ``for`` expressions; and where
python-hcl2's values were not Terraform's: ``$${`` is a literal ``${`` (no ``}`` needed), a
``<<-`` heredoc loses its lines' common indent, an empty heredoc is ``""``. Elsewhere it
gives the same records python-hcl2's tree gave (tests/test_iac_hcl.py compares them).
"""

from __future__ import annotations

import re
from typing import NoReturn

from initkeys.sources.iac.limits import MAX_NESTING
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
    Template,
    TfFile,
    TupleExpr,
    Unary,
    VariableDecl,
)


class Unparsable(ValueError):
    """A file initkeys cannot read; ``str()`` is a short phrase (``line 3: unexpected '}'``)."""


_TOKEN = re.compile(
    r"[ \t\r]*(?:"
    r"(?P<nl>(?:\n[ \t\r]*|#[^\n]*|//[^\n]*)+)"
    r"|(?P<bc>/\*.*?\*/)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<num>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r'|(?P<str>"[^"\\$%\n]*")'
    r"|(?P<heredoc><<-?[A-Za-z][A-Za-z0-9._-]*\r?\n)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||=>|\.\.\.|::|[=<>+\-*/%!?:.,()\[\]{}~\"])"
    r")",
    re.S,
)
_match = _TOKEN.match
# A plain value that ends where the expression must end (the usual attribute value): read
# by one match. In a newline-significant context a newline or comment ends it too.
_PLAIN = (
    r'(?:(?P<s>"[^"\\$%\n]*")|(?P<n>[0-9]+)|(?P<r>[A-Za-z_][A-Za-z0-9_-]*'
    r"(?:\.[A-Za-z_][A-Za-z0-9_-]*)*))"
)
_FAST = re.compile(_PLAIN + r"(?=[ \t\r]*(?:[\n#,)\]}]|//))")
_FAST_NL = re.compile(_PLAIN + r"(?=[ \t\r]*[,)\]}])")
# "name = plain value" at once, in a body or an object (both newline-significant).
_ATTR = re.compile(
    r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*(?:(?P<eq>=)(?![=>])|:(?!:))[ \t]*"
    + _PLAIN
    + r"(?=[ \t\r]*(?:[\n#,)\]}]|//))"
)
# A block's labels (plain strings or names, apart) and its "{", read by one match.
_LABEL = r'(?:"([^"\\$%\n]*)"|([A-Za-z_][A-Za-z0-9_-]*)(?![A-Za-z0-9_-]))'
_HEADER = re.compile(rf"((?:{_LABEL}(?:[ \t]+{_LABEL})*)?)[ \t]*\{{")
_LABELS = re.compile(_LABEL)
_STEP = re.compile(r"[ \t]*(?:([A-Za-z_][A-Za-z0-9_-]*)|([0-9]+))")
# A run of template text: python-hcl2's STRING_CHARS without newlines (HCL's quoted
# strings end at the line).
_CHARS = re.compile(r'(?:[^"\\$%\n]|\\[^\n]|\$(?!\$?\{)|%(?!%?\{))+')
_TRAIL = re.compile(r"(?:[ \t\r\n]+|#[^\n]*|//[^\n]*|/\*.*?\*/)*", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_UNICODE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.S)
_PREC = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    ">": 4,
    "<=": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
_KEYWORDS = {"true": True, "false": False, "null": None}
_Body = tuple[list[tuple[str, Expr]], list[tuple[str, list[str], dict[str, Expr], int]]]


def parse_hcl(text: str, path: str = "") -> TfFile:
    """The blocks of one ``.tf`` file; ``path`` is the file as shown (in each resource and
    module call)."""
    _, blocks = _Parser(text).file()
    resources: list[ResourceDecl] = []
    modules: list[ModuleCall] = []
    variables: list[VariableDecl] = []
    local_values: list[tuple[str, Expr]] = []
    outputs: list[tuple[str, Expr]] = []
    for kind, labels, attrs, line in blocks:
        if kind == "resource" and len(labels) == 2:
            resources.append(ResourceDecl(labels[0], labels[1], attrs, line, path))
        elif kind == "module" and len(labels) == 1:
            modules.append(ModuleCall(labels[0], attrs, line, path))
        elif kind == "variable" and len(labels) == 1:
            variables.append(VariableDecl(labels[0], attrs.get("default")))
        elif kind == "locals" and not labels:
            local_values += attrs.items()
        elif kind == "output" and len(labels) == 1 and "value" in attrs:
            outputs.append((labels[0], attrs["value"]))
    return TfFile(
        tuple(resources), tuple(modules), tuple(variables), tuple(local_values), tuple(outputs)
    )


def parse_tfvars_hcl(text: str) -> dict[str, Expr]:
    """The top-level ``name = value`` attributes of a ``.tfvars`` file."""
    attrs, _ = _Parser(text).file()
    return dict(attrs)


def unescape(chars: str) -> str:
    """A quoted string's text with its escapes (``\\n``, ``\\u00e9``) applied."""
    if "\\" not in chars:
        return chars

    def one(m: re.Match[str]) -> str:
        if m.group(1) or m.group(2):
            code = int(m.group(1) or m.group(2), 16)
            return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return _ESCAPES.get(m.group(3), m.group(0))

    return _UNICODE.sub(one, chars)


def template(parts: list[str | Expr], text: str) -> Expr:
    """A template from its parts: adjacent text merged, a lone text part a literal."""
    merged: list[str | Expr] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    if not merged:
        return Lit("", text)
    if len(merged) == 1 and isinstance(merged[0], str):
        return Lit(merged[0], text)
    return Template(tuple(merged), text)


def _number(text: str) -> Expr:
    try:
        return Lit(float(text) if "." in text or "e" in text or "E" in text else int(text), text)
    except (ValueError, OverflowError):
        return Opaque(text)


def _flush(lines: list[str]) -> str:
    """A ``<<-`` heredoc's lines less the fewest leading spaces of any line that is not
    blank (HCL's flush heredoc rule; a blank line is kept as it is)."""
    kept = [line for line in lines if line.strip()]
    cut = min((len(line) - len(line.lstrip()) for line in kept), default=0)
    return "".join((line[cut:] if line.strip() else line) + "\n" for line in lines)


class _Parser:
    """One file's text; ``kind``/``start``/``end`` are the current token, lexed lazily."""

    def __init__(self, text: str) -> None:
        self.t = text + "\n"
        self.kind = ""
        self.start = 0
        self.end = 0
        self.prev_end = 0  # end of the last token taken (or of a binary op's trailing comment)
        self.nl = False  # newlines are insignificant (inside ( ), [ ], ${ }, for)
        self.depth = 0
        self.trailed = -1
        self._line_at = (0, 1)

    # --- tokens -------------------------------------------------------------------------

    def advance(self) -> None:
        t = self.t
        self.prev_end = pos = self.end
        m = _match(t, pos)
        kind: str | None = None
        while m is not None:
            kind = m.lastgroup
            if kind == "nl":
                if not self.nl:
                    break
            elif kind != "bc":
                break
            pos = m.end()  # a comment, or a newline where newlines do not count
            m = _match(t, pos)
        if m is None or kind is None:
            while pos < len(t) and t[pos] in " \t\r\n":
                pos += 1
            if pos < len(t):
                self.fail_at(pos, "unexpected character")
            self.kind, self.start, self.end = "eof", pos, pos
            return
        self.start = m.start(kind)
        self.end = m.end()
        self.kind = m.group(kind) if kind == "op" else kind

    def value(self) -> str:
        return self.t[self.start : self.end]

    def peek_ident(self) -> bool:
        """Whether the token after the current one is a name (``for x`` starts a for)."""
        pos = self.end
        while True:
            m = _TOKEN.match(self.t, pos)
            if m is None or m.lastgroup in (None, "bc", "nl"):
                if m is None or m.lastgroup is None:
                    return False
                pos = m.end()
                continue
            return m.lastgroup == "ident"

    def text(self, start: int) -> str:
        return " ".join(self.t[start : self.prev_end].split())

    def line(self, pos: int) -> int:
        at, line = self._line_at
        if pos < at:
            at, line = 0, 1
        line += self.t.count("\n", at, pos)
        self._line_at = (pos, line)
        return line

    def fail_at(self, pos: int, what: str) -> NoReturn:
        if pos >= len(self.t) - 1 and not self.t[pos:].strip():
            raise Unparsable("not valid HCL (unexpected end of file)")
        raise Unparsable(f"line {self.line(pos)}: not valid HCL ({what})")

    def fail(self) -> NoReturn:
        if self.kind == "eof":
            raise Unparsable("not valid HCL (unexpected end of file)")
        rest = self.t[self.start : self.start + 400].splitlines()
        shown = next((s.strip() for s in rest if s.strip()), "")
        what = f"unexpected {shown[:30]!r}" if shown else "unexpected end of line"
        self.fail_at(self.start, what)

    def expect(self, kind: str) -> None:
        if self.kind != kind:
            self.fail()
        self.advance()

    def close(self, kind: str, saved: bool) -> None:
        if self.kind != kind:
            self.fail()
        self.nl = saved
        self.advance()

    def skip_nl(self) -> None:
        while self.kind == "nl":
            self.advance()

    def deeper(self) -> None:
        # Two per level: python-hcl2's tree (which the limit was first set on) was about
        # twice as deep as the nesting, and this keeps the stack well inside Python's limit.
        self.depth += 2
        if self.depth > MAX_NESTING:
            raise Unparsable(
                f"line {self.line(self.start)}: nested more than {MAX_NESTING} levels deep"
            )

    # --- bodies -------------------------------------------------------------------------

    def file(self) -> _Body:
        try:
            self.advance()
            body = self.body(top=True)
        except RecursionError:
            raise Unparsable("not valid HCL (nested too deeply)") from None
        if self.kind != "eof":
            self.fail()
        return body

    def body(self, *, top: bool) -> _Body:
        attrs: list[tuple[str, Expr]] = []
        blocks: list[tuple[str, list[str], dict[str, Expr], int]] = []
        end = "eof" if top else "}"
        while True:
            self.skip_nl()
            if self.kind == end:
                return attrs, blocks
            if self.kind != "ident":
                self.fail()
            first = self.start
            name = self.t[first : self.end]
            m = _ATTR.match(self.t, first)
            if m is not None and m.group("eq") and (value := self.plain(m)) is not None:
                attrs.append((name, value))
            else:
                self.advance()
                if self.kind == "=":
                    self.advance()
                    attrs.append((name, self.expr()))
                else:
                    block = self.block(first)
                    if top:
                        blocks.append((name, *block))
            if self.kind not in ("nl", end):
                self.fail()

    def block(self, first: int) -> tuple[list[str], dict[str, Expr], int]:
        """A block's labels, its attributes and its first line, from after its type."""
        line = self.line(first)  # here, so that lines are counted forwards only
        labels: list[str] = []
        m = _HEADER.match(self.t, self.start)
        if m is not None:
            labels = [a or b for a, b in _LABELS.findall(m.group(1))]
            self.end = m.end()
            self.kind = "{"
        while self.kind in ("ident", "str", '"'):
            if self.kind == "ident":
                labels.append(self.value())
                self.advance()
            else:
                label = self.string()
                text = label.value if isinstance(label, Lit) else None
                labels.append(text if isinstance(text, str) else label.text)
        if self.kind != "{":
            self.fail()
        self.deeper()
        self.advance()
        inner, _ = self.body(top=False)
        self.depth -= 2
        self.expect("}")
        return labels, dict(inner), line

    # --- expressions --------------------------------------------------------------------

    def expr(self) -> Expr:
        # Binary operators by precedence climbing with explicit stacks, (expr, start, height)
        # and (prec, op), and one frame per nesting level for unary and postfix: a hostile
        # file reaches MAX_NESTING long before Python's recursion limit.
        m = (_FAST_NL if self.nl else _FAST).match(self.t, self.start)
        if m is not None:
            plain = self.plain(m)
            if plain is not None:
                return plain
        self.deeper()
        first = self.start
        operands: list[tuple[Expr, int, int]] = [(self.operand(), first, 0)]
        ops: list[tuple[int, str]] = []
        while self.kind in _PREC:
            prec = _PREC[self.kind]
            while ops and ops[-1][0] >= prec:
                self.reduce(operands, ops, trailing=False)
            ops.append((prec, self.kind))
            self.advance()
            start = self.start
            operands.append((self.operand(), start, 0))
        while ops:
            self.reduce(operands, ops, trailing=True)
        test = operands[0][0]
        if self.kind == "?":
            self.advance()
            yes = self.expr()
            self.expect(":")
            no = self.expr()
            test = Cond(test, yes, no, self.text(first))
        self.depth -= 2
        return test

    def plain(self, m: re.Match[str]) -> Expr | None:
        kind = m.lastgroup
        token = m.group(kind or 0)
        if kind == "s":
            expr: Expr = Lit(token[1:-1], " ".join(token.split()) if " " in token else token)
        elif kind == "n":
            expr = Lit(int(token), token)
        else:
            root, *steps = token.split(".")
            if root in _KEYWORDS:
                if steps:
                    return None
                expr = Lit(_KEYWORDS[root], root)
            else:
                expr = Ref(root, tuple(steps), token)
        self.end = m.end()
        self.advance()
        return expr

    def reduce(
        self, operands: list[tuple[Expr, int, int]], ops: list[tuple[int, str]], *, trailing: bool
    ) -> None:
        right, _, rh = operands.pop()
        left, start, lh = operands.pop()
        _, op = ops.pop()
        height = max(lh, rh) + 1
        if self.depth + 2 * height > MAX_NESTING:
            raise Unparsable(f"line {self.line(start)}: nested more than {MAX_NESTING} levels deep")
        if trailing and self.kind != "?" and self.prev_end != self.trailed:
            # python-hcl2 (and so the records before) count comments right after a binary
            # operation as part of its text; keep that, so a condition reads the same.
            run = _TRAIL.match(self.t, self.prev_end)
            if run is not None:
                self.prev_end += len(self.t[self.prev_end : run.end()].rstrip())
            self.trailed = self.prev_end  # an enclosing operation ends here too: no rescan
        operands.append((BinOp(op, left, right, self.text(start)), start, height))

    def operand(self) -> Expr:
        """A term with its postfix steps, or ``-``/``!`` and one (HCL's ExprTerm)."""
        start = self.start
        unary = self.kind if self.kind in ("-", "!") else ""
        if unary:
            self.advance()
        expr = self.postfix(self.start) if unary else self.postfix(start)
        return Unary(unary, expr, self.text(start)) if unary else expr

    def postfix(self, start: int) -> Expr:
        base = self.primary()
        steps: list[str | Expr] = []
        splat = False
        t = self.t
        while True:
            if self.kind == ".":
                pos = self.end
                if t.startswith("*", pos) and self.start + 1 == pos:
                    splat = True
                    self.end = pos + 1
                    self.advance()
                    continue
                m = _STEP.match(t, pos)
                if m is None:
                    self.advance()
                    self.fail()
                self.end = m.end()
                steps.append(m.group(1) or _number(m.group(2)))
                self.advance()
            elif self.kind == "[":
                if t.startswith("[*]", self.start):
                    splat = True
                    self.end = self.start + 3
                    self.advance()
                    continue
                saved, self.nl = self.nl, True
                self.advance()
                steps.append(self.expr())
                self.close("]", saved)
            else:
                break
        if splat:
            return Opaque(self.text(start))
        if not steps:
            return base
        text = self.text(start)
        if isinstance(base, Ref):
            return Ref(base.root, (*base.steps, *steps), text)
        if isinstance(base, Access):
            return Access(base.base, (*base.steps, *steps), text)
        return Access(base, tuple(steps), text)

    def primary(self) -> Expr:
        kind, start = self.kind, self.start
        if kind == "ident":
            name = self.t[start : self.end]
            self.advance()
            if name in _KEYWORDS:
                return Lit(_KEYWORDS[name], name)
            if self.kind == "(":
                args = self.arguments()
                return Call(name, args, self.text(start))
            if self.kind == "::":  # provider::NAME::FUNC(...): not evaluated
                for _ in range(2):
                    self.expect("::")
                    self.name()
                self.arguments()
                return Opaque(self.text(start))
            return Ref(name, (), name)
        if kind == "num":
            self.advance()
            return _number(self.t[start : self.prev_end])
        if kind == "str":
            self.advance()
            return Lit(self.t[start + 1 : self.prev_end - 1], self.text(start))
        if kind == '"':
            return self.string()
        if kind == "heredoc":
            return self.heredoc()
        if kind == "(":
            saved, self.nl = self.nl, True
            self.advance()
            inner = self.expr()
            self.close(")", saved)
            return inner
        if kind == "[":
            return self.tuple_expr()
        if kind == "{":
            return self.object_expr()
        self.fail()

    def arguments(self) -> tuple[Expr, ...]:
        saved, self.nl = self.nl, True
        self.advance()
        args: list[Expr] = []
        while self.kind != ")":
            args.append(self.expr())
            if self.kind == "...":
                self.advance()
                break
            if self.kind != ",":
                break
            self.advance()
        self.close(")", saved)
        return tuple(args)

    def tuple_expr(self) -> Expr:
        start = self.start
        saved, self.nl = self.nl, True
        self.advance()
        if self.kind == "ident" and self.value() == "for" and self.peek_ident():
            return self.for_expr(start, saved, "]")
        items: list[Expr] = []
        while self.kind != "]":
            items.append(self.expr())
            if self.kind != ",":
                break
            self.advance()
        self.close("]", saved)
        return TupleExpr(tuple(items), self.text(start))

    def object_expr(self) -> Expr:
        start = self.start
        saved, self.nl = self.nl, False
        self.advance()
        self.skip_nl()
        if self.kind == "ident" and self.value() == "for" and self.peek_ident():
            self.nl = True
            return self.for_expr(start, saved, "}")
        items: list[tuple[Expr, Expr]] = []
        while self.kind != "}":
            m = _ATTR.match(self.t, self.start) if self.kind == "ident" else None
            if m is not None and m.group(1) not in _KEYWORDS:
                key: Expr = Lit(m.group(1), m.group(1))
                value = self.plain(m)
                if value is not None:
                    items.append((key, value))
                    if self.kind == ",":
                        self.advance()
                    elif self.kind != "nl":
                        break
                    self.skip_nl()
                    continue
            key = self.expr()
            if isinstance(key, Ref) and not key.steps:
                key = Lit(key.root, key.text)  # a bare name is the key itself
            if self.kind not in ("=", ":"):
                self.fail()
            self.advance()
            items.append((key, self.expr()))
            if self.kind == ",":
                self.advance()
            elif self.kind != "nl":
                break
            self.skip_nl()
        self.close("}", saved)
        return ObjectExpr(tuple(items), self.text(start))

    def for_expr(self, start: int, saved: bool, end: str) -> Expr:
        self.advance()  # "for"
        names = [self.name()]
        if self.kind == ",":
            self.advance()
            names.append(self.name())
        if self.kind != "ident" or self.value() != "in":
            self.fail()
        self.advance()
        collection = self.expr()
        self.expect(":")
        key: Expr | None = None
        value = self.expr()
        grouped = False
        if end == "}":
            self.expect("=>")
            key, value = value, self.expr()
            if self.kind == "...":
                grouped = True
                self.advance()
        cond: Expr | None = None
        if self.kind == "ident" and self.value() == "if":
            self.advance()
            cond = self.expr()
        self.close(end, saved)
        text = self.text(start)
        if grouped:
            return Opaque(text)  # grouping mode: rare, not evaluated
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        return ForExpr(key_var, value_var, collection, key, value, cond, text)

    def name(self) -> str:
        if self.kind != "ident":
            self.fail()
        name = self.value()
        self.advance()
        return name

    # --- templates ----------------------------------------------------------------------

    def string(self) -> Expr:
        """A quoted template; the current token is its opening quote."""
        if self.kind == "str":
            start = self.start
            self.advance()
            return Lit(self.t[start + 1 : self.prev_end - 1], self.text(start))
        t, start = self.t, self.start
        parts: list[str | Expr] = []
        opaque = False
        i = start + 1
        while True:
            m = _CHARS.match(t, i)
            if m is not None:
                parts.append(unescape(m.group()))
                i = m.end()
            c = t[i]
            if c == '"':
                break
            if t.startswith("$${", i) or t.startswith("%%{", i):
                parts.append(t[i + 1 : i + 3])  # a literal "${" or "%{"
                i += 3
            elif t.startswith("${", i) or t.startswith("%{", i):
                directive = c == "%"
                i, part = self.interpolation(i + 2, directive)
                if directive or part is None:
                    opaque = True
                else:
                    parts.append(part)
            else:  # a newline, a lone backslash or the end of the text
                self.fail_at(start, "a quoted string does not end on its line")
        self.end = i + 1
        self.advance()
        text = self.text(start)
        return Opaque(text) if opaque else template(parts, text)

    def interpolation(self, pos: int, directive: bool) -> tuple[int, Expr | None]:
        """``${ expr }`` or ``%{ directive }`` from just after its opening; the position
        after its ``}`` and the expression (None where it is not a plain one)."""
        saved, self.nl = self.nl, True
        self.end = pos
        self.advance()
        plain = True
        if self.kind == "~":
            plain = False
            self.advance()
        expr: Expr | None = None
        if directive:
            word = self.name() if self.kind == "ident" else ""
            if word == "if":
                self.expr()
            elif word == "for":
                self.name()
                if self.kind == ",":
                    self.advance()
                    self.name()
                if self.kind != "ident" or self.value() != "in":
                    self.fail()
                self.advance()
                self.expr()
            elif word not in ("else", "endif", "endfor"):
                self.fail()
        else:
            expr = self.expr()
        if self.kind == "~":
            plain = False
            self.advance()
        if self.kind != "}":
            self.fail()
        self.nl = saved
        return self.end, expr if plain else None

    def heredoc(self) -> Expr:
        t, start = self.t, self.start
        opener = t[start : self.end].rstrip("\r\n")
        marker = opener.lstrip("<-")
        i = self.end
        while True:
            j = t.find("\n", i)
            if j < 0:
                self.fail()
            line = t[i:j]
            if line.endswith("\r"):
                line = line[:-1]
            if line.lstrip() == marker:
                break
            i = j + 1
        raw = t[start : j + 1]
        self.end = j  # the newline after the marker still ends the attribute
        self.advance()
        text = self.text(start)
        lines = raw.split("\n")[1:-2]  # between the opener and the marker
        body = "".join(line + "\n" for line in lines)
        if "${" in body or "%{" in body:
            return Opaque(text)
        if opener.startswith("<<-"):
            body = _flush(lines)
        return Lit(body, text)
