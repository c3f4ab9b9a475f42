"""initkeys: find, prove and safely remove AWS IAM access keys created during a
console user's initial setup (CIS AWS Foundations Benchmark 1.11).

The Python API the CLI is built on::

    import boto3, initkeys

    result = initkeys.audit_account(boto3.Session(profile_name="prod"))
    # or, to choose the endpoint, the retries (an injected sleep) and count calls:
    aws = initkeys.AwsContext.open(profile="prod", region="eu-west-1")
    result = initkeys.audit_account(aws)
    for finding in result.findings:
        print(finding.status, finding.user, finding.access_key_id, finding.reason)

    report = initkeys.read_credential_report("client-report.csv")
    result = initkeys.evaluate_report(report, initkeys.Settings(mode=initkeys.Mode.CIS))

These functions are the application layer (:mod:`initkeys.app`): the command line
calls the same ones. Nothing heavy is imported here: boto3 loads only when AWS is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from initkeys._version import __version__

# Public name → module that defines it; loaded on first use (PEP 562) so that
# `import initkeys` and `initkeys --version` stay fast.
_EXPORTS = {
    "audit_account": "initkeys.app.audit",
    "audit_accounts": "initkeys.app.audit",
    "scan_iac": "initkeys.app.iac",
    "AwsContext": "initkeys.aws",
    "RetryPolicy": "initkeys.aws",
    "audit_report_file": "initkeys.audit",
    "CONTROL": "initkeys.control",
    "AccessError": "initkeys.errors",
    "InitkeysError": "initkeys.errors",
    "InputError": "initkeys.errors",
    "evaluate_report": "initkeys.evaluate",
    "judge_user": "initkeys.evaluate",
    "AccessKey": "initkeys.model",
    "AccountAudit": "initkeys.model",
    "AuditRun": "initkeys.model",
    "CredentialReport": "initkeys.model",
    "Finding": "initkeys.model",
    "IamUser": "initkeys.model",
    "Mode": "initkeys.model",
    "Reason": "initkeys.model",
    "Settings": "initkeys.model",
    "Status": "initkeys.model",
    "policy_document": "initkeys.policy",
    "parse_credential_report": "initkeys.sources.credential_report",
    "read_credential_report": "initkeys.sources.credential_report",
}

__all__ = [
    "CONTROL",
    "AccessError",
    "AccessKey",
    "AccountAudit",
    "AuditRun",
    "AwsContext",
    "CredentialReport",
    "Finding",
    "IamUser",
    "InitkeysError",
    "InputError",
    "Mode",
    "Reason",
    "RetryPolicy",
    "Settings",
    "Status",
    "__version__",
    "audit_account",
    "audit_accounts",
    "audit_report_file",
    "evaluate_report",
    "judge_user",
    "parse_credential_report",
    "policy_document",
    "read_credential_report",
    "scan_iac",
]

if TYPE_CHECKING:
    from initkeys.app.audit import audit_account, audit_accounts
    from initkeys.app.iac import scan_iac
    from initkeys.audit import audit_report_file
    from initkeys.aws import AwsContext, RetryPolicy
    from initkeys.control import CONTROL
    from initkeys.errors import AccessError, InitkeysError, InputError
    from initkeys.evaluate import evaluate_report, judge_user
    from initkeys.model import (
        AccessKey,
        AccountAudit,
        AuditRun,
        CredentialReport,
        Finding,
        IamUser,
        Mode,
        Reason,
        Settings,
        Status,
    )
    from initkeys.policy import policy_document
    from initkeys.sources.credential_report import (
        parse_credential_report,
        read_credential_report,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'initkeys' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
