"""``--format asff``: AWS Security Finding Format, as ``BatchImportFindings`` takes it.

The output is a JSON array of findings, one a line, that
``aws securityhub batch-import-findings --findings file://initkeys.asff.json``
imports as it is (the API takes up to 100 findings a call; ``initkeys audit
--send-to securityhub`` sends any number, in batches). Each finding:

- ``Id`` is the finding's stable id (``initkeys-1.11-…``, the same as in every
  other format), so a later run updates the same Security Hub finding;
- ``ProductArn`` is ``arn:<partition>:securityhub:<region>:<account>:product/<account>/default``
  with the audited account's own id: Security Hub takes a finding of the
  default product only from the account it is about (``AwsAccountId``);
- the region is ``--region``, else the session's region for a live audit,
  else the partition's home region (``us-east-1`` for ``aws``): an offline
  report has none, so whoever imports it passes ``--region`` of the hub they
  import into;
- ``Compliance.Status``: FAIL → FAILED, WARNING → WARNING, PASS → PASSED,
  ERROR → NOT_AVAILABLE; ``Severity`` (and ``FindingProviderFields.Severity``,
  which Security Hub lets a provider update): MEDIUM, LOW, INFORMATIONAL, LOW.
  MEDIUM is what Security Hub rates its own unused-credentials control
  (IAM.22, CIS 1.12);
- NOT_APPLICABLE findings (users without a console password, the root row,
  deleted users) are left out: they are outside the control, not results;
- an exempt finding keeps its compliance status and gets ``Workflow.Status``
  SUPPRESSED (Security Hub applies ``Workflow`` only when it first sees a
  finding); every other finding is NEW;
- ``Resources``: the key (``AwsIamAccessKey``; its id is the key id, or
  ``<user ARN>#access_key_<slot>`` when only a report was read) and its user
  (``AwsIamUser``), or the user alone for findings about a user;
- an account that could not be audited has no findings;
- ``ProductFields`` carry initkeys' own facts (``initkeys/Reason``,
  ``initkeys/KeyCreated``…) and, with ``--cloudtrail``, the evidence:
  ``initkeys/CreatedBy`` (the creator's ARN), ``initkeys/CreatedVia``,
  ``initkeys/CreatedFrom`` and ``initkeys/EvidenceNote`` (why there is none).

Text that is not ours (user names, messages) is JSON-escaped, made one line
in titles, and clipped to the ASFF limits (Title 256, Description 1024,
Recommendation 512, counted in UTF-16 units as AWS does).

No boto3 here: sending is ``initkeys.sinks.securityhub``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, TextIO

from initkeys._version import __version__
from initkeys.control import CONTROL
from initkeys.formats import Formatter, identified_findings, seconds, write_array
from initkeys.model import AccountAudit, AuditRun, FindingView, Reason, Status
from initkeys.partitions import region_in
from initkeys.timeutil import format_utc

SCHEMA_VERSION = "2018-10-08"
GENERATOR_ID = "initkeys/cis-aws-1.11"
FINDING_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/"
    "CIS AWS Foundations Benchmark"
)
# Releases of the benchmark in which this recommendation is 1.11 and that
# Security Hub names in its own findings.
RELATED_REQUIREMENTS = (
    "CIS AWS Foundations Benchmark v1.4.0/1.11",
    "CIS AWS Foundations Benchmark v3.0.0/1.11",
)
REMEDIATION_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html"
RECOMMENDATION = (
    CONTROL.solution + " initkeys remediate deactivates, then deletes, such keys after "
    "reading each one again, and journals every change."
)

# ASFF limits, in UTF-16 code units.
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
RECOMMENDATION_MAX = 512
_ID_MAX = 512
_NAME_MAX = 256
_FIELD_MAX = 1000  # ProductFields values: "fewer than 1,024 characters"

# Security Hub's Resource.Partition takes only these.
_ASFF_PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov"})

# initkeys status → (Compliance.Status, Severity.Label); NOT_APPLICABLE is left out.
_BY_STATUS = {
    Status.FAIL: ("FAILED", "MEDIUM"),
    Status.WARNING: ("WARNING", "LOW"),
    Status.ERROR: ("NOT_AVAILABLE", "LOW"),
    Status.PASS: ("PASSED", "INFORMATIONAL"),
}

_TITLES = {
    Reason.SETUP_KEY_UNUSED: "active key created with the user, never used",
    Reason.SETUP_KEY_INACTIVE: "inactive key created with the user, never used",
    Reason.UNUSED_KEY: "active key never used, created after setup",
    Reason.INACTIVE_UNUSED_KEY: "inactive key never used",
    Reason.USAGE_UNKNOWN: "key older than AWS key-use tracking",
    Reason.SETUP_KEY_USED: "key created with the user, in use",
    Reason.KEY_USED: "key in use",
    Reason.NO_ACCESS_KEYS: "console user without access keys",
    Reason.INVALID_ROW: "credential report row unreadable",
    Reason.LIVE_READ_FAILED: "user could not be read again",
}

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class AccountFindings:
    """One audited account's ASFF findings and where they go in Security Hub."""

    account_id: str
    region: str
    product_arn: str
    findings: Iterator[dict[str, Any]]
    """Iterate once; built as they are read."""
    generator_id: ClassVar[str] = GENERATOR_ID


