"""Regenerate the example outputs of README.md and the manual's pages from real runs, or check them.

Every output block of README.md and of the pages in docs/ is preceded by a marker naming the
commands that produce it::

    <!-- run: allocator validate -->
    ```
    $ allocator validate
    ...
    ```

Options go in brackets after ``run``, separated by commas: ``slow`` (left out of ``--check``,
which the test suite runs), ``head=N`` (keep the first N lines of each output, then ``...``),
``tail=N`` (keep the last N lines, after ``...``; with ``head``, both ends), ``grep=TEXT`` (keep
the lines holding TEXT, after ``...``), ``interrupt=S`` (send Ctrl-C after S seconds),
``setup=NAME`` (a preparation step below, not shown). Several commands are separated by `` ;; ``.
Blocks run in order in one scratch folder (with ``instances`` linked into it): README.md first,
then the pages in the order of the navigation in mkdocs.yml, so a later block, on the same page
or a later one, can use what an earlier one wrote.

    python docs/readme.py            # rewrite every block in README.md and the pages
    python docs/readme.py --check    # rerun the blocks not marked slow and compare (timings masked)
    python docs/readme.py --only horizon   # rewrite only the blocks whose commands hold "horizon" (repeatable)
    python docs/readme.py --skip backtest  # rewrite every block but those (repeatable)
    python docs/readme.py --only ede --keep "--province PV25 --out solutions/gelderland"
        # run the kept blocks too (later blocks need what they write), but leave their output as it is
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
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MARKER = re.compile(r"^<!-- run(?: \[(?P<options>[^\]]*)\])?: (?P<commands>.*?) -->$")
# Figures that change from run to run: durations and elapsed times.
# The candidate site a province adds to its copy of nl-2024 (the province's guide shows this row).
EDE_SITE = "L-EDE2,Ede Kazerne (large candidate),GM0228,PV25,large,candidate,1000,2000,4000000,26900,52.0500,5.6900"
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

    def holds(self, text: str) -> bool:
        return any(text in c for c in self.commands)


def pages() -> list[Path]:
    """README.md, then every page of the manual in the order of the navigation in mkdocs.yml."""

    class Loader(yaml.SafeLoader):
        """Reads mkdocs.yml's nav; tags naming Python objects (e.g. a slugify function) are read as nothing."""

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)

    def walk(item) -> list[str]:
        if isinstance(item, str):
            return [] if "://" in item else [item]
        if isinstance(item, dict):
            return [p for value in item.values() for p in walk(value)]
        return [p for value in item for p in walk(value)]

    return [README, *(DOCS / page for page in walk(config["nav"]))]


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def blocks(lines: list[str], where: str = "README.md") -> list[Block]:
    """Every marked block of a file (named `where` in messages), with the line numbers of its fences."""
    out = []
    for k, line in enumerate(lines):
        match = MARKER.match(line)
        if not match:
            continue
        if k + 1 >= len(lines) or lines[k + 1] != "```":
            raise SystemExit(f"{where} line {k + 1}: a run marker must be followed by a ``` block")
        end = next((j for j in range(k + 2, len(lines)) if lines[j] == "```"), None)
        if end is None:
            raise SystemExit(f"{where} line {k + 2}: the block is never closed")
        options = {}
        for item in filter(None, (o.strip() for o in (match.group("options") or "").split(","))):
            key, _, value = item.partition("=")
            options[key] = value
        out.append(Block(k, k + 1, end, [c.strip() for c in match.group("commands").split(";;")], options))
    return out


def setup(name: str, cwd: Path) -> None:
    """Preparation steps a block needs, not shown in the output."""
    if name == "edit-workbook":
        from openpyxl import load_workbook

        book = load_workbook(cwd / "solutions" / "nl-2024.xlsx")
        sites = book["sites"]
        sites["H12"] = "2,000"  # capacity typed as text with a thousands separator
        sites["F13"] = "open"  # a status that does not exist
        book.save(cwd / "solutions" / "plan-edited.xlsx")
    elif name == "province-site":
        import shutil

        # The steps the province's guide shows: copy nl-2024 into solutions/, give the copy its own name, add one site row.
        copy = cwd / "solutions" / "nl-2024-ede"
        shutil.copytree(ROOT / "instances" / "nl-2024", copy, dirs_exist_ok=True)
        toml = copy / "instance.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace('name = "nl-2024"', 'name = "nl-2024-ede"', 1))
        with open(copy / "sites.csv", "a", encoding="utf-8") as f:
            f.write(f"{EDE_SITE}\n")
    else:
        raise SystemExit(f"unknown setup step {name!r}")


