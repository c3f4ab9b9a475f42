"""The built-in demo: a fictional company in a local AWS emulator.

``initkeys audit --demo`` runs the normal live audit against it. Nothing here
is imported until the demo runs, and moto only when the emulator starts: the
CLI's start-up must not pay for either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from initkeys.errors import InputError

if TYPE_CHECKING:
    from initkeys.aws import AwsContext

__all__ = [
    "DEMO_ACCESS_KEY_ID",
    "DEMO_REGION",
    "DEMO_SECRET_ACCESS_KEY",
    "emulator_unavailable",
    "run_demo",
]

# Dummy credentials: not an IAM key of the seeded account, so auditing with
# them never marks a seeded key as used.
DEMO_ACCESS_KEY_ID = "demo"
DEMO_SECRET_ACCESS_KEY = "testing"
DEMO_REGION = "us-east-1"

# An import error's own text, at most this long (it is one line of stderr).
_REASON_LIMIT = 300


def emulator_unavailable(exc: ImportError) -> InputError:
    """The error for an emulator that cannot be imported, with the import's own reason.

    moto may be missing, or present in a version initkeys does not work with
    (an internal it uses moved): the reason tells which, so it is never
    reworded away. One line, bounded.
    """
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(reason) > _REASON_LIMIT:
        reason = reason[: _REASON_LIMIT - 3] + "..."
    return InputError(
        f"the demo needs the AWS emulator, which cannot be imported ({reason}): "
        "pip install 'initkeys[demo]' installs the tested moto"
    )


@contextmanager
def run_demo() -> Iterator[AwsContext]:
    """Start an in-process emulator, seed the demo company, yield the context that reaches it.

    The emulator's clock is frozen at the demo's "now" (2026-11-27T12:00:00Z)
    while the block runs, and the emulator stops when it exits. Raises
    ``InputError`` when moto cannot be imported (see :func:`emulator_unavailable`).
    """
    import boto3

    from initkeys.aws import AwsContext
    from initkeys.demo.company import seed_company
    from initkeys.demo.emulator import start_emulator

    with start_emulator() as emulator:
        # The demo's dummy credentials, never real AWS ones.
        session = boto3.Session(
            aws_access_key_id=DEMO_ACCESS_KEY_ID,
            aws_secret_access_key=DEMO_SECRET_ACCESS_KEY,
            region_name=DEMO_REGION,
        )
        aws = AwsContext(session, endpoint_url=emulator.endpoint_url)
        seed_company(aws, emulator.set_time)
        yield aws
