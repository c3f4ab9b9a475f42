"""A CloudFormation template's text → plain values (dict, list, str, None) and the line
of each logical ID under ``Resources``; or :class:`Unreadable` with one reason.

YAML is read from the parser's events, never constructed: no tag can build a Python
object (``!!python/object`` is refused), aliases are counted as they would expand (a
billion-laughs document stops at :data:`~initkeys.sources.iac.limits.MAX_YAML_ALIASES`),
nesting stops at :data:`~initkeys.sources.iac.limits.MAX_NESTING`, and the short-form
intrinsic functions (``!Ref``, ``!GetAtt A.B`` …) become their long forms. JSON is read by
:func:`initkeys.inputs.load_json`; a small token pass finds the logical IDs' lines (JSON
parsers keep none) and refuses duplicate keys, which JSON parsers silently drop.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from initkeys.inputs import BadJson, load_json
from initkeys.sources.iac import limits
from initkeys.sources.iac._names import shorten


class Unreadable(Exception):
    """Why the template cannot be read, and where (``line`` 0 when unknown)."""

    def __init__(self, problem: str, line: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


Lines = dict[str, int]
"""Logical ID → 1-based line of its key under ``Resources``."""

# The short forms CloudFormation documents ("Intrinsic function reference"), and the
# long form each stands for.
_FUNCTIONS = [
    *("And", "Base64", "Cidr", "Equals", "FindInMap", "ForEach", "GetAtt", "GetAZs", "If"),
    *("ImportValue", "Join", "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString"),
    "Transform",
]
SHORT_TAGS = {f"!{name}": f"Fn::{name}" for name in _FUNCTIONS} | {
    "!Ref": "Ref",
    "!Condition": "Condition",
}
# Plain YAML types: read as their text (a template names things; it never needs a number's
# value, and int("9" * 10**6) would be slow).
_PLAIN_TAGS = {None, "!"} | {
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "timestamp", "binary")
}
_NULL_TAG = "tag:yaml.org,2002:null"
_NULLS = {"", "~", "null", "Null", "NULL"}


def load_template(text: str) -> tuple[list[Any], Lines]:
    """The documents in ``text`` (one for a template) and the logical IDs' lines."""
    if len(text) > limits.MAX_FILE_BYTES:
        raise Unreadable(f"larger than {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.lstrip(" \t\r\n").startswith("{"):
        try:
            return [load_json(text)], json_lines(text)
        except BadJson as e:
            json_error = Unreadable(str(e))
        except Unreadable as e:
            json_error = e
        # A flow-style YAML mapping also starts with "{" (and may use !Ref).
        try:
            return yaml_documents(text)
        except Unreadable:
            raise json_error from None
    return yaml_documents(text)


# -- JSON ---------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],]')


@dataclass
class _JsonFrame:
    is_object: bool
    in_resources: bool
    keys: set[str] = field(default_factory=set)
    expect_key: bool = True
    key: str | None = None


def json_lines(text: str) -> Lines:
    """Lines of the keys of the top-level ``Resources`` object in valid JSON ``text``;
    :class:`Unreadable` for a key written twice in one object."""
    lines: Lines = {}
    stack: list[_JsonFrame] = []
    line, counted = 1, 0  # newlines are counted only up to the keys whose line is kept
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        top = stack[-1] if stack else None
        if token in ("{", "["):
            in_resources = (
                len(stack) == 1 and top is not None and top.is_object and top.key == "Resources"
            )
            stack.append(_JsonFrame(is_object=token == "{", in_resources=in_resources))
        elif token in ("}", "]"):
            stack.pop()
        elif token == ",":
            if top is not None and top.is_object:
                top.expect_key, top.key = True, None
        elif top is not None and top.is_object and top.expect_key:
            key = json.loads(token) if "\\" in token else token[1:-1]
            if key in top.keys or top.in_resources:
                line += text.count("\n", counted, match.start())
                counted = match.start()
            if key in top.keys:
                raise Unreadable(f"the key '{shorten(key)}' is written twice", line)
            top.keys.add(key)
            top.expect_key, top.key = False, key
            if top.in_resources:
                lines[key] = line
    return lines


# -- YAML ---------------------------------------------------------------------------------


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    tag: str | None
    anchor: str | None
    line: int
    in_resources: bool
    key: str | None = None
    aliases: int = 0
    """Alias expansions inside this node so far (nested aliases counted as expanded)."""


@dataclass
class _Anchor:
    value: Any
    aliases: int


class _Builder:
    def __init__(self) -> None:
        self.documents: list[Any] = []
        self.lines: Lines = {}
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: set[str] = set()
        self.expanded = 0

    def event(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.ScalarEvent):
            self.scalar(event, line)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self.open(event, line)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.close()
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event.anchor, line)

    def scalar(self, event: yaml.ScalarEvent, line: int) -> None:
        tag, value = event.tag, event.value
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            if tag not in _PLAIN_TAGS:
                raise Unreadable(f"a mapping key is tagged {_tag(tag)}", line)
            self.key(top, value, line)
            return
        result: Any
        if tag in _PLAIN_TAGS:
            plain = event.style is None and event.implicit[0]
            result = None if plain and value in _NULLS else value
        elif tag == _NULL_TAG:
            result = None
        elif tag in SHORT_TAGS:
            result = _intrinsic(tag, value)
        else:
            raise Unreadable(f"the tag {_tag(tag)} is not a CloudFormation tag", line)
        self.put(result, event.anchor, 0)

    def key(self, frame: _Frame, key: str, line: int) -> None:
        assert isinstance(frame.container, dict)
        if key in frame.container:
            raise Unreadable(f"the key '{shorten(key)}' is written twice", line)
        frame.key = key
        if frame.in_resources:
            self.lines[key] = line

    def open(self, event: yaml.CollectionStartEvent, line: int) -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            raise Unreadable("a mapping key is not a string", line)
        if len(self.stack) >= limits.MAX_NESTING:
            raise Unreadable(f"nested deeper than {limits.MAX_NESTING} levels", line)
        if event.tag not in _PLAIN_TAGS and event.tag not in SHORT_TAGS:
            raise Unreadable(f"the tag {_tag(event.tag)} is not a CloudFormation tag", line)
        in_resources = (
            len(self.stack) == 1
            and top is not None
            and isinstance(top.container, dict)
            and top.key == "Resources"
        )
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        container: dict[str, Any] | list[Any] = {} if is_mapping else []
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(container, event.tag, event.anchor, line, in_resources))

    def close(self) -> None:
        frame = self.stack.pop()
        value: Any = frame.container
        if frame.tag in SHORT_TAGS:
            value = _intrinsic(frame.tag, value)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
        self.put(value, frame.anchor, frame.aliases)

    def alias(self, name: str, line: int) -> None:
        if name in self.open_anchors:
            raise Unreadable(f"the alias *{shorten(name)} refers to itself", line)
        anchor = self.anchors.get(name)
        if anchor is None:
            raise Unreadable(f"the alias *{shorten(name)} has no anchor", line)
        # Walking the value would expand every alias inside it again: count them all.
        self.expanded += 1 + anchor.aliases
        if self.expanded > limits.MAX_YAML_ALIASES:
            raise Unreadable(
                f"aliases expand more than {limits.MAX_YAML_ALIASES} times (a YAML bomb?)", line
            )
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            raise Unreadable("a mapping key is an alias", line)
        self.put(anchor.value, None, 1 + anchor.aliases)

    def put(self, value: Any, anchor: str | None, aliases: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = _Anchor(value, aliases)
        if not self.stack:
            self.documents.append(value)
            return
        top = self.stack[-1]
        top.aliases += aliases
        if isinstance(top.container, list):
            top.container.append(value)
        else:
            assert top.key is not None
            top.container[top.key] = value
            top.key = None


def yaml_documents(text: str) -> tuple[list[Any], Lines]:
    """Every YAML document in ``text`` as plain values, and the logical IDs' lines."""
    builder = _Builder()
    # libyaml when present (fast, and its parser keeps no Python recursion).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            builder.event(event)
    except yaml.YAMLError as e:
        raise _yaml_error(e, text) from None
    except RecursionError:
        raise Unreadable(f"nested deeper than {limits.MAX_NESTING} levels") from None
    except UnicodeError:
        # A lone surrogate (text decoded with surrogateescape) cannot reach the parser.
        raise Unreadable("not UTF-8 text") from None
    return builder.documents, builder.lines


def _yaml_error(error: yaml.YAMLError, text: str) -> Unreadable:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if isinstance(error, yaml.reader.ReaderError):
        position = error.position if isinstance(error.position, int) else 0
        return Unreadable(f"invalid YAML: {error.reason}", text.count("\n", 0, position) + 1)
    if not isinstance(problem, str):
        problem = (str(error).splitlines() or ["not YAML"])[0]
    return Unreadable(f"invalid YAML: {problem}", mark.line + 1 if mark is not None else 0)


def _intrinsic(tag: str, value: Any) -> dict[str, Any]:
    name = SHORT_TAGS[tag]
    if name == "Fn::GetAtt" and isinstance(value, str):
        # !GetAtt Resource.Attribute: the logical ID has no dots, the attribute may.
        resource, _, attribute = value.partition(".")
        return {name: [resource, attribute]}
    return {name: value}


def _tag(tag: str | None) -> str:
    return shorten(str(tag).replace("tag:yaml.org,2002:", "!!"))
