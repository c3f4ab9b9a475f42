"""Scan infrastructure as code for setup keys: paths and settings in, an :class:`IacRun` out.

No printing and no exit codes here (the command line maps :meth:`IacRun.fails` to them,
as for an audit: docs/verdicts.md, "Infrastructure as code"). A path that does not
exist, or a scan in which nothing could be read, raises
:class:`~initkeys.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from initkeys.errors import InputError
from initkeys.model import STATUS_ORDER, Settings, Status, Tallied, run_fails, worst
from initkeys.sources.iac.records import IacFinding, IacReason

if TYPE_CHECKING:
    from initkeys.sources.iac.walk import Readers


@dataclass(frozen=True)
class IacRun(Tallied):
    """Everything one ``initkeys iac`` invocation found."""

    settings: Settings
    generated_at: datetime
    findings: tuple[IacFinding, ...] = ()
    files_read: int = 0
    """Files parsed by a reader (a Terraform folder counts each of its files)."""
    skipped: int = 0
    """JSON and YAML files that are neither a template nor a plan."""
    paths: tuple[str, ...] = ()
    """The paths scanned, as given."""

    @property
    def status(self) -> Status:
        """The worst status of any finding; NOT_APPLICABLE when there is none."""
        return worst(s for s in STATUS_ORDER if self._tally[0][s]) or Status.NOT_APPLICABLE

    @property
    def unreadable(self) -> int:
        """Files (or folders) that could not be read: each is an ERROR finding."""
        return sum(1 for f in self.findings if f.reason is IacReason.UNREADABLE)

    def incomplete(self) -> bool:
        """True when an ERROR finding no exemption covers says something was not read."""
        return self._tally[1][Status.ERROR] > 0

    def fails(self) -> bool:
        """The exit rule of the audit (fail closed): see :func:`initkeys.model.run_fails`."""
        return run_fails(self.settings, self._tally[1], self.incomplete())

    @property
    def nothing_found(self) -> bool:
        """No IaC file at all under the paths (e.g. a commit of other JSON or YAML)."""
        return self.files_read == 0 and not self.findings


def scan_iac(
    paths: Sequence[str | Path],
    settings: Settings | None = None,
    *,
    generated_at: datetime | None = None,
    readers: Readers | None = None,
    shown_as: Sequence[str] | None = None,
) -> IacRun:
    """Scan ``paths`` (files or folders, recursively) and judge every IAM user, console
    password and access key the configurations found would create.

    ``generated_at``: the run's time (default: now, in UTC, to the second); ``readers``:
    the file readers (default: initkeys' own; tests hand stand-ins); ``shown_as``: the
    name to show for each path, instead of the path as given. Raises
    :class:`InputError` when a path does not exist or when files were found but none of
    them could be read (so the run saw nothing: exit 2, as for an unreadable report)."""
    from initkeys.evaluate.iac import judge_iac
    from initkeys.sources.iac.walk import display_name, scan_paths

    if not paths:
        raise InputError("initkeys iac needs at least one file or folder to scan")
    settings = settings or Settings()
    when = generated_at or datetime.now(timezone.utc).replace(microsecond=0)
    scan = scan_paths(paths, readers, shown_as=shown_as)
    unreadable = [n for n in scan.notes if n.unreadable]
    if scan.files_read == 0 and unreadable:
        more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
        raise InputError(f"nothing could be read: {unreadable[0].what}{more}")
    return IacRun(
        settings=settings,
        generated_at=when,
        findings=judge_iac(scan, settings),
        files_read=scan.files_read,
        skipped=scan.skipped,
        paths=tuple(display_name(str(p)) for p in (paths if shown_as is None else shown_as)),
    )
