"""``--format json``: the JSON report of ``docs/verdicts.md``, schema_version 1.

Its JSON Schema, ``initkeys/schemas/report-v1.json``, describes every field
written here (``tests/test_report_schema.py`` holds the two together).

The document is written piece by piece, one finding at a time: an offline run
may hold a million findings, and building the whole document as one dict would
copy every one of them. The bytes are the same as ``json.dumps(document,
indent=2)`` would give, so the output stays plain, indented, valid JSON.

Fields are only ever added within schema_version 1: ``control.see_also`` and
``numbering``, ``result``, ``complete``/``allow_errors``/``incomplete`` (fail
closed), ``account_name``, ``report_lines``, ``notes``, and on every finding
its ``id``, ``setup_gap_seconds`` and the CloudTrail evidence came after the
first release; a reader (``remediate --from-audit``) requires none of them.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, TextIO

from initkeys.control import CONTROL
from initkeys.formats import Formatter, identified_findings, incomplete_note, seconds
from initkeys.model import (
    STATUS_ORDER,
    AccountAudit,
    AuditRun,
    Exemption,
    Finding,
    FindingView,
    LightFinding,
    Reason,
    Status,
)
from initkeys.timeutil import format_utc

SCHEMA_VERSION = 1
_INDENT = 2


class JsonFormatter(Formatter):
    name = "json"

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        write = out.write
        write("{\n")
        for key, value in _head(run, tool_version).items():
            write(_member(key, value, level=1) + ",\n")
        write(_pad(1) + '"accounts": ')
        if not run.accounts:
            write("[],\n")
        else:
            write("[\n")
            for index, account in enumerate(run.accounts):
                _write_account(account, out, level=2)
                write(",\n" if index < len(run.accounts) - 1 else "\n")
            write(_pad(1) + "],\n")
        write(_member("summary", summary(run), level=1) + "\n")
        write("}\n")


def control_document() -> dict[str, Any]:
    """The control's metadata as the contract spells it: the fields of ``CONTROL``, in order."""
    return {**asdict(CONTROL), "references": list(CONTROL.references)}


def finding_document(finding: FindingView, finding_id: str) -> dict[str, Any]:
    """One finding as the contract spells it, with its stable id first."""
    return {"id": finding_id, **finding_fields(finding)}


def finding_fields(finding: FindingView) -> dict[str, Any]:
    """A finding as JSON data: the one shape of a finding in the report, SARIF's properties
    and the guard's message (which takes a subset of it)."""
    return {
        "user": finding.user,
        "arn": finding.arn,
        "key_slot": finding.key_slot,
        "access_key_id": finding.access_key_id,
        "status": finding.status.value,
        "reason": finding.reason.value,
        "active": finding.active,
        "user_created": finding.user_created_utc,
        "key_created": finding.key_created_utc,
        "setup_gap_seconds": seconds(finding.setup_gap),
        "last_used": finding.last_used_utc,
        "password_created": finding.password_created_utc,
        "message": finding.message,
        "exemption": exemption_document(finding.exemption),
        "exemption_expired": exemption_document(finding.expired_exemption),
        "created_by": finding.created_by,
        "created_via": finding.created_via,
        "created_from": finding.created_from,
        "evidence_note": finding.evidence_note,
    }


def exemption_document(exemption: Exemption | None) -> dict[str, Any] | None:
    """An exemption as the report shows it: why, from where, until when."""
    if exemption is None:
        return None
    return {
        "reason": exemption.reason,
        "source": exemption.source,
        "expires": exemption.expires.isoformat() if exemption.expires else None,
        "pattern": exemption.pattern,
    }


def report_lines_document(account: AccountAudit) -> dict[str, int] | None:
    """An added account field, ``report_lines``: how a report file's non-blank data lines
    were accounted for (read == judged + unreadable; an unreadable line is an ERROR
    ``invalid-row`` finding). Null for an account not judged from a report file alone."""
    lines = account.report_lines
    if lines is None:
        return None
    return {"read": lines.read, "judged": lines.judged, "unreadable": lines.unreadable}


def summary(run: AuditRun) -> dict[str, int]:
    """Findings per status, every status present, in the contract's order."""
    counts = run.counts()
    return {status.value: counts[status] for status in STATUS_ORDER}


def _head(run: AuditRun, tool_version: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "initkeys", "version": tool_version},
        "control": control_document(),
        "mode": run.settings.mode.value,
        "setup_window_seconds": seconds(run.settings.setup_window),
        "generated_at": format_utc(run.generated_at),
        "result": run.status.value,
        # Fail closed: whether every account and row was judged, whether the exit
        # code was told to ignore it, and the sentence the other formats show.
        "complete": not run.incomplete(),
        "allow_errors": run.settings.allow_errors,
        "incomplete": incomplete_note(run),
    }