class AsffFormatter(Formatter):
    name = "asff"

    def __init__(self, region: str | None = None) -> None:
        self.region = region
        """The Security Hub region; None: the partition's home region."""

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        accounts = account_findings(run, region=self.region, tool_version=tool_version)
        write_array(out, (json.dumps(d) for account in accounts for d in account.findings))
        out.write("\n")


def product_arn(partition: str, region: str, account_id: str) -> str:
    """The account's own (default) product: findings it imports about itself."""
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def account_findings(
    run: AuditRun, *, region: str | None = None, tool_version: str = __version__
) -> list[AccountFindings]:
    """The findings of each audited account (accounts in error have none to give).

    Every account's region is checked against its partition before any
    finding is built: a wrong ``--region`` fails before output starts.
    """
    created = format_utc(run.generated_at) or ""
    result = []
    for account in run.accounts:
        if account.error is not None:
            continue
        where = region_in(account.partition, region)
        arn = product_arn(account.partition, where, account.account_id)
        documents = _documents(account, where, arn, created, run, tool_version)
        result.append(AccountFindings(account.account_id, where, arn, documents))
    return result


def _documents(
    account: AccountAudit, region: str, arn: str, created: str, run: AuditRun, tool_version: str
) -> Iterator[dict[str, Any]]:
    for finding_id, finding in identified_findings(account):
        if finding.status is Status.NOT_APPLICABLE:
            continue
        yield asff_finding(
            account,
            finding,
            finding_id,
            region=region,
            product=arn,
            created=created,
            mode=run.settings.mode.value,
            tool_version=tool_version,
        )


