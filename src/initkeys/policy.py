"""The least-privilege IAM policies initkeys needs, printed by ``initkeys policy``.

``sts:GetCallerIdentity`` needs no permission, so it is not listed.
"""

from __future__ import annotations

import json
from typing import Any

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


def audit_policy() -> dict[str, Any]:
    """The policy a live audit needs; the tests audit holding only this."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InitkeysAudit",
                "Effect": "Allow",
                "Action": list(AUDIT_ACTIONS),
                "Resource": "*",
            }
        ],
    }


# Remediation re-reads every key right before it acts (the audit's reads, plus the
# user's tags for the initkeys:exempt tag), then deactivates or deletes it; rollback
# reactivates with the same UpdateAccessKey. Nothing else is ever changed.
REMEDIATE_ACTIONS = tuple(
    dict.fromkeys(
        (*AUDIT_ACTIONS, "iam:ListUserTags", "iam:UpdateAccessKey", "iam:DeleteAccessKey")
    )
)


def remediate_policy() -> dict[str, Any]:
    """The policy ``initkeys remediate`` and ``initkeys rollback`` need; the tests remediate
    holding only this."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InitkeysRemediate",
                "Effect": "Allow",
                "Action": list(REMEDIATE_ACTIONS),
                "Resource": "*",
            }
        ],
    }


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


def render(name: str) -> str:
    return render_document(policy_document(name))


def render_document(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
