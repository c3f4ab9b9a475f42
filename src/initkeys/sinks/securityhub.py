"""Send ASFF findings to AWS Security Hub (``initkeys audit --send-to securityhub``).

An output that calls AWS, through the run's :class:`~initkeys.aws.AwsContext`. The
findings themselves are built by :mod:`initkeys.formats.asff`, which knows no boto3.

Security Hub takes a finding of the default product only from the account the
finding is about (its ``AwsAccountId``), so each account's findings are
imported with that account's own credentials: the signed-in account's with
the session, every other one's through ``--role-name`` (as the audit reached
it). An administrator account then sees them through its Security Hub
membership.

For each account:

1. ``BatchImportFindings``, 100 findings a call (the API's limit; also kept
   under its 6 MB a call), with botocore's standard retries (the API allows
   10 calls a second). Findings it rejects are reported one by one.
2. ``GetFindings`` for this tool's ACTIVE findings of the account (product,
   generator), and each one this run no longer produced (its key was deleted,
   its user lost the console password…) is imported again with
   ``RecordState: ARCHIVED``, so Security Hub does not keep a finding that
   is gone.

   Nothing is archived that this run could not see: an account that could not
   be audited sends nothing and archives nothing, and a user who ended in ERROR
   (a re-read that failed) keeps every finding Security Hub holds for it, as it
   was: a FAIL must not disappear because a call failed. An unreadable report
   row (``invalid-row``) may be any user, so it keeps all of its account's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from initkeys.aws import AwsContext, Identity, access_errors
from initkeys.errors import AccessError
from initkeys.sources.accounts import AccountSelection, context_for
from initkeys.sources.aws import LiveAccount

if TYPE_CHECKING:
    from initkeys.formats.asff import AccountFindings

BATCH_SIZE = 100  # BatchImportFindings takes at most 100 findings a call
BATCH_BYTES = 5_000_000  # and at most 6 MB

# Fields a stored finding keeps when it is archived (the import's required ones
# and what describes it); Security Hub's own additions are left out.
_ARCHIVE_FIELDS = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "ProductName",
    "CompanyName",
    "GeneratorId",
    "AwsAccountId",
    "Types",
    "CreatedAt",
    "Severity",
    "FindingProviderFields",
    "Title",
    "Description",
    "Remediation",
    "SourceUrl",
    "Resources",
    "Compliance",
)


@dataclass(frozen=True)
class Rejected:
    """A finding Security Hub did not take, and why."""

    account_id: str
    finding_id: str
    code: str
    message: str


@dataclass
class SendResult:
    imported: int = 0
    archived: int = 0
    accounts: int = 0
    kept: int = 0
    """Stored findings not archived because their user (or account) ended in ERROR."""
    rejected: list[Rejected] = field(default_factory=list)
    failed_accounts: list[tuple[str, str]] = field(default_factory=list)
    """(account id, why) for each account whose findings could not all be sent."""

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed_accounts

    def lines(self) -> list[str]:
        """What happened, one line each: rejections, failed accounts, then the counts."""
        lines = [
            " ".join(
                f"rejected {r.finding_id} (account {r.account_id}): {r.code}: {r.message}".split()
            )
            for r in self.rejected
        ]
        lines += [" ".join(f"account {a}: {why}".split()) for a, why in self.failed_accounts]
        lines.append(
            f"imported {self.imported} finding(s) for {self.accounts} account(s), "
            f"archived {self.archived} no longer found"
            + (
                f"; kept {self.kept} of users that could not be read in this run"
                if self.kept
                else ""
            )
            + (f"; {len(self.rejected)} rejected" if self.rejected else "")
            + (f"; {len(self.failed_accounts)} account(s) failed" if self.failed_accounts else "")
        )
        return lines


def send_findings(
    aws: AwsContext,
    accounts: Iterable[AccountFindings],
    *,
    updated_at: str,
    selection: AccountSelection | None = None,
    identity: Identity | None = None,
) -> SendResult:
    """Import each account's findings into its own Security Hub; archive the stale ones.

    ``identity`` is whom ``aws`` signs in as, when the caller knows it already
    (from its audit's :class:`LiveAccount`); otherwise it is read once (STS).
    Raises :class:`AccessError` when the signed-in identity cannot be read
    (credentials, network); an account that cannot be reached or denies a call
    is recorded in the result and the others go on.
    """
    selection = selection or AccountSelection()
    me = identity or LiveAccount(aws).whoami()
    result = SendResult()
    for account in accounts:
        result.accounts += 1
        if account.account_id != me.account_id and not selection.role_name:
            result.failed_accounts.append(
                (
                    account.account_id,
                    "Security Hub takes its findings only from that account, and the "
                    f"credentials sign in to {me.account_id}: send them with that "
                    "account's credentials",
                )
            )
            continue
        try:
            target = context_for(aws, me.account_id, me.partition, account.account_id, selection)
            _send_account(target, account, result, updated_at)
        except AccessError as exc:
            result.failed_accounts.append((account.account_id, str(exc)))
    return result


def _send_account(
    aws: AwsContext, account: AccountFindings, result: SendResult, updated_at: str
) -> None:
    client = aws.client("securityhub", account.region)
    sent: set[str] = set()
    unread = _Unread()
    for batch in _batches(account.findings):
        result.imported += _import(aws, client, account.account_id, batch, result)
        sent.update(str(f["Id"]) for f in batch)
        for finding in batch:
            unread.note(finding)
    stale: list[dict[str, Any]] = []
    for stored in _active_findings(aws, client, account):
        finding_id = stored.get("Id")
        if not isinstance(finding_id, str) or finding_id in sent:
            continue  # ours and current, or not a finding an import could name
        if unread.covers(stored):
            result.kept += 1
        else:
            stale.append(_archived(stored, updated_at))
    for batch in _batches(stale):
        result.archived += _import(aws, client, account.account_id, batch, result)


class _Unread:
    """The users of one account that ended in ERROR in this run (user-level findings
    such as a re-read that failed), whose stored findings must stay as they are."""

    def __init__(self) -> None:
        self.users: set[str] = set()
        self.whole_account = False

    def note(self, finding: dict[str, Any]) -> None:
        fields = finding.get("ProductFields")
        if not isinstance(fields, dict) or fields.get("initkeys/Status") != "ERROR":
            return
        user = _user_of(finding)
        # An unreadable report row names no user for sure: it may be any of them.
        if user is None or fields.get("initkeys/Reason") == "invalid-row":
            self.whole_account = True
        else:
            self.users.add(user)

    def covers(self, stored: dict[str, Any]) -> bool:
        if self.whole_account:
            return True
        if not self.users:
            return False
        user = _user_of(stored)
        return user is None or user in self.users  # a finding of no known user: keep it


def _user_of(finding: dict[str, Any]) -> str | None:
    """The finding's user name, case-folded (IAM user names are unique without regard
    to case), from initkeys' own field or the AwsIamUser resource; None if neither."""
    fields = finding.get("ProductFields")
    name = fields.get("initkeys/User") if isinstance(fields, dict) else None
    resources = finding.get("Resources")
    if (not isinstance(name, str) or not name) and isinstance(resources, list):
        for resource in resources:
            if isinstance(resource, dict) and resource.get("Type") == "AwsIamUser":
                arn = str(resource.get("Id") or "")
                name = arn.rpartition("/")[2] if ":user/" in arn else None
                break
    return name.casefold() if isinstance(name, str) and name else None


