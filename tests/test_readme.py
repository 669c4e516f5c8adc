"""README.md: its sections parse as intended, and its example outputs are those of real runs (docs/readme.py)."""

import importlib.util
import re
import subprocess
import sys

import pytest
from helpers import ROOT
from markdown_it import MarkdownIt

README = ROOT / "README.md"
SCRIPT = ROOT / "docs" / "readme.py"

H2 = [
    "What it is for",
    "Quick tour for a ministry planner",
    "For provinces",
    "For analysts",
    "Plans over several periods: periods, a demand band, no yo-yo",
    "The planning workbench: `allocator serve`",
    "Excel",
    "When things go wrong",
    "Solving on a cluster: `--scheduler`",
    "The solution folder",
    "Exit codes",
    "Python API",
    "The model in brief",
    "Design notes",
    "Performance",
    "Developers",
]
INSTALL = [
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/allocator solve",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q",
]
# A line that opens or closes a fenced block (inside list items too).
FENCE_LINE = re.compile(r"^\s*(```|~~~)")


def script():
    spec = importlib.util.spec_from_file_location("readme_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def text() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tokens(text):
    return MarkdownIt("commonmark").parse(text)


def headings(tokens, tag: str) -> list[str]:
    return [tokens[k + 1].content for k, t in enumerate(tokens) if t.type == "heading_open" and t.tag == tag]


def test_sections_in_order(tokens):
    # A block left open swallows every heading after it, so this also fails on an unclosed fence.
    assert headings(tokens, "h1") == ["Reception Allocator"]
    assert headings(tokens, "h2") == H2


def test_every_fenced_block_is_closed(text, tokens):
    fences = [t for t in tokens if t.type == "fence"]
    raw = sum(bool(FENCE_LINE.match(line)) for line in text.splitlines())
    assert 2 * len(fences) == raw, f"{raw} fence lines but {len(fences)} fenced blocks: one is never closed"


def test_the_first_commands_install(tokens):
    code = [t.content.strip() for t in tokens if t.type in ("fence", "code_block")]
    assert code[:2] == INSTALL


def test_every_output_block_is_generated(text, tokens):
    marker = script().MARKER
    lines = text.splitlines()
    outputs = [t for t in tokens if t.type == "fence" and t.content.startswith("$ ")]
    assert outputs, "no output blocks found"
    for fence in outputs:
        start = fence.map[0]
        match = marker.match(lines[start - 1]) if start else None
        assert match, f"README.md line {start + 1}: an output block without a run marker before it"
        shown = [line[2:] for line in fence.content.splitlines() if line.startswith("$ ")]
        assert shown == [c.strip() for c in match["commands"].split(";;")], f"README.md line {start + 1}"


def test_the_site_a_province_adds_is_the_one_the_script_adds(text):
    assert script().EDE_SITE in text


def test_output_blocks_are_up_to_date():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT, timeout=900
    )
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