def _write_account(account: AccountAudit, out: TextIO, level: int) -> None:
    write = out.write
    head = {
        "account_id": account.account_id,
        "account_name": account.account_name,
        "partition": account.partition,
        "source": account.source,
        "report_generated_at": format_utc(account.report_generated_at),
        "status": account.status.value,
        "error": account.error,
        "report_lines": report_lines_document(account),
        # Added: sentences about the input (a redacted account id); [] when none.
        "notes": list(account.notes),
    }
    write(_pad(level) + "{\n")
    for key, value in head.items():
        write(_member(key, value, level + 1) + ",\n")
    # The contract: an account that could not be audited has no findings.
    findings = () if account.error is not None else account.findings
    write(_pad(level + 1) + '"findings": ')
    if not findings:
        write("[]\n")
    else:
        flat = FlatFinding(level + 2)
        messages = LightMessages()
        # Items joined by ",\n" and written a batch at a time: two writes per finding
        # were about 8 % of a large report's JSON time (cProfile).
        batch: list[str] = []
        add = batch.append
        before = "[\n"
        for finding_id, finding in identified_findings(account):
            if type(finding) is LightFinding:
                add(flat.light(finding_id, finding, _escape(messages(finding))))
            elif finding.exemption is None and finding.expired_exemption is None:
                add(flat(finding_id, finding))
            else:  # nested objects: the general (slower) layout
                document = finding_document(finding, finding_id)
                add(_pad(level + 2) + _dumps(document, level + 2))
            if len(batch) >= _BATCH:
                write(before + ",\n".join(batch))
                before = ",\n"
                batch.clear()
        if batch:
            write(before + ",\n".join(batch))
        write("\n" + _pad(level + 1) + "]\n")
    write(_pad(level) + "}")


_BATCH = 2048  # findings a write


def _member(key: str, value: Any, level: int) -> str:
    return f"{_pad(level)}{json.dumps(key)}: {_dumps(value, level)}"


def _dumps(value: Any, level: int) -> str:
    """``value`` indented as if it sat ``level`` deep in one ``json.dumps(..., indent=2)``."""
    # JSON strings never hold a raw newline (it is escaped), so every newline
    # in the dump is a line break of the layout and can take the extra indent.
    return json.dumps(value, indent=_INDENT).replace("\n", "\n" + _pad(level))


def _flat_object(document: dict[str, Any], level: int) -> str:
    """Same text as :func:`_dumps`, for a dict of scalars, several times faster.

    ``json.dumps`` with ``indent`` falls back to the pure-Python encoder; without
    ``indent`` the C encoder runs, and its item separator can carry the line
    break and indentation, which gives the indented layout for a flat dict.
    """
    inner = _pad(level + 1)
    encoder = _FLAT_ENCODERS.get(level)
    if encoder is None:
        encoder = _FLAT_ENCODERS[level] = json.JSONEncoder(separators=(",\n" + inner, ": "))
    return "{\n" + inner + encoder.encode(document)[1:-1] + "\n" + _pad(level) + "}"


_FLAT_ENCODERS: dict[int, json.JSONEncoder] = {}


