"""Security rule: initkeys never reads, prints, logs or stores a secret access key."""

from __future__ import annotations

from pathlib import Path

import initkeys

PACKAGE = Path(initkeys.__file__).parent


def test_only_the_demo_seeder_touches_secret_keys() -> None:
    # The audit reads key ids, dates and status (ListAccessKeys has no secret);
    # only the demo seeder holds the secrets of the keys it creates, in memory,
    # to mark some of them used.
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "SecretAccessKey" in path.read_text() and path.parent.name != "demo"
    ]
    assert offenders == []
