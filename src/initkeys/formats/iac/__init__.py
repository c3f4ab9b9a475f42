"""The formats of ``initkeys iac``: an :class:`~initkeys.app.iac.IacRun` → a report.

One module per format, one interface (:class:`IacFormatter`), loaded on demand. The
helpers here (places, messages, ids, the incomplete sentence) are shared so that every
format says the same thing about a finding. Every string read from a scanned file (a
user name, a path, a condition) is written through :func:`initkeys.formats.visible`: a
crafted name must not drive a terminal or break a line.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING

from initkeys.errors import InputError
from initkeys.formats import Renderer, visible
from initkeys.model import Status
from initkeys.sources.iac.records import IacFinding, IacReason, SourceLine

if TYPE_CHECKING:
    from initkeys.app.iac import IacRun

__all__ = [
    "IAC_FORMAT_NAMES",
    "IacFormatter",
    "file_name",
    "finding_message",
    "get_formatter",
    "identified",
    "incomplete_note",
    "parse_format_list",
    "place",
    "places",
]

# name → (module, class, file name in --output-dir). The file names differ from the
# audit's so that one folder can hold both reports.
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "text": ("initkeys.formats.iac.text", "IacTextFormatter", "initkeys-iac.txt"),
    "json": ("initkeys.formats.iac.json_format", "IacJsonFormatter", "initkeys-iac.json"),
    "csv": ("initkeys.formats.iac.csv_format", "IacCsvFormatter", "initkeys-iac.csv"),
    "sarif": ("initkeys.formats.iac.sarif", "IacSarifFormatter", "initkeys-iac.sarif"),
    "junit": ("initkeys.formats.iac.junit", "IacJunitFormatter", "initkeys-iac.junit.xml"),
    "markdown": ("initkeys.formats.iac.markdown", "IacMarkdownFormatter", "initkeys-iac.md"),
}

IAC_FORMAT_NAMES: tuple[str, ...] = tuple(_REGISTRY)


class IacFormatter(Renderer["IacRun"]):
    """An IaC run's format; colour is not used (``render`` takes it as every format does)."""


def get_formatter(name: str) -> IacFormatter:
    import importlib

    module_name, class_name, _ = _REGISTRY[parse_format_list(name)[0]]
    formatter: IacFormatter = getattr(importlib.import_module(module_name), class_name)()
    return formatter


def file_name(name: str) -> str:
    """The file a format is written to under ``--output-dir``."""
    return _REGISTRY[name][2]


def parse_format_list(text: str) -> list[str]:
    """``json,sarif`` → ``["json", "sarif"]``: as the audit's list, of the IaC formats."""
    from initkeys.formats import parse_format_list as parse_names

    for part in text.split(","):
        if part.strip() and part.strip().lower() not in _REGISTRY:
            raise InputError(
                f"unknown output format {visible(part.strip())!r} for iac; choose from: "
                f"{', '.join(IAC_FORMAT_NAMES)}"
            )
    return parse_names(text)  # every IaC format is an audit format too: same order, no repeats


def place(at: SourceLine | None) -> str:
    """``path:line``, ``path`` when the format has no lines (a plan), ``-`` for nowhere."""
    if at is None:
        return "-"
    return visible(at.path if at.line <= 0 else f"{at.path}:{at.line}")


def places(lines: tuple[SourceLine, ...]) -> str:
    return ", ".join(place(at) for at in lines) if lines else "-"


def subject(finding: IacFinding) -> str:
    """Who a finding is about, shown: the user, or the file a note is about."""
    return visible(finding.user) if finding.user else "-"


_SENTENCES = {
    IacReason.SETUP_KEY: (
        "{config} creates IAM user {user}, its console password and an access key for it "
        "in one apply: a setup key (CIS AWS 1.11). Let the user create a key when needed."
    ),
    IacReason.MAYBE_SETUP_KEY: (
        "{config} may create IAM user {user} with a console password and an access key "
        "in one apply, depending on: {conditions}."
    ),
    IacReason.PASSWORD_AND_KEY: (
        "{config} creates a console password and an access key for IAM user {user}, "
        "defined elsewhere, in one apply."
    ),
    IacReason.CONSOLE_USER_NO_KEY: ("{config} creates console user {user} without an access key."),
    IacReason.PROGRAMMATIC_USER: (
        "{config} creates IAM user {user} without a console password: the control does not apply."
    ),
}


def finding_message(finding: IacFinding) -> str:
    """The one sentence every format shows for a finding (a note's own sentence)."""
    if finding.note is not None:
        text = finding.note.what
    else:
        text = _SENTENCES[finding.reason].format(
            config=finding.configuration,
            user=finding.user,
            conditions="; ".join(finding.conditions)
            or ("which configuration is applied" if finding.elsewhere else "a condition"),
        )
        if finding.elsewhere:
            text += f" A key for this user is also created in: {', '.join(finding.elsewhere)}."
    if finding.exemption is not None:
        text += f" Exempt: {finding.exemption.describe()}."
    return visible(text)


def identified(run: IacRun) -> Iterator[tuple[str, IacFinding]]:
    """``(id, finding)``: an id stable across runs (configuration, module, user and the
    file the user or note is in; not the line, so an edit above it does not make a new
    finding, nor the status, so a fixed finding keeps its id); repeats get ``-2``, ``-3``…
    in order."""
    seen: dict[str, int] = {}
    for finding in run.findings:
        at = finding.at
        material = "\x1f".join(
            (
                "iac",
                _same_path(finding.configuration),
                finding.module,
                finding.user,
                finding.note.what if finding.note is not None else "",
                _same_path(at.path) if at is not None else "",
            )
        )
        base = (
            "initkeys-iac-"
            + hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        )
        count = seen.get(base, 0) + 1
        seen[base] = count
        yield (base if count == 1 else f"{base}-{count}"), finding


def _same_path(path: str) -> str:
    """``./infra\\main.tf`` and ``infra/main.tf`` name one file: one id, however typed."""
    return posixpath.normpath(path.replace("\\", "/"))


def incomplete_note(run: IacRun) -> str | None:
    """The sentence every format shows when something could not be read; None otherwise.
    ``--allow-errors`` changes only the exit code, so the sentence stays and says so."""
    if not run.incomplete():
        return None
    n = run.open_counts()[Status.ERROR]
    what = "file or folder" if n == 1 else "files or folders"
    note = f"INCOMPLETE: {n} {what} could not be read: what was not read is not a pass"
    if run.settings.allow_errors:
        note += " (--allow-errors: the exit code ignores it)"
    return note