def _batches(findings: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for finding in findings:
        length = len(json.dumps(finding))
        if batch and (len(batch) == BATCH_SIZE or size + length > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(finding)
        size += length
    if batch:
        yield batch


def _import(
    aws: AwsContext, client: Any, account_id: str, batch: list[dict[str, Any]], result: SendResult
) -> int:
    """Import one batch; rejections go to ``result``. Returns how many were taken."""
    with access_errors("securityhub:BatchImportFindings", aws, policy="securityhub"):
        answer = client.batch_import_findings(Findings=batch)
    for failed in answer.get("FailedFindings", []):
        result.rejected.append(
            Rejected(
                account_id=account_id,
                finding_id=str(failed.get("Id", "?")),
                code=str(failed.get("ErrorCode", "?")),
                message=str(failed.get("ErrorMessage", "")),
            )
        )
    return int(answer.get("SuccessCount", 0))


def _active_findings(
    aws: AwsContext, client: Any, account: AccountFindings
) -> list[dict[str, Any]]:
    """This tool's ACTIVE findings of the account, as Security Hub holds them."""

    def equals(value: str) -> list[dict[str, str]]:
        return [{"Value": value, "Comparison": "EQUALS"}]

    filters = {
        "ProductArn": equals(account.product_arn),
        "GeneratorId": equals(account.generator_id),
        "AwsAccountId": equals(account.account_id),
        "RecordState": equals("ACTIVE"),
    }
    found: list[dict[str, Any]] = []
    with access_errors("securityhub:GetFindings", aws, policy="securityhub"):
        for page in client.get_paginator("get_findings").paginate(
            Filters=filters, PaginationConfig={"PageSize": 100}
        ):
            found.extend(page.get("Findings", []))
    # The filters again, here: only ever archive this tool's findings of this account.
    return [
        f
        for f in found
        if f.get("ProductArn") == account.product_arn
        and f.get("GeneratorId") == account.generator_id
        and f.get("AwsAccountId") == account.account_id
        and f.get("RecordState", "ACTIVE") == "ACTIVE"
    ]


def _archived(stored: dict[str, Any], updated_at: str) -> dict[str, Any]:
    finding = {k: stored[k] for k in _ARCHIVE_FIELDS if k in stored}
    finding["UpdatedAt"] = updated_at
    finding["RecordState"] = "ARCHIVED"
    return finding
