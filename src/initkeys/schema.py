"""The JSON report contract (``initkeys/schemas/report-v1.json``), and a lean validator for it.

The schema is the one description of ``--format json``: the writer is tested
against it with the ``jsonschema`` library, and ``remediate --from-audit``
validates a report with it before reading a field. ``jsonschema`` pulls in
attrs, referencing and rpds-py, too much for a runtime dependency, so the
reader uses this validator of the JSON Schema subset the schema is written in:
``type`` (with ``null`` unions), ``properties``, ``required``,
``additionalProperties``, ``items``, ``enum``, ``const``, ``minimum``/``maximum``,
``minLength``/``maxLength``, ``pattern`` and ``format: date-time`` (read with
:func:`initkeys.timeutil.parse_utc`, so a timestamp the reader accepts is one
initkeys can compute with). ``tests/test_report_schema.py`` holds it to ``jsonschema``'s
answers. Any other keyword is refused when the schema is loaded, not ignored.

Errors name the JSON path: ``accounts[0].findings[3]: unknown status 'MAYBE'
(not one of FAIL, ERROR, WARNING, PASS, NOT_APPLICABLE)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from initkeys.timeutil import parse_utc

REPORT_SCHEMA = "report-v1.json"

# Keywords that only describe: they never make a document invalid.
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "$comment"})
_KEYWORDS = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
}
# At most this many characters of a value are shown in an error: it is hostile input.
_SHOWN = 40


class SchemaError(ValueError):
    """A document the schema does not accept; ``str(error)`` names the path and the rule."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


@cache
def load_schema(name: str = REPORT_SCHEMA) -> Mapping[str, Any]:
    """A schema shipped in the package (``initkeys/schemas/NAME``), checked to be in the subset."""
    shipped = resources.files("initkeys").joinpath("schemas").joinpath(name)
    text = shipped.read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    check_subset(schema)
    return schema


