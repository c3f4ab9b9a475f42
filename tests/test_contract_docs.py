"""docs/verdicts.md, the behaviour contract in the repository: what the code cites is there."""

from __future__ import annotations

import re
from pathlib import Path

from initkeys.model import Mode, Reason, Status

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "verdicts.md").read_text(encoding="utf-8")
HEADINGS = {line.lstrip("#").strip() for line in DOC.splitlines() if line.startswith("#")}


def _sources() -> list[Path]:
    return sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").glob("*.py")])


def test_nothing_cites_a_contract_the_repository_does_not_have() -> None:
    elsewhere = "shared" + "/spec"  # not spelled out, or this file would cite it
    cited = [p for p in _sources() if elsewhere in p.read_text(encoding="utf-8")]
    assert cited == [], cited


def test_every_section_the_code_cites_is_in_the_contract() -> None:
    citation = re.compile(r"docs/verdicts\.md``?,\s+\"([^\"]+)\"")
    found = 0
    for path in _sources():
        for heading in citation.findall(path.read_text(encoding="utf-8")):
            assert heading in HEADINGS, (path.name, heading)
            found += 1
    assert found >= 2


def test_every_status_reason_and_mode_is_in_the_contract() -> None:
    for value in [*(r.value for r in Reason), *(m.value for m in Mode)]:
        assert f"`{value}`" in DOC, value
    for status in Status:
        assert status.value in DOC, status


def test_the_contract_points_at_the_shipped_schema() -> None:
    link = re.search(r"\]\((\.\./src/initkeys/schemas/report-v1\.json)\)", DOC)
    assert link is not None
    assert (ROOT / "docs" / link.group(1)).resolve().is_file()
