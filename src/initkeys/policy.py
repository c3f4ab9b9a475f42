"""The least-privilege IAM policies initkeys needs, printed by ``initkeys policy``.

``sts:GetCallerIdentity`` needs no permission, so it is not listed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from initkeys.sources.cloudtrail import TrailSpec

# Every IAM action a live audit calls, and nothing else. All are read-only.
# Resource stays "*": the credential report and ListUsers take no other, and the
# emulator the tests prove this policy against checks every IAM action against
# "*" only, so a narrower resource could not be tested here.
AUDIT_ACTIONS = (
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListUsers",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:GetLoginProfile",
    "iam:ListUserTags",
)


def audit_policy(cloudtrail: TrailSpec | None = None, partition: str = "aws") -> dict[str, Any]:
    """The policy a live audit needs; the tests audit holding only this.

    With ``cloudtrail`` (the ``--cloudtrail`` source), the statements that reading
    it needs follow: nothing more is granted to an audit that does not read a trail.
    """
    return _with_trail("InitkeysAudit", AUDIT_ACTIONS, cloudtrail, partition)


def _allow(sid: str, actions: tuple[str, ...], resource: str = "*") -> dict[str, Any]:
    """One statement allowing ``actions`` on ``resource``."""
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _with_trail(
    sid: str, actions: tuple[str, ...], cloudtrail: TrailSpec | None, partition: str
) -> dict[str, Any]:
    """A policy of ``actions`` on "*", then what reading ``cloudtrail`` needs, if anything."""
    trail = cloudtrail_statements(cloudtrail, partition) if cloudtrail is not None else []
    return _policy(_allow(sid, actions), *trail)


def cloudtrail_statements(cloudtrail: TrailSpec, partition: str = "aws") -> list[dict[str, Any]]:
    """Only for ``--cloudtrail``: ``LookupEvents`` (which takes no resource but "*"), or
    listing the trail's bucket and reading its log files under the prefix. A
    directory of log files needs no AWS permission."""
    if cloudtrail.kind == "lookup":
        return [_allow("InitkeysCloudTrailLookup", ("cloudtrail:LookupEvents",))]
    if cloudtrail.kind != "s3":
        return []
    bucket = f"arn:{partition}:s3:::{cloudtrail.bucket}"
    logs = f"{cloudtrail.prefix}/AWSLogs/*" if cloudtrail.prefix else "AWSLogs/*"
    return [
        _allow("InitkeysCloudTrailListLogs", ("s3:ListBucket",), bucket),
        _allow("InitkeysCloudTrailReadLogs", ("s3:GetObject",), f"{bucket}/{logs}"),
    ]


# Remediation re-reads every key right before it acts (the audit's reads, plus the
# user's tags for the initkeys:exempt tag and GetUser for the user's creation time,
# to judge the key again), then deactivates or deletes it; rollback reactivates with
# the same UpdateAccessKey. Nothing else is ever changed.
REMEDIATE_ACTIONS = (
    *AUDIT_ACTIONS,
    "iam:GetUser",
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
)


def remediate_policy(cloudtrail: TrailSpec | None = None, partition: str = "aws") -> dict[str, Any]:
    """The policy ``initkeys remediate`` and ``initkeys rollback`` need; the tests remediate
    holding only this. With ``cloudtrail`` (``remediate --cloudtrail SOURCE``), the
    statements reading it needs follow, as for the audit."""
    return _with_trail("InitkeysRemediate", REMEDIATE_ACTIONS, cloudtrail, partition)


# `audit --send-to securityhub` imports findings and archives the ones a run no
# longer produces, which it finds with GetFindings. A separate policy, attached
# beside the audit's (or alone, to send an offline report's findings): an
# audit that does not send never needs it. Resource "*" for the reason above.
SECURITYHUB_ACTIONS = ("securityhub:BatchImportFindings", "securityhub:GetFindings")


def securityhub_policy() -> dict[str, Any]:
    """The policy ``--send-to securityhub`` adds; the tests send holding only it (and
    the audit's)."""
    return _policy(_allow("InitkeysSendToSecurityHub", SECURITYHUB_ACTIONS))


# The event guard reads the one user an event names (GetUser for its creation
# time, then what a live audit re-reads), deactivates a setup key (UpdateAccessKey,
# only with the deactivate action; never DeleteAccessKey) and publishes to its SNS
# topic. deploy/guard.yaml grants the same actions, narrowed to the account's users
# and the one topic; here Resource stays "*" for the reason above.
GUARD_READ_ACTIONS = (
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:GetLoginProfile",
    "iam:GetAccessKeyLastUsed",
    "iam:ListUserTags",
)
GUARD_DEACTIVATE_ACTIONS = ("iam:UpdateAccessKey",)
GUARD_NOTIFY_ACTIONS = ("sns:Publish",)


def guard_policy(*, deactivate: bool = True) -> dict[str, Any]:
    """The policy of the event guard; ``deactivate`` False for a guard that only notifies."""
    read = _allow("InitkeysGuardRead", GUARD_READ_ACTIONS)
    notify = _allow("InitkeysGuardNotify", GUARD_NOTIFY_ACTIONS)
    if not deactivate:
        return _policy(read, notify)
    return _policy(read, _allow("InitkeysGuardDeactivate", GUARD_DEACTIVATE_ACTIONS), notify)


POLICIES = {
    "audit": audit_policy,
    "remediate": remediate_policy,
    "securityhub": securityhub_policy,
    "guard": guard_policy,
}


def policy_document(name: str) -> dict[str, Any]:
    """The IAM policy document for ``audit``, ``remediate``, ``securityhub`` or ``guard``."""
    return POLICIES[name]()


def render(document: dict[str, Any]) -> str:
    """A policy document as ``initkeys policy`` prints it."""
    return json.dumps(document, indent=2) + "\n"
