"""Regenerate the README's example outputs from real runs, or check that they are up to date.

Every output block of README.md is preceded by a marker naming the commands that produce it::

    <!-- run: allocator validate -->
    ```
    $ allocator validate
    ...
    ```

Options go in brackets after ``run``, separated by commas: ``slow`` (left out of ``--check``,
which the test suite runs), ``head=N`` (keep the first N lines of each output, then ``...``),
``grep=TEXT`` (keep the lines holding TEXT, after ``...``), ``interrupt=S`` (send Ctrl-C after S
seconds), ``setup=NAME`` (a preparation step below, not shown). Several commands are separated
by `` ;; ``. Blocks run in order in one scratch folder (with ``instances`` linked into it), so a
later block can use what an earlier one wrote.

    python docs/readme.py            # rewrite every block in README.md
    python docs/readme.py --check    # rerun the blocks not marked slow and compare (timings masked)
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- run(?: \[(?P<options>[^\]]*)\])?: (?P<commands>.*?) -->$")
# Figures that change from run to run: durations and elapsed times.
TIMING = re.compile(r"\d+(?:\.\d+)?\s?s\b|\d+m\d+s|\d+(?:\.\d+)? MB")


@dataclass
class Block:
    marker_line: int  # index of the marker line
    start: int  # index of the opening fence
    end: int  # index of the closing fence
    commands: list[str]
    options: dict[str, str]

    @property
    def slow(self) -> bool:
        return "slow" in self.options


def blocks(lines: list[str]) -> list[Block]:
    """Every marked block, with the line numbers of its fences."""
    out = []
    for k, line in enumerate(lines):
        match = MARKER.match(line)
        if not match:
            continue
        if k + 1 >= len(lines) or lines[k + 1] != "```":
            raise SystemExit(f"README.md line {k + 1}: a run marker must be followed by a ``` block")
        end = next((j for j in range(k + 2, len(lines)) if lines[j] == "```"), None)
        if end is None:
            raise SystemExit(f"README.md line {k + 2}: the block is never closed")
        options = {}
        for item in filter(None, (o.strip() for o in (match.group("options") or "").split(","))):
            key, _, value = item.partition("=")
            options[key] = value
        out.append(Block(k, k + 1, end, [c.strip() for c in match.group("commands").split(";;")], options))
    return out


def setup(name: str, cwd: Path) -> None:
    """Preparation steps a block needs, not shown in the README."""
    if name == "edit-workbook":
        from openpyxl import load_workbook

        book = load_workbook(cwd / "nl-2024.xlsx")
        sites = book["sites"]
        sites["H12"] = "2,000"  # capacity typed as text with a thousands separator
        sites["F13"] = "open"  # a status that does not exist
        book.save(cwd / "plan-edited.xlsx")
    elif name == "province-site":
        import shutil

        shutil.copytree(ROOT / "instances" / "nl-2024", cwd / "nl-2024-ede", dirs_exist_ok=True)
        with open(cwd / "nl-2024-ede" / "sites.csv", "a", encoding="utf-8") as f:
            f.write(
                "L-EDE2,Ede Kazerne (large candidate),GM0228,PV25,large,candidate,1000,2000,4000000,26900,52.0500,5.6900\n"
            )
    else:
        raise SystemExit(f"unknown setup step {name!r}")


def run(command: str, cwd: Path, interrupt: float | None) -> str:
    """The output of one command as a user sees it in a terminal (stdout and stderr together)."""
    parts = shlex.split(command.split("  #")[0])
    if parts[0] == "allocator":
        parts = [sys.executable, "-m", "allocator.commands.main", *parts[1:]]
    env = {**os.environ, "COLUMNS": "120", "PYTHONHASHSEED": "0"}
    env.pop("ALLOCATOR_HOME", None)
    proc = subprocess.Popen(parts, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if interrupt is not None:
        time.sleep(interrupt)
        proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=3600)
    text = out.replace(str(cwd) + "/", "").replace(str(cwd), ".").replace(str(ROOT) + "/", "")
    return text.rstrip("\n") + ("\n^C" if interrupt is not None and "^C" not in text else "")


def shape(output: str, options: dict[str, str]) -> list[str]:
    lines = output.splitlines()
    if "grep" in options:
        lines = ["...", *[line for line in lines if options["grep"] in line]]
    if "head" in options and len(lines) > int(options["head"]):
        lines = [*lines[: int(options["head"])], "..."]
    return lines


def render(block: Block, cwd: Path) -> list[str]:
    if "setup" in block.options:
        setup(block.options["setup"], cwd)
    body = []
    interrupt = float(block.options["interrupt"]) if "interrupt" in block.options else None
    for command in block.commands:
        body += [f"$ {command}", *shape(run(command, cwd, interrupt), block.options)]
    return body


def masked(lines: list[str]) -> list[str]:
    return [TIMING.sub("#", line) for line in lines]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="rerun the blocks not marked slow and compare")
    args = parser.parse_args()
    lines = README.read_text(encoding="utf-8").splitlines()
    found = blocks(lines)
    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        cwd = Path(scratch)
        (cwd / "instances").symlink_to(ROOT / "instances")
        replaced: dict[int, list[str]] = {}
        for block in found:
            if args.check and block.slow:
                continue
            print(f"running: {' ;; '.join(block.commands)}", file=sys.stderr)
            new = render(block, cwd)
            old = lines[block.start + 1 : block.end]
            if args.check and masked(new) != masked(old):
                stale.append(
                    "\n".join(difflib.unified_diff(old, new, f"README.md line {block.start + 2}", "now", lineterm=""))
                )
            replaced[block.start] = new
    if args.check:
        for diff in stale:
            print(diff)
        print(
            f"{len(stale)} of {sum(not b.slow for b in found)} checked output blocks are out of date"
            if stale
            else "every checked output block is up to date"
        )
        return 1 if stale else 0
    out = []
    k = 0
    for block in found:
        out += lines[k : block.start + 1] + replaced[block.start]
        k = block.end
    out += lines[k:]
    README.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(found)} output blocks regenerated in README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
