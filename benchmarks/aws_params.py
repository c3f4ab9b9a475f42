"""Count functions whose parameters include loose AWS plumbing (issue 11's measure).

Usage: python benchmarks/aws_params.py [src]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

NAMES = ("endpoint_url", "profile", "session")


def main(root: str = "src") -> None:
    counts = {name: 0 for name in NAMES}
    where: dict[str, list[str]] = {name: [] for name in NAMES}
    for path in sorted(Path(root).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                args = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
                for name in NAMES:
                    if name in args:
                        counts[name] += 1
                        where[name].append(f"{path}:{node.lineno} {node.name}")
    for name in NAMES:
        print(f"{name}: {counts[name]}")
    if "-v" in sys.argv:
        for name in NAMES:
            for line in where[name]:
                print(f"  {name} {line}")


if __name__ == "__main__":
    main(next((a for a in sys.argv[1:] if not a.startswith("-")), "src"))
