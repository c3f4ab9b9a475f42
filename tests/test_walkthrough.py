"""The README's walkthrough ("Ten minutes with initkeys") runs as written.

The section is read from README.md between ``<!-- walkthrough:begin -->`` and
``<!-- walkthrough:end -->``: the README is the only copy, so it cannot drift.
Every ``$ initkeys ...`` line of its ``console`` blocks is run, in order, in one temporary
directory with one temporary demo state (``INITKEYS_DEMO_STATE``), and must:

- exit with the code its line states (``# exit N`` at the end; none means 0);
- print the lines shown under it, in order: a shown line is an output line (trailing
  spaces aside), one ending in `` ...`` is the start of an output line, and a line
  ``...`` stands for any number of output lines. Without ``...`` between them, shown
  lines are consecutive output lines.

``python benchmarks/walkthrough_times.py`` runs the walkthrough as a user does (one
process per command) and prints each command's wall time.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from cli_kit import run_here, subprocess_env

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN, END = "<!-- walkthrough:begin -->", "<!-- walkthrough:end -->"
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
_FENCE = re.compile(r"^```console\s*\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
SKIP = "..."


@dataclass(frozen=True)
class Step:
    line: str
    """As the walkthrough shows it, without the ``$``."""
    args: list[str]
    """After ``initkeys``."""
    exit_code: int
    shown: list[str]


def section() -> tuple[str, str]:
    """(where it was read, the walkthrough's Markdown)."""
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"README.md has no {BEGIN} ... {END} section"
    return "README.md", text.split(BEGIN, 1)[1].split(END, 1)[0]


def steps(markdown: str) -> list[Step]:
    found: list[Step] = []
    for block in _FENCE.findall(markdown):
        for line in block.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                match = _EXIT.search(command)
                code = int(match.group(1)) if match else 0
                words = shlex.split(command[: match.start()] if match else command)
                assert words[0] == "initkeys", f"not an initkeys command: {line}"
                found.append(Step(command, words[1:], code, []))
            elif found:
                found[-1].shown.append(line.rstrip())
            else:
                raise AssertionError(f"output before any command: {line!r}")
    return found


def missing(shown: list[str], output: str) -> str | None:
    """The first shown line that the output does not have where it should; None if all do."""
    lines = [line.rstrip() for line in output.splitlines()]
    at, free = 0, False
    for want in shown:
        if want == SKIP:
            free = True
            continue
        prefix = want[: -len(SKIP)].rstrip() if want.endswith(" " + SKIP) else None

        def fits(line: str, want: str = want, prefix: str | None = prefix) -> bool:
            return line.startswith(prefix) if prefix is not None else line == want

        if free:
            hit = next((i for i in range(at, len(lines)) if fits(lines[i])), None)
            if hit is None:
                return want
            at = hit + 1
        else:
            if at >= len(lines) or not fits(lines[at]):
                return want
            at += 1
        free = False
    return None


def test_the_walkthrough_names_every_step() -> None:
    where, markdown = section()
    commands = [" ".join(s.args) for s in steps(markdown)]
    for needed in (
        "demo reset",
        "audit --demo",
        "audit --demo --format json -o audit.json",
        "remediate --demo --from-audit audit.json",
        "--apply",
        "rollback --demo --journal demo-journal.jsonl",
        "remediate --demo --apply --delete",
        "guard simulate --demo",
        "iac --demo",
    ):
        assert any(needed in c for c in commands), f"{where}: no step runs {needed!r}"


def test_missing_reads_shown_lines_as_documented() -> None:
    out = "a\nb  \nc\nd\n"
    assert missing(["a", "b", "c"], out) is None
    assert missing(["a", "c"], out) == "c"  # consecutive unless "..." between
    assert missing(["a", "...", "d"], out) is None
    assert missing(["...", "c ..."], "x\nbcd\n") == "c ..."  # " ...": a line's start
    assert missing(["...", "bc ..."], "x\nbcd\n") is None
    assert missing(["d", "a"], out) == "d"


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    where, markdown = section()
    env = subprocess_env(INITKEYS_DEMO_STATE=str(tmp_path / "demo-state"))
    work = tmp_path / "work"
    work.mkdir()
    for step in steps(markdown):
        proc = run_here(step.args, cwd=work, env=env)
        context = f"{where}: $ {step.line}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        assert proc.returncode == step.exit_code, context
        assert "Traceback" not in proc.stderr, context
        gone = missing(step.shown, proc.stdout)
        assert gone is None, f"not in the output: {gone!r}\n{context}"
    # The rule holds in the demo too: maria.gonzalez's key is in use, and stays Active.
    from initkeys.demo import open_demo

    with open_demo(str(tmp_path / "demo-state"), "test") as demo:
        (key,) = demo.iam.list_access_keys(UserName="maria.gonzalez")["AccessKeyMetadata"]
        assert key["Status"] == "Active"