def check_subset(schema: Mapping[str, Any], where: str = "#") -> None:
    """ValueError when ``schema`` uses a keyword this validator does not apply.

    A keyword silently skipped would let through what the schema refuses."""
    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise ValueError(f"schema {where}: unsupported keywords {sorted(unknown)}")
    if schema.get("format", "date-time") != "date-time":
        raise ValueError(f"schema {where}: unsupported format {schema['format']!r}")
    types = schema.get("type", [])
    for name in [types] if isinstance(types, str) else types:
        if name not in _EXACT:  # the JSON types
            raise ValueError(f"schema {where}: unknown type {name!r}")
    for name, sub in schema.get("properties", {}).items():
        check_subset(sub, f"{where}/properties/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            check_subset(schema[key], f"{where}/{key}")


def validate(document: Any, schema: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`SchemaError` for the first rule ``document`` breaks (the report schema
    unless another is given); return when it is valid."""
    check = _report_check() if schema is None else _compile(schema)
    check(document, ())


JsonPath = tuple[str | int, ...]
_Check = Callable[[Any, JsonPath], None]


@cache
def _report_check() -> _Check:
    return _compile(load_schema())


# The schema is turned into closures once: a report may hold a million findings, and
# looking each keyword up again for every value made reading one five times slower.
def _compile(schema: Mapping[str, Any]) -> _Check:
    steps: list[_Check] = []
    if "type" in schema:
        steps.append(_type_step(schema["type"]))
    if "const" in schema:
        steps.append(_const_step(schema["const"]))
    if "enum" in schema:
        steps.append(_enum_step(list(schema["enum"])))
    if "minimum" in schema or "maximum" in schema:
        steps.append(_number_step(schema.get("minimum"), schema.get("maximum")))
    if {"minLength", "maxLength", "pattern", "format"} & set(schema):
        steps.append(_string_step(schema))
    if {"required", "properties", "additionalProperties"} & set(schema):
        steps.append(_object_step(schema))
    if "items" in schema:
        steps.append(_array_step(_compile(schema["items"])))
    if len(steps) == 1:
        return steps[0]

    def check(value: Any, path: JsonPath) -> None:
        for step in steps:
            step(value, path)

    return check


# json.loads gives exactly these types; anything else goes the slower way through _is.
_EXACT: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "array": (list,),
    "object": (dict,),
}


def _python_types(declared: str | list[str]) -> frozenset[type]:
    """The Python types json.loads gives for the JSON type(s) ``declared``."""
    types = [declared] if isinstance(declared, str) else declared
    return frozenset(kind for name in types for kind in _EXACT[name])


def _type_step(declared: str | list[str]) -> _Check:
    types = [declared] if isinstance(declared, str) else list(declared)
    exact = _python_types(declared)

    def check(value: Any, path: JsonPath) -> None:
        if type(value) in exact or any(_is(value, name) for name in types):
            return
        # Python's type names ("wrong type (str)"), as the reader has always said.
        raise _invalid(
            path, f"has the wrong type ({type(value).__name__}), not {' or '.join(types)}"
        )

    return check


def _const_step(expected: Any) -> _Check:
    def check(value: Any, path: JsonPath) -> None:
        if not _equal(value, expected):
            raise _invalid(path, f"is {_shown(value)}, not {_shown(expected)}")

    return check


def _enum_step(options: list[Any]) -> _Check:
    strings = frozenset(o for o in options if isinstance(o, str))

    def check(value: Any, path: JsonPath) -> None:
        if type(value) is str and value in strings:
            return
        if not any(_equal(value, option) for option in options):
            raise SchemaError(_path(path), _not_one_of(value, options, path))

    return check


def _number_step(minimum: float | None, maximum: float | None) -> _Check:
    def check(value: Any, path: JsonPath) -> None:
        if not _is(value, "number"):
            return
        if minimum is not None and value < minimum:
            raise _invalid(path, f"is {_shown(value)}, less than {minimum}")
        if maximum is not None and value > maximum:
            raise _invalid(path, f"is {_shown(value)}, more than {maximum}")

    return check


def _string_step(schema: Mapping[str, Any]) -> _Check:
    shortest: int | None = schema.get("minLength")
    longest: int | None = schema.get("maxLength")
    pattern: str | None = schema.get("pattern")
    # JSON Schema patterns are not anchored: a search, as jsonschema does it.
    search = re.compile(pattern).search if pattern is not None else None
    timestamp = schema.get("format") == "date-time"

    def check(value: Any, path: JsonPath) -> None:
        if not isinstance(value, str):
            return
        if shortest is not None and len(value) < shortest:
            raise _invalid(path, f"is shorter than {shortest} characters")
        if longest is not None and len(value) > longest:
            raise _invalid(path, f"is longer than {longest} characters")
        if search is not None and not search(value):
            raise _invalid(path, f"{_shown(value)} does not match {pattern}")
        if timestamp and parse_utc(value) is None:
            raise _invalid(path, f"is not a timestamp: {_shown(value)}")

    return check


def _object_step(schema: Mapping[str, Any]) -> _Check:
    required = tuple(schema.get("required", ()))
    properties = tuple(
        (name, _compile(sub), _only_types(sub))
        for name, sub in schema.get("properties", {}).items()
    )
    known = frozenset(name for name, _, _ in properties)
    extra = schema.get("additionalProperties", True)
    extra_check = _compile(extra) if isinstance(extra, Mapping) else None

    def check(value: Any, path: JsonPath) -> None:
        if not isinstance(value, dict):
            return
        for name in required:
            if name not in value:
                raise SchemaError(_path((*path, name)), f"{_within(path)}{name} is missing")
        for name, child, fast in properties:
            if name in value:
                member = value[name]
                if type(member) not in fast:  # a plain member of a plain type: no call
                    child(member, (*path, name))
        if extra is True:
            return
        for name in value:
            if name in known:
                continue
            if extra_check is None:
                raise SchemaError(
                    _path((*path, name)), f"{_within(path)}{_key(name)} is not allowed"
                )
            extra_check(value[name], (*path, name))

    return check


def _only_types(schema: Mapping[str, Any]) -> frozenset[type]:
    """The Python types that alone make a value valid under ``schema`` (none when
    another keyword has a say)."""
    if not set(schema) <= _ANNOTATIONS | {"type"} or "type" not in schema:
        return frozenset()
    return _python_types(schema["type"])


def _array_step(item: _Check) -> _Check:
    def check(value: Any, path: JsonPath) -> None:
        if isinstance(value, list):
            for index, element in enumerate(value):
                item(element, (*path, index))

    return check


def _is(value: Any, name: str) -> bool:
    if name not in ("integer", "number"):
        return isinstance(value, _EXACT[name])
    # bool is an int in Python, but neither a number nor an integer in JSON.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    # JSON Schema: 1.0 is an integer, as jsonschema counts it.
    return name == "number" or isinstance(value, int) or value.is_integer()


def _equal(value: Any, expected: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value is expected
    if isinstance(value, (list, dict)) or isinstance(expected, (list, dict)):
        return type(value) is type(expected) and bool(value == expected)
    return bool(value == expected)


def _not_one_of(value: Any, options: Sequence[Any], path: JsonPath) -> str:
    listed = ", ".join(str(o) for o in options[:8]) + (", …" if len(options) > 8 else "")
    if path and isinstance(path[-1], str):
        # "unknown mode 'lenient'": the words the reader has always used.
        return f"{_within(path[:-1])}unknown {path[-1]} {_shown(value)} (not one of {listed})"
    return f"{_subject(path)}: {_shown(value)} is not one of {listed}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:_SHOWN])
    return repr(value)[:_SHOWN]


def _key(name: str) -> str:
    return name if name.isidentifier() else _shown(name)


def _path(path: JsonPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{_shown(part)}]"
    return text


def _invalid(path: JsonPath, rule: str) -> SchemaError:
    """The error for the value at ``path``: ``accounts[0].status is …``."""
    return SchemaError(_path(path), f"{_subject(path)} {rule}")


def _subject(path: JsonPath) -> str:
    return _path(path) or "the top level"


def _within(path: JsonPath) -> str:
    """The prefix naming where a member is: ``accounts[0]: `` (nothing at the top level)."""
    return f"{_path(path)}: " if path else ""
