"""``initkeys iac --format text`` (the default): a summary table per configuration, then
the problems (FAIL, ERROR, WARNING) with the file and line of the user, its console
password and its key, then the other findings one line each.

Every string read from a scanned file is escaped (:func:`initkeys.formats.visible`);
colour only on a terminal, and never inside such a string.
"""

from __future__ import annotations

from typing import TextIO

from initkeys.app.iac import IacRun
from initkeys.formats import status_label, visible
from initkeys.formats.iac import (
    IacFormatter,
    finding_message,
    incomplete_note,
    place,
    places,
    subject,
)
from initkeys.model import STATUS_ORDER, Status
from initkeys.sources.iac.records import IacFinding

_PROBLEMS = (Status.FAIL, Status.ERROR, Status.WARNING)
_COLOR = {
    Status.FAIL: "\x1b[1;31m",
    Status.ERROR: "\x1b[1;35m",
    Status.WARNING: "\x1b[33m",
    Status.PASS: "\x1b[32m",
    Status.NOT_APPLICABLE: "\x1b[2m",
}
_RESET = "\x1b[0m"


class IacTextFormatter(IacFormatter):
    name = "text"

    def render(
        self, run: IacRun, out: TextIO, *, color: bool = False, tool_version: str = ""
    ) -> None:
        _Writer(out, color).report(run, tool_version)

    def write(self, run: IacRun, out: TextIO, tool_version: str) -> None:
        self.render(run, out, tool_version=tool_version)


class _Writer:
    def __init__(self, out: TextIO, color: bool) -> None:
        self.out = out
        self.color = color

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def status(self, status: Status, width: int = 0) -> str:
        label = status_label(status).ljust(width)
        return f"{_COLOR[status]}{label}{_RESET}" if self.color else label

    def report(self, run: IacRun, tool_version: str) -> None:
        scanned = ", ".join(visible(p) for p in run.paths) or "-"
        self.line(
            f"initkeys {tool_version} iac: setup keys in infrastructure as code (CIS AWS 1.11)"
        )
        self.line(
            f"Scanned {scanned}: {run.files_read} file{_s(run.files_read)} read, "
            f"{run.skipped} JSON/YAML file{_s(run.skipped)} not IaC"
        )
        if run.nothing_found:
            self.line("No Terraform, CloudFormation or plan file found: nothing to judge.")
            return
        self.line(f"Result: {self.status(run.status)}" + _exempt(run.exempt))
        note = incomplete_note(run)
        if note is not None:
            self.line(note)
        self.line()
        self._summary(run)
        problems = [f for f in run.findings if f.status in _PROBLEMS]
        problems.sort(key=lambda f: _PROBLEMS.index(f.status))
        if problems:
            self.line()
            self.line("Problems:")
            for finding in problems:
                self._problem(finding)
        others = [f for f in run.findings if f.status not in _PROBLEMS]
        if others:
            self.line()
            self.line("Other findings:")
            for finding in others:
                self.line(
                    f"  {self.status(finding.status, 14)} {finding.reason.value:<24} "
                    f"{subject(finding)}  {place(finding.at)}"
                )

    def _summary(self, run: IacRun) -> None:
        rows: dict[str, dict[Status, int]] = {}
        for finding in run.findings:
            row = rows.setdefault(finding.configuration, dict.fromkeys(STATUS_ORDER, 0))
            row[finding.status] += 1
        names = [visible(config) for config in rows]
        width = max([len("Configuration"), *map(len, names)])
        heads = [status_label(s) for s in STATUS_ORDER]
        self.line("  ".join(["Configuration".ljust(width), *(h.rjust(7) for h in heads)]))
        for name, counts in zip(names, rows.values(), strict=True):
            cells = [str(counts[s]).rjust(7) for s in STATUS_ORDER]
            self.line("  ".join([name.ljust(width), *cells]))
        totals = run.counts()
        cells = [str(totals[s]).rjust(7) for s in STATUS_ORDER]
        self.line("  ".join(["Total".ljust(width), *cells]))

    def _problem(self, finding: IacFinding) -> None:
        self.line(f"  {self.status(finding.status)} {finding.reason.value}  {subject(finding)}")
        if finding.note is None:
            self.line(f"    user:       {place(finding.user_at)}")
            self.line(f"    password:   {places(finding.password_at)}")
            self.line(f"    key:        {places(finding.key_at)}")
        else:
            self.line(f"    file:       {place(finding.at)}")
        if finding.module:
            self.line(f"    module:     {visible(finding.module)}")
        if finding.conditions:
            self.line(f"    conditions: {visible('; '.join(finding.conditions))}")
        self.line(f"    {finding_message(finding)}")


def _exempt(n: int) -> str:
    return f" ({n} exempt finding{_s(n)} not counted)" if n else ""


def _s(n: int) -> str:
    return "" if n == 1 else "s"
