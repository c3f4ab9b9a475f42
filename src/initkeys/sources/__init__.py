"""The sources stage: produce typed records from where the data lives.

- :mod:`initkeys.sources.credential_report` reads a credential report (a file,
  bytes, or the live API's content) into a :class:`~initkeys.model.CredentialReport`.
- :mod:`initkeys.sources.aws` reads a live account with boto3.

All boto3 use of the audit lives in this package.
"""

from initkeys.sources.credential_report import (
    parse_credential_report,
    read_credential_report,
)

__all__ = ["parse_credential_report", "read_credential_report"]
