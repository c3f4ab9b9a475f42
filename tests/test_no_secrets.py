"""Security rule: initkeys never prints, logs or stores a secret access key."""

from __future__ import annotations

from pathlib import Path

import initkeys

PACKAGE = Path(initkeys.__file__).parent

# Where a secret may be held in memory, and why:
# - demo/: the seeder holds the secrets of the demo keys it creates, to mark
#   some of them used by signing a call;
# - sources/accounts.py: hands the temporary credentials of an assumed role
#   (STS AssumeRole) to botocore, as credentials that refresh themselves.
ALLOWED = {"demo/__init__.py", "demo/company.py", "demo/emulator.py", "sources/accounts.py"}


def test_only_known_places_touch_secret_keys() -> None:
    # The audit reads key ids, dates and status (ListAccessKeys has no secret).
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "SecretAccessKey" in path.read_text() and str(path.relative_to(PACKAGE)) not in ALLOWED
    ]
    assert offenders == []


def test_assumed_role_secrets_go_only_to_boto3() -> None:
    text = (PACKAGE / "sources" / "accounts.py").read_text()
    assert text.count('credentials["SecretAccessKey"]') == 1
    assert "print(" not in text and "logging" not in text
