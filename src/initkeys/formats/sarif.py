"""``--format sarif``: SARIF 2.1.0, for SARIF viewers and result aggregators.

One run, one tool (``initkeys``) with two rules:

- ``CIS-AWS-1.11`` (index 0): the control, with its description, solution and
  references. Each FAIL finding is a result of level ``error``, each WARNING a
  result of level ``warning``. PASS and NOT_APPLICABLE findings are counted in
  ``run.properties.summary`` but are not results.
- ``INITKEYS-NOT-JUDGED`` (index 1): a user whose row could not be read (or,
  live, re-read), so the control could not be judged for it. Each ERROR finding
  is a result of level ``error`` under this rule rather than a notification: it
  is about one user, has a stable id like any finding, and may hide a failing
  key, so it belongs in the result list where it is seen and can be tracked.

Where each result lies is told with logical locations (an IAM account has no
source file). ``run.logicalLocations`` holds every account (kind
``namespace``: an account scopes IAM names the way a namespace scopes
identifiers) and every user with a result (kind ``resource``, name = user name,
fully qualified name = ARN, ``parentIndex`` = its account). A key is written
inline in its result (kind ``resource``, name ``access_key_1`` as in the
credential report's columns, fully qualified name ``<user ARN>#access_key_1``,
``parentIndex`` = its user); a user-level result refers to the cached user.
A finding read from a credential report file also gets a ``physicalLocation``
naming that file (no region: a finding carries no line number).

The stable finding id is both ``fingerprints`` and ``partialFingerprints``
(``initkeysFindingId/v1``). An exempt finding has one ``external`` suppression
with ``status: accepted`` and the exemption's reason as its justification;
every other result has ``suppressions: []`` (the spec wants all or none).
Accounts that could not be audited are ``invocations[0].toolExecutionNotifications``
of level ``error``. The audit fails closed: when the run is incomplete (an account
could not be audited, or a finding is ERROR) ``executionSuccessful`` is false and
a ``RUN-INCOMPLETE`` notification says what was not seen, with ``--allow-errors``
too (it changes only the exit code; ``run.properties`` has ``complete`` and
``allow_errors``).

Results are written one by one (each on one line): an offline run may hold a
million findings. Each is ``json.dumps`` of :func:`result_document`, written from a
per-account template with only the finding's cells encoded (exempt findings take
the general way; ``tests/test_offline_sarif.py`` holds the two together). Only the
users that have a result are remembered (name, ARN, account), for
``run.logicalLocations``, and only the listed findings' ids are hashed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain
from typing import Any, TextIO
from urllib.parse import quote

from initkeys.control import CONTROL
from initkeys.formats import Formatter, identified_findings, incomplete_note, seconds, write_array
from initkeys.formats.json_format import (
    FlatFinding,
    LightMessages,
    control_document,
    exemption_document,
    finding_document,
    summary,
)
from initkeys.formats.markdown import escape_inline
from initkeys.model import AccountAudit, AuditRun, FindingView, LightFinding, Status
from initkeys.timeutil import format_utc

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
RULE_ID = "CIS-AWS-1.11"
NOT_JUDGED_RULE_ID = "INITKEYS-NOT-JUDGED"
ACCOUNT_NOT_AUDITED = "ACCOUNT-NOT-AUDITED"
RUN_INCOMPLETE = "RUN-INCOMPLETE"
FINGERPRINT = "initkeysFindingId/v1"

# Sources that are not a file the findings were read from.
_NOT_FILES = frozenset({"aws", "<stdin>", ""})

_escape = json.encoder.encode_basestring_ascii  # json.dumps of a str (ensure_ascii)

_LEVEL = {Status.FAIL: "error", Status.WARNING: "warning", Status.ERROR: "error"}

# Placeholders for the two streamed arrays, the last members of the run: the
# document is split at their last occurrence, after which no data is written.
_RESULTS = "\x00initkeys-results\x00"
_LOCATIONS = "\x00initkeys-logical-locations\x00"
_ITEM_PAD = " " * 8  # run members sit at 6 spaces; array items at 8


class SarifFormatter(Formatter):
    name = "sarif"

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        accounts = [_account_location(i, a) for i, a in enumerate(run.accounts)]
        skeleton = _skeleton(run, tool_version, accounts)
        text = json.dumps(skeleton, indent=2)
        head, end = text.rsplit(json.dumps(_LOCATIONS), 1)
        before, between = head.rsplit(json.dumps(_RESULTS), 1)
        out.write(before)
        users = _Users(len(accounts))
        write_array(out, _results(run, users), _ITEM_PAD)
        out.write(between)
        write_array(out, chain(map(json.dumps, accounts), users.entries()), _ITEM_PAD)
        out.write(end + "\n")


def rules() -> list[dict[str, Any]]:
    """The two reporting descriptors of ``tool.driver.rules``, in index order."""
    references = ", ".join(CONTROL.references)
    help_text = (
        f"{CONTROL.solution}\n\nReferences: {references}.\nCategory: {CONTROL.category}.\n"
        f"Numbering across benchmark releases: {CONTROL.numbering}.\n"
        f"See also: {CONTROL.see_also}"
    )
    help_markdown = (
        f"**Solution.** {escape_inline(CONTROL.solution)}\n\n"
        f"**References:** {escape_inline(references)}.  \n"
        f"**Category:** {escape_inline(CONTROL.category)}.  \n"
        f"**Numbering across benchmark releases:** {escape_inline(CONTROL.numbering)}.  \n"
        f"**See also:** <{CONTROL.see_also}>"
    )
    not_judged_help = (
        "Read the message: fix or regenerate the credential report ({}), "
        "or grant the missing read permission, and audit again."
    )
    return [
        {
            "id": RULE_ID,
            "name": "SetupAccessKeyOfConsoleUser",
            "shortDescription": {"text": CONTROL.title + "."},
            "fullDescription": {"text": f"{CONTROL.information} {CONTROL.rationale}"},
            "help": {"text": help_text, "markdown": help_markdown},
            "helpUri": CONTROL.see_also,
            "defaultConfiguration": {"level": "error"},
            "properties": {
                "tags": ["security", "aws", "iam", "access-keys", "cis-aws-foundations"],
                "control": control_document(),
            },
        },
        {
            "id": NOT_JUDGED_RULE_ID,
            "name": "UserNotJudged",
            "shortDescription": {
                "text": f"A user could not be judged for CIS AWS Foundations {CONTROL.id}."
            },
            "fullDescription": {
                "text": (
                    "The user's credential report row could not be read (a bad timestamp, a "
                    "missing field), or its live re-read failed, so whether its access keys "
                    f"meet control {CONTROL.id} is unknown."
                )
            },
            "help": {
                "text": not_judged_help.format("aws iam generate-credential-report"),
                "markdown": not_judged_help.format("`aws iam generate-credential-report`"),
            },
            "helpUri": CONTROL.see_also,
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security", "aws", "iam", "audit-error"]},
        },
    ]


def _skeleton(run: AuditRun, tool_version: str, accounts: list[dict[str, Any]]) -> dict[str, Any]:
    not_audited = [
        (i, a) for i, a in enumerate(run.accounts) if a.error is not None
    ]  # the order of run.accounts
    notifications = [
        {
            "level": "error",
            "message": {"text": f"Account {a.account_id} could not be audited: {a.error}"},
            "descriptor": {"id": ACCOUNT_NOT_AUDITED, "index": 0},
            "locations": [{"logicalLocations": [accounts[i]]}],
        }
        for i, a in not_audited
    ]
    note = incomplete_note(run)
    if note is not None:
        notifications.append(
            {
                "level": "error",
                "message": {"text": note},
                "descriptor": {"id": RUN_INCOMPLETE, "index": 1},
            }
        )
    invocation = {
        # Fail closed: a run that did not see everything did not succeed.
        "executionSuccessful": note is None,
        "startTimeUtc": format_utc(run.generated_at),
        "toolExecutionNotifications": notifications,
    }
    driver = {
        "name": "initkeys",
        "version": tool_version,
        "rules": rules(),
        "notifications": [
            {
                "id": ACCOUNT_NOT_AUDITED,
                "name": "AccountNotAudited",
                "shortDescription": {
                    "text": "An account could not be audited (credentials, permissions, network)."
                },
                "defaultConfiguration": {"level": "error"},
            },
            {
                "id": RUN_INCOMPLETE,
                "name": "RunIncomplete",
                "shortDescription": {
                    "text": "Something was not seen (an account not audited, a user not "
                    "judged): the run is not a pass."
                },
                "defaultConfiguration": {"level": "error"},
            },
        ],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [invocation],
                "properties": {
                    "mode": run.settings.mode.value,
                    "setup_window_seconds": seconds(run.settings.setup_window),
                    "fail_on": run.settings.fail_on.value,
                    "result": run.status.value,
                    "complete": note is None,
                    "allow_errors": run.settings.allow_errors,
                    "summary": summary(run),
                },
                "results": _RESULTS,
                "logicalLocations": _LOCATIONS,
            }
        ],
    }


def _account_location(index: int, account: AccountAudit) -> dict[str, Any]:
    """An account as a top-level entry of ``run.logicalLocations``."""
    properties: dict[str, Any] = {
        "partition": account.partition,
        "source": account.source,
        "status": account.status.value,
    }
    if account.account_name is not None:
        properties["account_name"] = account.account_name
    if account.report_generated_at is not None:
        properties["report_generated_at"] = format_utc(account.report_generated_at)
    # ``index`` (allowed on a cached entry) also keeps two entries for the same
    # account id distinct, which the schema's uniqueItems asks for.
    return {
        "index": index,
        "name": account.account_id,
        "kind": "namespace",
        "properties": properties,
    }


class _Users:
    """The users that have a result: cached in ``run.logicalLocations`` after the accounts.

    Each is remembered as its name, its ARN (the strings its findings hold already) and
    its account, and serialized only when ``run.logicalLocations`` is written: a
    million-row report may have a third of a million of them."""

    def __init__(self, first_index: int) -> None:
        self._first = first_index
        self._order: list[tuple[str, str, int]] = []  # (name, ARN or name, account), by index
        self._account = -1
        self._seen: dict[str, int] = {}

    def index(self, account_index: int, finding: FindingView) -> int:
        """The cached entry's index of the finding's user; the user is cached if new."""
        if account_index != self._account:  # a user belongs to one account only
            self._account, self._seen = account_index, {}
        who = finding.arn or finding.user
        index = self._seen.get(who)
        if index is None:
            index = self._seen[who] = self._first + len(self._order)
            self._order.append((finding.user, who, account_index))
        return index

    def entry(self, index: int) -> str:
        """The serialized entry at ``index``: ``json.dumps`` of :func:`_user_location`."""
        name, who, account_index = self._order[index - self._first]
        return _USER_LOCATION % (index, _escape(name), _escape(who), account_index)

    def entries(self) -> Iterator[str]:
        for index in range(self._first, self._first + len(self._order)):
            yield self.entry(index)


_USER_LOCATION = (
    '{"index": %d, "name": %s, "fullyQualifiedName": %s, "kind": "resource", "parentIndex": %d}'
)


def _user_location(index: int, name: str, who: str, account_index: int) -> dict[str, Any]:
    """A cached user as a document: what ``_USER_LOCATION`` writes."""
    return {
        "index": index,
        "name": name,
        "fullyQualifiedName": who,
        "kind": "resource",
        "parentIndex": account_index,
    }


def _results(run: AuditRun, users: _Users) -> Iterator[str]:
    """Each FAIL, WARNING and ERROR finding as a serialized SARIF result."""
    for account_index, account in enumerate(run.accounts):
        if account.error is not None:
            continue
        physical = _physical_location(account)
        fast = _FastResult(account, physical)
        # PASS and NOT_APPLICABLE findings are counted, not results.
        for finding_id, finding in identified_findings(account, _LISTED):
            user_index = users.index(account_index, finding)
            if finding.exemption is None and finding.expired_exemption is None:
                yield fast(finding_id, finding, user_index, users)
            else:
                user = json.loads(users.entry(user_index))
                yield json.dumps(result_document(account, physical, finding_id, finding, user))


_LISTED = (Status.FAIL, Status.WARNING, Status.ERROR)  # the statuses of _LEVEL


def result_document(
    account: AccountAudit,
    physical: dict[str, Any] | None,
    finding_id: str,
    finding: FindingView,
    user: dict[str, Any],
) -> dict[str, Any]:
    """One result as a document: the general layout (:class:`_FastResult` writes the
    same bytes for a finding without exemptions)."""
    location: dict[str, Any] = {"logicalLocations": [_key_location(finding, user)]}
    if physical is not None:
        location["physicalLocation"] = physical
    properties = finding_document(finding, finding_id)
    properties["account_id"] = account.account_id
    judged = finding.status is not Status.ERROR
    return {
        "ruleId": RULE_ID if judged else NOT_JUDGED_RULE_ID,
        "ruleIndex": 0 if judged else 1,
        "level": _LEVEL[finding.status],
        "message": {"text": finding.message},
        "locations": [location],
        "fingerprints": {FINGERPRINT: finding_id},
        "partialFingerprints": {FINGERPRINT: finding_id},
        "suppressions": _suppressions(finding),
        "properties": properties,
    }


class _FastResult:
    """:func:`result_document` as ``json.dumps`` writes it, for a finding without
    exemptions, from a template per account with only the finding's cells encoded.

    Building and encoding the nested dicts was most of a large run's SARIF time."""

    def __init__(self, account: AccountAudit, physical: dict[str, Any] | None) -> None:
        self.heads = {
            status: (
                f'{{"ruleId": {json.dumps(rule)}, "ruleIndex": {index}, '
                f'"level": {json.dumps(_LEVEL[status])}, "message": {{"text": '
            )
            for status, rule, index in (
                (Status.FAIL, RULE_ID, 0),
                (Status.WARNING, RULE_ID, 0),
                (Status.ERROR, NOT_JUDGED_RULE_ID, 1),
            )
        }
        where = "" if physical is None else ", " + json.dumps("physicalLocation")
        where += "" if physical is None else ": " + json.dumps(physical)
        fingerprint = json.dumps(FINGERPRINT)
        self.template = (
            '%s%s}, "locations": [{"logicalLocations": [%s]'
            + where.replace("%", "%%")
            + "}], "
            + f'"fingerprints": {{{fingerprint}: %s}}, '
            + f'"partialFingerprints": {{{fingerprint}: %s}}, '
            + '"suppressions": [], "properties": %s}'
        )
        self.messages = LightMessages()
        self.flat = FlatFinding(
            None, ", " + json.dumps("account_id") + ": " + _escape(account.account_id)
        )

    def __call__(self, finding_id: str, f: FindingView, user_index: int, users: _Users) -> str:
        light = type(f) is LightFinding
        message = _escape(self.messages(f) if light else f.message)  # type: ignore[arg-type]
        slot = f.key_slot
        if slot is None:
            location = users.entry(user_index)
        else:
            who = _escape(f.arn or f.user)
            location = _KEY_LOCATION % (slot, who[:-1], slot, user_index)
        # An id is the recipe's hex digits (and a -N suffix): nothing to escape.
        quoted = '"' + finding_id + '"'
        if light:
            properties = self.flat.light(finding_id, f, message)  # type: ignore[arg-type]
        else:
            properties = self.flat(finding_id, f, message)
        return self.template % (self.heads[f.status], message, location, quoted, quoted, properties)


_KEY_LOCATION = (
    '{"name": "access_key_%d", "fullyQualifiedName": %s#access_key_%d", '
    '"kind": "resource", "parentIndex": %d}'
)


def _key_location(finding: FindingView, user: dict[str, Any]) -> dict[str, Any]:
    """The key a finding is about (inline, child of its cached user), or the user itself."""
    if finding.key_slot is None:
        return user
    name = f"access_key_{finding.key_slot}"
    return {
        "name": name,
        "fullyQualifiedName": f"{user['fullyQualifiedName']}#{name}",
        "kind": "resource",
        "parentIndex": user["index"],
    }


def _physical_location(account: AccountAudit) -> dict[str, Any] | None:
    """The credential report file the findings were read from; None for live audits and stdin."""
    if account.source in _NOT_FILES:
        return None
    return {"artifactLocation": {"uri": quote(account.source, safe="")}}


def _suppressions(finding: FindingView) -> list[dict[str, Any]]:
    exemption = finding.exemption
    if exemption is None:
        return []
    return [
        {
            "kind": "external",
            "status": "accepted",
            "justification": exemption.reason,
            "properties": exemption_document(exemption),
        }
    ]
