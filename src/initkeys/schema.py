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
initkeys can compute with). ``tests/test_schema.py`` holds it to ``jsonschema``'s
answers. Any other keyword is refused when the schema is loaded, not ignored.

Errors name the JSON path: ``accounts[0].findings[3]: unknown status 'MAYBE'
(not one of FAIL, ERROR, WARNING, PASS, NOT_APPLICABLE)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
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
_TYPES = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})
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
        if name not in _TYPES:
            raise ValueError(f"schema {where}: unknown type {name!r}")
    for name, sub in schema.get("properties", {}).items():
        check_subset(sub, f"{where}/properties/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            check_subset(schema[key], f"{where}/{key}")


def validate(document: Any, schema: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`SchemaError` for the first rule ``document`` breaks (the report schema
    unless another is given); return when it is valid."""
    _check(document, load_schema() if schema is None else schema, ())


JsonPath = tuple[str | int, ...]


def _check(value: Any, schema: Mapping[str, Any], path: JsonPath) -> None:
    if "type" in schema:
        types = schema["type"]
        types = [types] if isinstance(types, str) else types
        if not any(_is(value, name) for name in types):
            # Python's type names ("wrong type (str)"), as the reader has always said.
            raise SchemaError(
                _path(path),
                f"{_subject(path)} has the wrong type ({type(value).__name__}), "
                f"not {' or '.join(types)}",
            )
    if "const" in schema and not _equal(value, schema["const"]):
        raise SchemaError(
            _path(path), f"{_subject(path)} is {_shown(value)}, not {_shown(schema['const'])}"
        )
    if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
        raise SchemaError(_path(path), _not_one_of(value, schema["enum"], path))
    if _is(value, "number"):
        _check_number(value, schema, path)
    elif isinstance(value, str):
        _check_string(value, schema, path)
    elif isinstance(value, dict):
        _check_object(value, schema, path)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check(item, schema["items"], (*path, index))


def _check_number(value: float, schema: Mapping[str, Any], path: JsonPath) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise SchemaError(
            _path(path), f"{_subject(path)} is {_shown(value)}, less than {schema['minimum']}"
        )
    if "maximum" in schema and value > schema["maximum"]:
        raise SchemaError(
            _path(path), f"{_subject(path)} is {_shown(value)}, more than {schema['maximum']}"
        )


def _check_string(value: str, schema: Mapping[str, Any], path: JsonPath) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise SchemaError(
            _path(path), f"{_subject(path)} is shorter than {schema['minLength']} characters"
        )
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaError(
            _path(path), f"{_subject(path)} is longer than {schema['maxLength']} characters"
        )
    # JSON Schema patterns are not anchored: a search, as jsonschema does it.
    if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
        raise SchemaError(
            _path(path), f"{_subject(path)} {_shown(value)} does not match {schema['pattern']}"
        )
    if schema.get("format") == "date-time" and parse_utc(value) is None:
        raise SchemaError(_path(path), f"{_subject(path)} is not a timestamp: {_shown(value)}")


def _check_object(value: dict[str, Any], schema: Mapping[str, Any], path: JsonPath) -> None:
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaError(_path((*path, name)), f"{_within(path)}{name} is missing")
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name, sub in properties.items():
        if name in value:
            _check(value[name], sub, (*path, name))
    extra = schema.get("additionalProperties", True)
    if extra is True:
        return
    for name in value:
        if name in properties:
            continue
        if extra is False:
            raise SchemaError(_path((*path, name)), f"{_within(path)}{_key(name)} is not allowed")
        _check(value[name], extra, (*path, name))


def _is(value: Any, name: str) -> bool:
    # bool is an int in Python, but neither a number nor an integer in JSON.
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
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


@lru_cache(maxsize=64)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


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


def _subject(path: JsonPath) -> str:
    return _path(path) or "the top level"


def _within(path: JsonPath) -> str:
    """The prefix naming where a member is: ``accounts[0]: `` (nothing at the top level)."""
    return f"{_path(path)}: " if path else ""