def asff_finding(
    account: AccountAudit,
    finding: FindingView,
    finding_id: str,
    *,
    region: str,
    product: str,
    created: str,
    mode: str,
    tool_version: str,
) -> dict[str, Any]:
    """One finding in ASFF (``finding`` must not be NOT_APPLICABLE)."""
    compliance, label = _BY_STATUS[finding.status]
    severity = {"Label": label, "Original": finding.status.value}
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id,
        "ProductArn": product,
        "ProductName": "initkeys",
        "CompanyName": "initkeys",
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": account.account_id,
        "Types": [FINDING_TYPE],
        "CreatedAt": created,
        "UpdatedAt": created,
        "LastObservedAt": created,
        "Severity": severity,
        "FindingProviderFields": {"Severity": dict(severity), "Types": [FINDING_TYPE]},
        "Title": clip(_one_line(_title(finding)), TITLE_MAX),
        "Description": clip(_description(finding, mode), DESCRIPTION_MAX),
        "Remediation": {
            "Recommendation": {
                "Text": clip(RECOMMENDATION, RECOMMENDATION_MAX),
                "Url": REMEDIATION_URL,
            }
        },
        "SourceUrl": CONTROL.see_also,
        "ProductFields": _product_fields(account, finding, mode, tool_version),
        "Resources": _resources(account, finding, region),
        "Compliance": {"Status": compliance, "RelatedRequirements": list(RELATED_REQUIREMENTS)},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW" if finding.exemption is None else "SUPPRESSED"},
    }


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 code units (AWS counts those), with ``…`` when cut."""
    if len(text) <= limit // 2:  # every character is at most two units
        return text
    units = len(text) + sum(1 for c in text if ord(c) > 0xFFFF)
    if units <= limit:
        return text
    kept: list[str] = []
    used = 0
    for c in text:
        width = 2 if ord(c) > 0xFFFF else 1
        if used + width > limit - 1:
            break
        kept.append(c)
        used += width
    return "".join(kept) + "…"


def _one_line(text: str) -> str:
    return _CONTROL_CHARACTERS.sub(" ", text)


def _title(finding: FindingView) -> str:
    what = _TITLES.get(finding.reason, finding.reason.value)
    who = finding.user if finding.key_slot is None else f"{finding.user}, key {finding.key_slot}"
    return f"1.11 {who}: {what}"


def _description(finding: FindingView, mode: str) -> str:
    parts = [finding.message.strip()]
    if finding.exemption is not None:
        parts.append("Exempt: " + finding.exemption.describe() + ".")
    expired = finding.expired_exemption
    if expired is not None and expired.expires is not None:
        parts.append(f"An exemption ({expired.reason}) expired on {expired.expires.isoformat()}.")
    parts.append(f"CIS AWS Foundations 1.11 ({mode} mode): {CONTROL.title}.")
    return " ".join(p for p in parts if p)


def _product_fields(
    account: AccountAudit, finding: FindingView, mode: str, tool_version: str
) -> dict[str, str]:
    gap = seconds(finding.setup_gap)
    exemption, expired = finding.exemption, finding.expired_exemption
    fields = {
        "ProviderName": "initkeys",
        "ProviderVersion": tool_version,
        "initkeys/Status": finding.status.value,
        "initkeys/Reason": finding.reason.value,
        "initkeys/Mode": mode,
        "initkeys/Source": account.source,
        "initkeys/User": finding.user,
        "initkeys/KeySlot": None if finding.key_slot is None else str(finding.key_slot),
        "initkeys/UserCreated": finding.user_created_utc,
        "initkeys/KeyCreated": finding.key_created_utc,
        "initkeys/SetupGapSeconds": None if gap is None else str(gap),
        "initkeys/LastUsed": finding.last_used_utc,
        "initkeys/PasswordCreated": finding.password_created_utc,
        "initkeys/Exemption": exemption.describe() if exemption else None,
        "initkeys/ExemptionExpiredOn": (
            expired.expires.isoformat() if expired and expired.expires else None
        ),
        # CloudTrail evidence (--cloudtrail): who made the key, how, from where, or why
        # no event was found. Absent without it, like every other empty field.
        "initkeys/CreatedBy": finding.created_by,
        "initkeys/CreatedVia": finding.created_via,
        "initkeys/CreatedFrom": finding.created_from,
        "initkeys/EvidenceNote": finding.evidence_note,
    }
    return {k: clip(v, _FIELD_MAX) for k, v in fields.items() if v is not None and v.strip()}


def _resources(account: AccountAudit, finding: FindingView, region: str) -> list[dict[str, Any]]:
    user = _resource(
        account,
        region,
        "AwsIamUser",
        finding.arn or finding.user,
        _present(
            UserName=clip(finding.user, _NAME_MAX),
            CreateDate=finding.user_created_utc,
            Path=_user_path(finding.arn),
        ),
    )
    if finding.key_slot is None:
        return [user]
    status = None if finding.active is None else ("Active" if finding.active else "Inactive")
    key = _resource(
        account,
        region,
        "AwsIamAccessKey",
        finding.access_key_id or f"{finding.arn or finding.user}#access_key_{finding.key_slot}",
        _present(
            AccessKeyId=finding.access_key_id,
            Status=status,
            CreatedAt=finding.key_created_utc,
            PrincipalName=clip(finding.user, _NAME_MAX),
            PrincipalType="IAMUser",
            AccountId=account.account_id,
        ),
    )
    return [key, user]


def _resource(
    account: AccountAudit, region: str, kind: str, resource_id: str, details: dict[str, str]
) -> dict[str, Any]:
    """A resource of type ``kind``; ``details`` go under ``Details.<kind>``."""
    resource: dict[str, Any] = {"Type": kind, "Id": clip(resource_id, _ID_MAX)}
    if not resource_id.strip():
        resource["Id"] = f"{kind}:unknown"
    if account.partition in _ASFF_PARTITIONS:
        resource["Partition"] = account.partition
    resource["Region"] = region
    resource["Details"] = {kind: details}
    return resource


def _present(**values: str | None) -> dict[str, str]:
    """Only the values that are there: ASFF strings must not be empty."""
    return {k: v for k, v in values.items() if v is not None and v.strip()}


def _user_path(arn: str) -> str | None:
    """``/engineering/`` from ``arn:aws:iam::123456789012:user/engineering/bob``."""
    _, found, resource = arn.partition(":user/")
    if not found:
        return None
    head, _, _ = resource.rpartition("/")
    return clip(f"/{head}/" if head else "/", _NAME_MAX)