class FlatFinding:
    """A finding without exemptions as :func:`_flat_object` lays out its
    :func:`finding_document`, byte for byte, written straight from its fields.

    The dict and the encoder's walk over it were most of a finding's cost in a
    large offline run; the keys are fixed, so only the values need encoding.
    """

    def __init__(self, level: int | None, tail: str = "") -> None:
        """Indented ``level`` deep as in the JSON report; or, for ``None``, in
        ``json.dumps``' compact layout (SARIF's properties) with ``tail`` (serialized
        members, e.g. ``, "account_id": "1"``) before the closing brace."""
        if level is None:
            start, between, close = "{", ", ", tail.replace("%", "%%") + "}"
        else:
            inner = _pad(level + 1)
            start, between, close = (
                _pad(level) + "{\n" + inner,
                ",\n" + inner,
                "\n" + _pad(level) + "}",
            )
        # finding_fields' keys, in its order; __call__ gives the values in that order
        # (test_offline_identity holds the two layouts together).
        blank = Finding(user="", arn="", status=Status.PASS, reason=Reason.KEY_USED, message="")
        keys = [json.dumps(key).replace("%", "%%") for key in finding_fields(blank)]
        # No exemption on this path: those two values are constants. A light finding
        # (evaluate.light) has no key id and no evidence either.
        nulls = ('"exemption"', '"exemption_expired"')
        light_nulls = {json.dumps(key) for key in _NOT_LIGHT}
        self.template = "".join(
            [start + '"id": %s']
            + [between + key + ": " + ("null" if key in nulls else "%s") for key in keys]
            + [close]
        )
        self.light_template = "".join(
            [start + '"id": %s']
            + [between + key + ": " + ("null" if key in light_nulls else "%s") for key in keys]
            + [close]
        )

    def light(self, finding_id: str, f: LightFinding, message: str | None = None) -> str:
        """:meth:`__call__` for a light finding: its cells unpacked, its nulls constant.
        ``message``: the finding's message already encoded, if the caller has it."""
        user, arn, status, reason, slot, active, user_created, key_created, used, password, gap = f
        # _time() of the *_utc texts (AWS's form, less "+00:00", plus "Z": LightFinding's
        # _utc) inline; the enums by their text (an enum's hash is a Python call).
        return (
            self.light_template
            % (
                _escape(finding_id),
                _escape(user),
                _escape(arn),
                "null" if slot is None else int.__repr__(slot),
                _QUOTED_TEXT[status._value_],
                _QUOTED_TEXT[reason._value_],
                "null" if active is None else ("true" if active else "false"),
                "null" if user_created is None else '"' + user_created[:19] + 'Z"',
                "null" if key_created is None else '"' + key_created[:19] + 'Z"',
                "null" if gap is None else int.__repr__(int(gap.total_seconds())),  # seconds()
                "null" if used is None else '"' + used[:19] + 'Z"',
                "null" if password is None else '"' + password[:19] + 'Z"',
                _escape(f.message) if message is None else message,
            )
        )

    def __call__(self, finding_id: str, f: FindingView, message: str | None = None) -> str:
        gap = f.setup_gap
        return self.template % (
            _text(finding_id),
            _text(f.user),
            _text(f.arn),
            _scalar(f.key_slot),
            _scalar(f.access_key_id),
            _text(f.status.value),
            _text(f.reason.value),
            _scalar(f.active),
            _time(f.user_created_utc),
            _time(f.key_created_utc),
            "null" if gap is None else _scalar(int(gap.total_seconds())),  # seconds()
            _time(f.last_used_utc),
            _time(f.password_created_utc),
            _text(f.message) if message is None else message,
            _scalar(f.created_by),
            _scalar(f.created_via),
            _scalar(f.created_from),
            _scalar(f.evidence_note),
        )


_FlatFinding = FlatFinding  # its first name (tests)


class LightMessages:
    """Light findings' messages, worded once per kind: a message is the user's name
    between a head and a tail that depend only on the reason, the key's slot, whether it
    is active and the setup gap; a large report repeats those facts on most rows.

    The parts come from the finding's own ``message`` with a placeholder for the name
    (so the wording stays evaluate's); a kind whose message does not hold the name
    exactly once is worded in full each time. Held per account and bounded (``limit``
    kinds): setup gaps of real reports are mostly distinct past the setup window.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._parts: dict[tuple[object, ...], tuple[str, str] | None] = {}
        self._limit = limit

    def __call__(self, f: LightFinding) -> str:
        # The reason's text, not the member: an enum's hash is a Python call.
        key = (f[3]._value_, f[4], f[5], f[10])
        parts = self._parts.get(key, _UNSEEN)
        if parts is _UNSEEN:
            if len(self._parts) >= self._limit:  # gaps of every length: no longer worth it
                return f.message
            parts = self._parts[key] = _message_parts(f)
        if parts is None:
            return f.message
        return parts[0] + f[0] + parts[1]


_UNSEEN = ("", "")
_NAME = "\x00"  # no message's own words hold a NUL


def _message_parts(f: LightFinding) -> tuple[str, str] | None:
    """The message of ``f`` before and after its user's name; None if not made so."""
    probe: LightFinding = tuple.__new__(LightFinding, (_NAME, *f[1:]))
    parts = probe.message.split(_NAME)
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


# The fields a light finding never has (finding_fields' keys).
_NOT_LIGHT = frozenset(
    {
        "access_key_id",
        "exemption",
        "exemption_expired",
        "created_by",
        "created_via",
        "created_from",
        "evidence_note",
    }
)
_QUOTED: dict[Status | Reason, str] = {v: json.dumps(v.value) for v in (*Status, *Reason)}
_QUOTED_TEXT = {v.value: quoted for v, quoted in _QUOTED.items()}

_escape = json.encoder.encode_basestring_ascii  # what json.dumps does to a str (ensure_ascii)


def _text(value: object) -> str:
    """:func:`_scalar`, for a value that is nearly always a str."""
    return _escape(value) if type(value) is str else _scalar(value)


def _time(text: str | None) -> str:
    """``json.dumps(text)`` of a ``format_utc`` text: digits, ``-:.TZ``, nothing to escape."""
    return "null" if text is None else '"' + text + '"'


def _scalar(value: object) -> str:
    """``json.dumps(value)`` for the values a flat finding holds."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is str:
        return _escape(value)
    if type(value) is int:
        return int.__repr__(value)
    return json.dumps(value)


def _pad(level: int) -> str:
    return " " * (_INDENT * level)
