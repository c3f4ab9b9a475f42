"""The generated sections of benchmarks/RESULTS.md: each script rewrites its own."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, heading: str, lines: list[str], script: str | None = None) -> None:
    """Put ``lines`` between the markers of section ``name`` (written by
    benchmarks/``script``.py, by default ``name`` with '_' for '-'); the first time, the
    section is added at the end under ``heading``. The rest of the file is kept."""
    script = script or name.replace("-", "_")
    begin = f"<!-- {name}:begin (written by benchmarks/{script}.py) -->"
    end = f"<!-- {name}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = "\n".join([begin, *lines, end])
    if begin in text and end in text:
        before, after = text.split(begin, 1)
        text = before + block + after.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n{block}\n"
    RESULTS.write_text(text)
