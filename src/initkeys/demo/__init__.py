"""The built-in demo: a fictional company in a local AWS emulator.

``initkeys audit --demo`` runs the normal live audit against it. Nothing here
is imported until the demo runs, and moto only when the emulator starts: the
CLI's start-up must not pay for either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from initkeys.errors import InputError

if TYPE_CHECKING:
    from initkeys.aws import AwsContext
    from initkeys.demo.emulator import Emulator
    from initkeys.demo.state import DemoState

__all__ = [
    "DEMO_ACCESS_KEY_ID",
    "DEMO_REGION",
    "DEMO_SECRET_ACCESS_KEY",
    "DemoRun",
    "emulator_unavailable",
    "open_demo",
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
    while the block runs, and the emulator stops when it exits. Nothing persists:
    :func:`open_demo` is the demo that remembers. Raises ``InputError`` when moto
    cannot be imported (see :func:`emulator_unavailable`).
    """
    with _seeded() as (emulator, aws):
        _seed(emulator, aws)  # leaves the clock at DEMO_NOW
        yield aws


@dataclass(frozen=True)
class DemoRun:
    """One demo command: the context that reaches the emulator, the demo instant it runs
    at, and its state (every IAM change made through ``aws`` is recorded there)."""

    aws: AwsContext
    now: datetime
    state: DemoState
    emulator: Emulator

    @property
    def iam(self) -> Any:
        return self.aws.client("iam")

    def new_hire_event(self) -> dict[str, Any]:
        """The EventBridge event of a fresh setup key (see
        :func:`initkeys.demo.replay.new_hire_event`)."""
        from initkeys.demo.replay import new_hire_event

        account = str(self.aws.client("sts").get_caller_identity()["Account"])
        return new_hire_event(self.iam, self.emulator.set_time, self.now, account)


@contextmanager
def open_demo(state_dir: str | None = None, command: str = "audit") -> Iterator[DemoRun]:
    """The demo as the commands of one walkthrough share it: the company seeded the same
    way every time, the changes of earlier commands (in ``state_dir``, default
    :func:`~initkeys.demo.state.default_state_dir`) replayed, the clock at this
    command's instant, and what this command changes recorded for the next.

    InputError for an unusable state directory or log (see :mod:`initkeys.demo.state`).
    """
    from initkeys.demo.replay import Recorder, replay
    from initkeys.demo.state import COMMAND, Change, default_state_dir, open_state

    with open_state(state_dir or default_state_dir()) as state, _seeded() as (emulator, aws):
        _seed(emulator, aws)
        replay(state, aws.client("iam"), emulator.set_time, emulator.reseed)
        now = state.now
        state.append(Change(op=COMMAND, at=now, command=command))
        emulator.set_time(now)
        Recorder(state, emulator.now, emulator.reseed).attach(aws.session)
        yield DemoRun(aws, now, state, emulator)


@contextmanager
def _seeded() -> Iterator[tuple[Emulator, AwsContext]]:
    import boto3

    from initkeys.aws import AwsContext
    from initkeys.aws.retry import DEFAULT_POLICY, PollSchedule

    local_polling = PollSchedule(first=0.05, growth=1.5, cap=0.5)
    from initkeys.demo.emulator import start_emulator
    from initkeys.demo.state import COMPANY_SEED

    with start_emulator() as emulator:
        # Each start begins from nothing: moto's state is the process's, and an
        # earlier demo in this process (a test, a notebook) left its company there.
        emulator.start_over(COMPANY_SEED)
        # The demo's dummy credentials, never real AWS ones.
        session = boto3.Session(
            aws_access_key_id=DEMO_ACCESS_KEY_ID,
            aws_secret_access_key=DEMO_SECRET_ACCESS_KEY,
            region_name=DEMO_REGION,
        )
        # Journals are dated by the emulator's clock, as its keys are. The emulator makes
        # its credential report at once: polling at AWS's pace would only wait.
        aws = AwsContext(
            session,
            endpoint_url=emulator.endpoint_url,
            retry=replace(DEFAULT_POLICY, polling=local_polling),
            clock=emulator.now,
        )
        yield emulator, aws


def _seed(emulator: Emulator, aws: AwsContext) -> None:
    from initkeys.demo.company import seed_company

    seed_company(aws, emulator.set_time)
