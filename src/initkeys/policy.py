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


def _with_trail(
    sid: str, actions: tuple[str, ...], cloudtrail: TrailSpec | None, partition: str
) -> dict[str, Any]:
    """A policy of ``actions`` on "*", then what reading ``cloudtrail`` needs, if anything."""
    statements: list[dict[str, Any]] = [
        {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": "*"}
    ]
    if cloudtrail is not None:
        statements += cloudtrail_statements(cloudtrail, partition)
    return {"Version": "2012-10-17", "Statement": statements}


def cloudtrail_statements(cloudtrail: TrailSpec, partition: str = "aws") -> list[dict[str, Any]]:
    """Only for ``--cloudtrail``: ``LookupEvents`` (which takes no resource but "*"), or
    listing the trail's bucket and reading its log files under the prefix. A
    directory of log files needs no AWS permission."""
    if cloudtrail.kind == "lookup":
        return [
            {
                "Sid": "InitkeysCloudTrailLookup",
                "Effect": "Allow",
                "Action": ["cloudtrail:LookupEvents"],
                "Resource": "*",
            }
        ]
    if cloudtrail.kind != "s3":
        return []
    bucket = f"arn:{partition}:s3:::{cloudtrail.bucket}"
    logs = f"{cloudtrail.prefix}/AWSLogs/*" if cloudtrail.prefix else "AWSLogs/*"
    return [
        {
            "Sid": "InitkeysCloudTrailListLogs",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket,
        },
        {
            "Sid": "InitkeysCloudTrailReadLogs",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": f"{bucket}/{logs}",
        },
    ]


# Remediation re-reads every key right before it acts (the audit's reads, plus the
# user's tags for the initkeys:exempt tag), then deactivates or deletes it; rollback
# reactivates with the same UpdateAccessKey. Nothing else is ever changed.
REMEDIATE_ACTIONS = tuple(
    dict.fromkeys(
        (*AUDIT_ACTIONS, "iam:ListUserTags", "iam:UpdateAccessKey", "iam:DeleteAccessKey")
    )
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
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InitkeysSendToSecurityHub",
                "Effect": "Allow",
                "Action": list(SECURITYHUB_ACTIONS),
                "Resource": "*",
            }
        ],
    }


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
    statements: list[dict[str, Any]] = [
        {
            "Sid": "InitkeysGuardRead",
            "Effect": "Allow",
            "Action": list(GUARD_READ_ACTIONS),
            "Resource": "*",
        }
    ]
    if deactivate:
        statements.append(
            {
                "Sid": "InitkeysGuardDeactivate",
                "Effect": "Allow",
                "Action": list(GUARD_DEACTIVATE_ACTIONS),
                "Resource": "*",
            }
        )
    statements.append(
        {
            "Sid": "InitkeysGuardNotify",
            "Effect": "Allow",
            "Action": list(GUARD_NOTIFY_ACTIONS),
            "Resource": "*",
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}


POLICIES = {
    "audit": audit_policy,
    "remediate": remediate_policy,
    "securityhub": securityhub_policy,
    "guard": guard_policy,
}


def policy_document(name: str) -> dict[str, Any]:
    """The IAM policy document for ``audit``, ``remediate``, ``securityhub`` or ``guard``."""
    return POLICIES[name]()


def render(name: str, document: dict[str, Any] | None = None) -> str:
    return render_document(document or policy_document(name))


def render_document(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
