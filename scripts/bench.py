"""List the benchmarks (`make bench`), or run each at its defaults one after another (`make bench-all`).

Everything comes from the bench/*.py docstrings: the first paragraph says what a script measures, and its
lines that start with `.venv/bin/python bench/` say how to run it. `--run` runs every such line that
passes no options (an option in [brackets] is left out): each script's default figures, hours in all.
Stdlib only, and no bench script is imported, so listing is instant and needs no virtualenv.
"""
from __future__ import annotations

import argparse
import ast
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USAGE = re.compile(r"^\s*(\.venv/bin/python bench/\S+\.py.*)$")


def benches() -> list[tuple[str, str, list[str]]]:
    """(path, purpose, usage lines) for each bench script, in name order."""
    found = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        purpose = " ".join(doc.split("\n\n")[0].split())
        usages = [m.group(1).rstrip() for line in doc.splitlines() if (m := USAGE.match(line))]
        found.append((str(path.relative_to(ROOT)), purpose, usages))
    return found


def default_command(usage: str) -> list[str] | None:
    """The usage line as a command when it passes no options; None when it shows a variant."""
    command = re.sub(r"\[[^\]]*\]", "", usage.split("#", 1)[0]).split()
    if any(word.startswith("-") for word in command[2:]):
        return None
    return [sys.executable, *command[1:]]


def bench_list() -> None:
    for path, purpose, usages in benches():
        print(path)
        print(textwrap.fill(purpose, width=110, initial_indent="  ", subsequent_indent="  "))
        for usage in usages or [f".venv/bin/python {path}"]:
            print(f"    {usage}")
        print()
    print("Each ends with one JSON line; the latest figures are in docs/benchmarks.md (and docs/quality.md).")
    print("`make bench-all` runs every default line above, one after another: hours on a laptop.")


def bench_run_all() -> int:
    failed = []
    for path, _, usages in benches():
        commands = [c for c in map(default_command, usages or [f".venv/bin/python {path}"]) if c]
        for command in commands:
            print(f"== {shlex.join(command[1:])}", flush=True)
            if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
                failed.append(shlex.join(command[1:]))
    for command in failed:
        print(f"FAILED: {command}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run every bench at its defaults (hours)")
    args = parser.parse_args()
    sys.exit(bench_run_all() if args.run else bench_list())
