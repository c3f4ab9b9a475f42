"""``initkeys iac --format junit``: JUnit XML for CI test reports.

One test suite per configuration, one test case per finding (named by its user, or by
the file a note is about): a FAIL is a ``<failure>``, an ERROR (a file that could not be
read) an ``<error>``, a WARNING a ``<failure>`` only with ``--fail-on WARNING`` (else a
passing case with the warning in ``<system-out>``), PASS and NOT_APPLICABLE pass. An
exempt finding is ``<skipped>`` with the exemption's reason. Text is escaped as in the
audit's JUnit (:func:`initkeys.formats.junit.xml_text`).
"""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from initkeys.app.iac import IacRun
from initkeys.formats.iac import IacFormatter, finding_message, identified, places, subject
from initkeys.formats.junit import xml_attr, xml_text
from initkeys.model import Settings, Status
from initkeys.sources.iac.records import IacFinding


class IacJunitFormatter(IacFormatter):
    name = "junit"

    def write(self, run: IacRun, out: TextIO, tool_version: str) -> None:
        suites: dict[str, list[tuple[str, IacFinding]]] = {}
        for finding_id, finding in identified(run):
            suites.setdefault(finding.configuration, []).append((finding_id, finding))
        outcomes = {
            config: Counter(_outcome(f, run.settings) for _, f in cases)
            for config, cases in suites.items()
        }
        total: Counter[str] = sum(outcomes.values(), Counter())
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(
            f"<testsuites name={xml_attr(f'initkeys {tool_version} iac')} "
            f'tests="{len(run.findings)}" failures="{total["failure"]}" '
            f'errors="{total["error"]}" skipped="{total["skipped"]}">\n'
        )
        for config, cases in suites.items():
            tally = outcomes[config]
            out.write(
                f'  <testsuite name={xml_attr(config)} tests="{len(cases)}" '
                f'failures="{tally["failure"]}" errors="{tally["error"]}" '
                f'skipped="{tally["skipped"]}">\n'
            )
            for finding_id, finding in cases:
                _write_case(out, finding, finding_id, run.settings)
            out.write("  </testsuite>\n")
        out.write("</testsuites>\n")


def _outcome(finding: IacFinding, settings: Settings) -> str:
    if finding.exemption is not None:
        return "skipped"
    if finding.status is Status.ERROR:
        return "error"
    if finding.status is Status.FAIL or (
        finding.status is Status.WARNING and settings.fail_on is Status.WARNING
    ):
        return "failure"
    return "pass"


def _write_case(out: TextIO, finding: IacFinding, finding_id: str, settings: Settings) -> None:
    name = f"{finding.reason.value}: {subject(finding)}"
    out.write(f"    <testcase classname={xml_attr(finding.configuration)} name={xml_attr(name)}>\n")
    message = finding_message(finding)
    detail = xml_text(_detail(finding, finding_id))
    outcome = _outcome(finding, settings)
    if outcome == "skipped":
        reason = finding.exemption.describe() if finding.exemption else ""
        out.write(f"      <skipped message={xml_attr(reason)}/>\n")
    elif outcome in ("failure", "error"):
        out.write(
            f"      <{outcome} message={xml_attr(message)} type={xml_attr(finding.status.value)}>"
            f"{detail}</{outcome}>\n"
        )
    if outcome not in ("failure", "error"):
        out.write(f"      <system-out>{xml_text(message)}\n{detail}</system-out>\n")
    out.write("    </testcase>\n")


def _detail(finding: IacFinding, finding_id: str) -> str:
    lines = [
        f"status: {finding.status.value}",
        f"reason: {finding.reason.value}",
        f"configuration: {finding.configuration}",
        f"module: {finding.module or '(root)'}",
        f"user: {places((finding.user_at,)) if finding.user_at else '-'}",
        f"password: {places(finding.password_at)}",
        f"key: {places(finding.key_at)}",
    ]
    if finding.conditions:
        lines.append(f"conditions: {'; '.join(finding.conditions)}")
    lines.append(f"id: {finding_id}")
    return "\n".join(lines)
