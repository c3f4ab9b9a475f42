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

# The modules that define the public names of __all__, lightest first: a name is looked
# up in them on first use (PEP 562), so `import initkeys` and `initkeys --version` stay
# fast and each public name is listed once, in __all__.
_MODULES = (
    "initkeys.model",
    "initkeys.errors",
    "initkeys.control",
    "initkeys.evaluate",
    "initkeys.policy",
    "initkeys.sources.credential_report",
    "initkeys.audit",
    "initkeys.aws",
    "initkeys.app.audit",
    "initkeys.app.iac",
)

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

if TYPE_CHECKING:  # the same modules, for type checkers; __all__ says which names are public
    from initkeys.app.audit import *
    from initkeys.app.iac import *
    from initkeys.audit import *
    from initkeys.aws import *
    from initkeys.control import *
    from initkeys.errors import *
    from initkeys.evaluate import *
    from initkeys.model import *
    from initkeys.policy import *
    from initkeys.sources.credential_report import *


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            value = getattr(importlib.import_module(module), name, _MODULES)
            if value is not _MODULES:
                return value
    raise AttributeError(f"module 'initkeys' has no attribute {name!r}")
