"""``--format junit``: JUnit XML, so that a CI system shows the audit as tests.

``<testsuites>`` holds one ``<testsuite>`` per account (named by its id, and
its name in AWS Organizations when known) and one ``<testcase>`` per finding
(``classname`` ``initkeys.<account id>``, ``name`` the user and key). A test
case fails the way the exit code does:

- FAIL: ``<failure>``.
- WARNING: ``<failure>`` when the run's ``--fail-on`` is WARNING; otherwise the
  test case passes and the warning is in its ``<system-out>``.
- ERROR (a row that could not be read): ``<error>``; the user was not judged.
  With ``--allow-errors`` (the exit code then ignores ERROR): ``<skipped>``,
  with the error, so that CI fails exactly when the exit code says so.
- PASS: passes. NOT_APPLICABLE (root, users without a console password):
  ``<skipped>``, with the reason.
- An exempt FAIL, WARNING or ERROR: ``<skipped>``, with the exemption's reason.
- An account that could not be audited: one test case ``account audit`` with
  an ``<error>`` (``<skipped>`` with ``--allow-errors``).

Every suite's properties say whether the run is ``complete`` (false when an
account could not be audited or a finding is ERROR) and ``allow_errors``.

Each test case carries the finding's stable id (and its status and reason) as
``<properties>``, and with ``--cloudtrail`` the evidence it has (``created_by``,
``created_via``, ``created_from``, ``evidence_note``), also in a failure's body.
Counts on every suite and on ``<testsuites>`` are those of the test cases.
``timestamp`` is the run's time in UTC, without a zone suffix
as the JUnit schema has it.

All text is data: it is escaped for XML, characters XML 1.0 cannot hold
(control characters, lone surrogates) become visible escapes (``\\x1b``), and
everything outside ASCII is written as a character reference, so the document
is well-formed in any output encoding.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TextIO

from initkeys.control import CONTROL
from initkeys.formats import (
    Formatter,
    finding_views,
    identified_findings,
    seconds,
    visible_escape,
)
from initkeys.model import AccountAudit, AuditRun, FindingView, Reason, Settings, Status
from initkeys.timeutil import format_utc

# Escaped as in every format (formats.visible_escape), but only what XML cannot
# hold: the document is data for CI tools, not text shown on a terminal.
# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The common case, which needs no escaping: printable ASCII without & < > (and
# without " in attributes; character data may also hold line breaks).
_PLAIN_TEXT = re.compile("[\n !-%'-;=?-~]*")
_PLAIN_ATTR = re.compile("[ !#-%'-;=?-~]*")
# Enum values by member: a dict lookup, not the enum's ``value`` property, per test case.
_VALUE: dict[Status | Reason, str] = {v: v.value for v in (*Status, *Reason)}
_MARKUP = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_TEXT = str.maketrans(_MARKUP)
# In attributes, also the quote, and the whitespace a parser would normalize.
_ATTR = str.maketrans({**_MARKUP, '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


class JunitFormatter(Formatter):
    name = "junit"

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        write = out.write
        settings = run.settings
        complete = not run.incomplete()
        # The counts come first in the document: one counting pass, then the writing one.
        tallies = [_tally(account, settings) for account in run.accounts]
        total = sum(tallies, Counter[str]())
        timestamp = (format_utc(run.generated_at) or "").removesuffix("Z")
        name = f"initkeys {tool_version}: CIS AWS Foundations {CONTROL.id}"
        write('<?xml version="1.0" encoding="UTF-8"?>\n')
        stamp = f"timestamp={xml_attr(timestamp)}"
        write(f"<testsuites name={xml_attr(name)} {_counts(total)} {stamp}>\n")
        for account, tally in zip(run.accounts, tallies, strict=True):
            suite = account.account_id
            if account.account_name:
                suite += f" ({account.account_name})"
            write(f"  <testsuite name={xml_attr(suite)} {_counts(tally)} {stamp}>\n")
            write("    <properties>\n")
            for key, value in _suite_properties(account, settings, complete):
                write(f"      <property name={xml_attr(key)} value={xml_attr(value)}/>\n")
            write("    </properties>\n")
            if account.error is not None:
                write(
                    f'    <testcase classname={xml_attr(_classname(account))} name="account audit" '
                    'time="0">\n'
                    f"      {_account_error(account.error, settings)}\n"
                    "    </testcase>\n"
                )
            else:
                classname = xml_attr(_classname(account))  # once an account, not a finding
                for finding_id, finding in identified_findings(account):
                    _write_case(out, classname, finding, finding_id, settings)
            write("  </testsuite>\n")
        write("</testsuites>\n")


def xml_text(value: str) -> str:
    """``value`` as XML character data."""
    if _PLAIN_TEXT.fullmatch(value):
        return value
    return _ascii(_NOT_XML.sub(visible_escape, value).translate(_TEXT))


def xml_attr(value: str) -> str:
    """``value`` as a quoted XML attribute value."""
    if _PLAIN_ATTR.fullmatch(value):
        return f'"{value}"'
    return '"' + _ascii(_NOT_XML.sub(visible_escape, value).translate(_ATTR)) + '"'


def _ascii(value: str) -> str:
    return value if value.isascii() else value.encode("ascii", "xmlcharrefreplace").decode()


def _account_error(error: str, settings: Settings) -> str:
    """The outcome element of an account that could not be audited."""
    if settings.allow_errors:
        return f"<skipped message={xml_attr('not audited (--allow-errors): ' + error)}/>"
    return f'<error type="account-not-audited" message={xml_attr(error)}/>'


def _outcome(finding: FindingView, settings: Settings) -> str:
    """``failure``, ``error``, ``skipped``, ``warning`` (passes, with output) or ``pass``."""
    status = finding.status
    if status is Status.NOT_APPLICABLE:
        return "skipped"
    if status is Status.PASS:
        return "pass"
    if finding.exemption is not None:
        return "skipped"
    if status is Status.ERROR:
        # --allow-errors: the exit code ignores ERROR, so CI must too.
        return "skipped" if settings.allow_errors else "error"
    if status is Status.WARNING and settings.fail_on.rank > Status.WARNING.rank:
        return "warning"
    return "failure"


def _tally(account: AccountAudit, settings: Settings) -> Counter[str]:
    """The account's test cases by outcome (see :func:`_outcome`)."""
    if account.error is not None:
        return Counter(["skipped" if settings.allow_errors else "error"])
    return Counter(_outcome(finding, settings) for finding in finding_views(account))


