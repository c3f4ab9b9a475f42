"""The sources stage: produce typed records from where the data lives.

- :mod:`initkeys.sources.credential_report` reads a credential report (a file,
  bytes, or the live API's content) into a :class:`~initkeys.model.CredentialReport`.
- :mod:`initkeys.sources.aws` reads a live account's IAM users, through the clients
  of an :class:`~initkeys.aws.AwsContext` (how AWS is reached: :mod:`initkeys.aws`).
- :mod:`initkeys.sources.accounts` selects accounts and reaches them by role.
- :mod:`initkeys.sources.cloudtrail` reads CloudTrail evidence.
"""

from initkeys.sources.credential_report import parse_credential_report, read_credential_report

__all__ = ["parse_credential_report", "read_credential_report"]
