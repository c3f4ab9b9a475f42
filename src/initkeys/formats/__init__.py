"""The formats stage: an :class:`~initkeys.model.AuditRun` → text, JSON or CSV.

One module per format, one interface (:class:`Formatter`). Format modules are
imported only when asked for: rich is slow to import, and ``initkeys --version``
must start fast.

The small helpers here (timestamps, gaps) are shared by every format so that
text, JSON and CSV agree on what a value looks like.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol, TextIO

from initkeys.errors import InputError

if TYPE_CHECKING:
    from datetime import timedelta

    from initkeys.model import AuditRun

__all__ = ["FORMAT_NAMES", "Formatter", "get_formatter", "iso_utc", "seconds"]

FORMAT_NAMES: tuple[str, ...] = ("text", "json", "csv")


class Formatter(Protocol):
    """Writes a whole audit run to ``out`` in one format."""

    name: str

    def render(
        self,
        run: AuditRun,
        out: TextIO,
        *,
        color: bool = False,
        tool_version: str = ...,
    ) -> None:
        """Write ``run`` to ``out``; ``color`` matters only to formats that have it."""
        ...


def get_formatter(name: str) -> Formatter:
    """The formatter called ``name`` (one of :data:`FORMAT_NAMES`)."""
    key = name.strip().lower()
    # Imports are local on purpose: see the module docstring.
    if key == "text":
        from initkeys.formats.text import TextFormatter

        return TextFormatter()
    if key == "json":
        from initkeys.formats.json_format import JsonFormatter

        return JsonFormatter()
    if key == "csv":
        from initkeys.formats.csv_format import CsvFormatter

        return CsvFormatter()
    raise InputError(f"unknown output format {name!r}; choose one of: {', '.join(FORMAT_NAMES)}")


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix, or None.

    A naive datetime is taken to be UTC already: every source parses AWS
    timestamps, which are UTC.
    """
    if moment is None:
        return None
    if moment.tzinfo is timezone.utc:  # the common case, kept fast for big reports
        text = moment.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    text = moment.astimezone(timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


def seconds(delta: timedelta | None) -> int | None:
    """Whole seconds of a duration (toward zero), or None."""
    if delta is None:
        return None
    return int(delta.total_seconds())