def run(command: str, cwd: Path, interrupt: float | None) -> str:
    """The output of one command as a user sees it in a terminal (stdout and stderr together)."""
    parts = shlex.split(command.split("  #")[0])
    if parts[0] == "allocator":
        parts = [sys.executable, "-m", "allocator.commands.main", *parts[1:]]
    # Unbuffered, so that what was printed before a Ctrl-C comes before the ^C.
    env = {**os.environ, "COLUMNS": "120", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("ALLOCATOR_HOME", None)
    proc = subprocess.Popen(parts, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read)
    reader.start()
    if interrupt is not None:
        time.sleep(interrupt)
        lines.append("^C\n")  # where a terminal shows it
        proc.send_signal(signal.SIGINT)
    proc.wait(timeout=3600)
    reader.join()
    text = "".join(lines)
    text = text.replace(str(cwd) + "/", "").replace(str(cwd), ".").replace(str(ROOT) + "/", "")
    return text.rstrip("\n")


def shape(output: str, options: dict[str, str]) -> list[str]:
    lines = output.splitlines()
    if "grep" in options:
        lines = ["...", *[line for line in lines if options["grep"] in line]]
    head, tail = int(options.get("head", 0)), int(options.get("tail", 0))
    if (head or tail) and len(lines) > head + tail:
        lines = [*lines[:head], "...", *(lines[-tail:] if tail else [])]
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
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="only the blocks whose commands hold TEXT (repeatable)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="TEXT",
        help="keep the blocks whose commands hold TEXT as they are",
    )
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="TEXT",
        help="run the blocks whose commands hold TEXT (for the blocks after them) but keep their output as it is",
    )
    args = parser.parse_args()
    files = {path: path.read_text(encoding="utf-8").splitlines() for path in pages()}
    found = [(path, block) for path, lines in files.items() for block in blocks(lines, name(path))]
    stale = []
    replaced: dict[tuple[Path, int], list[str]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        cwd = Path(scratch)
        (cwd / "instances").symlink_to(ROOT / "instances")
        for path, block in found:
            old = files[path][block.start + 1 : block.end]
            new = regenerate(block, cwd, args)
            replaced[path, block.start] = old if new is None else new
            if args.check and new is not None and masked(new) != masked(old):
                where = f"{name(path)} line {block.start + 2}"
                stale.append("\n".join(difflib.unified_diff(old, new, where, "now", lineterm="")))
    if args.check:
        for diff in stale:
            print(diff)
        print(
            f"{len(stale)} of {sum(not b.slow for _, b in found)} checked output blocks are out of date"
            if stale
            else "every checked output block is up to date"
        )
        return 1 if stale else 0
    for path, lines in files.items():
        out = []
        k = 0
        for block in (b for p, b in found if p == path):
            out += lines[k : block.start + 1] + replaced[path, block.start]
            k = block.end
        out += lines[k:]
        if out != lines:
            path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(found)} output blocks regenerated in {len(files)} files (README.md and the manual's pages)")
    return 0


def regenerate(block: Block, cwd: Path, args: argparse.Namespace) -> list[str] | None:
    """The block's new output, or None to keep it as it is (after running it when kept for later blocks)."""
    kept = any(map(block.holds, args.keep)) and not (args.only and any(map(block.holds, args.only)))
    if (
        (args.check and block.slow)
        or (args.only and not any(map(block.holds, args.only)) and not kept)
        or any(map(block.holds, args.skip))
    ):
        return None
    print(f"running: {' ;; '.join(block.commands)}", file=sys.stderr)
    new = render(block, cwd)
    return None if kept else new


if __name__ == "__main__":
    sys.exit(main())