def _counts(tally: Counter[str]) -> str:
    """A suite's count attributes; every test case is one of the outcomes."""
    return (
        f'tests="{tally.total()}" failures="{tally["failure"]}" errors="{tally["error"]}" '
        f'skipped="{tally["skipped"]}" time="0"'
    )


def _classname(account: AccountAudit) -> str:
    return f"initkeys.{account.account_id}"


def _write_case(
    out: TextIO, classname: str, finding: FindingView, finding_id: str, settings: Settings
) -> None:
    """One test case; ``classname`` is the account's, as an attribute value."""
    write = out.write
    slot = finding.key_slot
    reason = finding.reason
    name = finding.user if slot is None else f"{finding.user} access key {slot}"
    # The id, status and reason are ours (hex digits, enum values): nothing to escape.
    write(
        f"    <testcase classname={classname} "
        f'name={xml_attr(name)} time="0">\n'
        "      <properties>\n"
        f'        <property name="id" value="{finding_id}"/>\n'
        f'        <property name="status" value="{_VALUE[finding.status]}"/>\n'
        f'        <property name="reason" value="{_VALUE[reason]}"/>\n'
    )
    for name, value in _trail_properties(finding):
        write(f"        <property name={xml_attr(name)} value={xml_attr(value)}/>\n")
    write("      </properties>\n")
    outcome = _outcome(finding, settings)
    if outcome in ("failure", "error"):
        write(
            f'      <{outcome} type="{_VALUE[reason]}" '
            f"message={xml_attr(finding.message)}>{xml_text(_evidence(finding, finding_id))}"
            f"</{outcome}>\n"
        )
    elif outcome == "skipped":
        write(f"      <skipped message={xml_attr(_skip_message(finding))}/>\n")
    elif outcome == "warning":
        body = f"WARNING {finding.reason.value}: {finding.message}\n"
        write(f"      <system-out>{xml_text(body + _evidence(finding, finding_id))}</system-out>\n")
    write("    </testcase>\n")


def _skip_message(finding: FindingView) -> str:
    if finding.exemption is not None and finding.status is not Status.NOT_APPLICABLE:
        exemption = finding.exemption
        return (
            f"exempt ({finding.status.value} {finding.reason.value}): {exemption.reason} "
            f"[{exemption.scope}]"
        )
    if finding.status is Status.ERROR:
        return f"not judged (ERROR {finding.reason.value}, --allow-errors): {finding.message}"
    return f"not applicable ({finding.reason.value}): {finding.message}"


def _evidence(finding: FindingView, finding_id: str) -> str:
    """The finding's facts, one per line, as the body of a failure or an error."""
    gap = seconds(finding.setup_gap)
    lines = [
        ("message", finding.message),
        ("id", finding_id),
        ("user", finding.user),
        ("arn", finding.arn),
        ("key", None if finding.key_slot is None else str(finding.key_slot)),
        ("access key id", finding.access_key_id),
        ("active", None if finding.active is None else str(finding.active).lower()),
        ("user created", finding.user_created_utc),
        ("key created", finding.key_created_utc),
        ("setup gap seconds", None if gap is None else str(gap)),
        ("last used", finding.last_used_utc or ("never" if finding.key_slot else None)),
        ("password created", finding.password_created_utc),
        *((name.replace("_", " "), value) for name, value in _trail_properties(finding)),
    ]
    return "".join(f"{label}: {value}\n" for label, value in lines if value is not None)


def _trail_properties(finding: FindingView) -> list[tuple[str, str]]:
    """The CloudTrail evidence (--cloudtrail) the finding has: who made the key, how,
    from where, or why no event was found. None without --cloudtrail."""
    if (
        finding.created_by is None
        and finding.evidence_note is None
        and finding.created_via is None
        and finding.created_from is None
    ):
        return []  # no --cloudtrail: the common case, without the tuples
    evidence = (
        ("created_by", finding.created_by),
        ("created_via", finding.created_via),
        ("created_from", finding.created_from),
        ("evidence_note", finding.evidence_note),
    )
    return [(name, value) for name, value in evidence if value is not None]


def _suite_properties(
    account: AccountAudit, settings: Settings, complete: bool
) -> list[tuple[str, str]]:
    properties = [
        ("account_id", account.account_id),
        ("partition", account.partition),
        ("source", account.source),
        ("mode", settings.mode.value),
        ("setup_window_seconds", str(seconds(settings.setup_window))),
        ("fail_on", settings.fail_on.value),
        ("status", account.status.value),
        ("complete", str(complete).lower()),
        ("allow_errors", str(settings.allow_errors).lower()),
    ]
    if account.account_name:
        properties.append(("account_name", account.account_name))
    if account.report_generated_at is not None:
        properties.append(("report_generated_at", format_utc(account.report_generated_at) or ""))
    return properties
