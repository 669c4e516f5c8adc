"""README.md and the manual (mkdocs.yml, docs/): their sections parse as intended, their example outputs are those
of real runs (docs/readme.py), and the manual builds with no broken link or anchor, missing page or page left out."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT
from markdown_it import MarkdownIt

README = ROOT / "README.md"
DOCS = ROOT / "docs"
SCRIPT = DOCS / "readme.py"

README_H2 = ["What it is for", "A five-minute tour", "The manual"]
# The title and sections of each page written for the manual (the other pages include a file of the repository).
PAGES = {
    "index.md": ("Reception Allocator", ["What it is for", "The manual"]),
    "guides/ministry.md": (
        "Guide for a ministry planner",
        [
            "Solve the national plan",
            "Check it",
            "Ask why",
            "A budget",
            "Reports",
            "Plans over several periods: periods, a demand band, no yo-yo",
            "Comparing plans and sweeping a policy key",
            "The back-test",
        ],
    ),
    "guides/province.md": (
        "Guide for a province",
        [
            "Ids and names: `allocator list`, `allocator instances`",
            "Testing candidate large sites: `allocator whatif`",
            "One province on its own: `allocator solve --province`",
            "Adding a candidate site of your own",
            "A province's own plan: `allocator check-plan`",
            "Merging plans: `allocator merge`",
            "The allocation decision: `allocator decide`",
            "One period of a plan over periods: `--period`",
            "Who runs a site: COA, the municipality, or both",
        ],
    ),
    "guides/analyst.md": (
        "Guide for an analyst",
        [
            "Policies and policy keys",
            "Comparing solutions: `allocator compare`",
            "Scenario sweeps: `allocator sweep`",
            "Synthetic instances: `allocator generate`",
            "Excel",
            "Python API",
            "Solving on a cluster: `--scheduler`",
        ],
    ),
    "guides/troubleshooting.md": (
        "When things go wrong",
        [
            "Why no plan, or why unmet demand",
            "Time limits",
            "Interrupts",
            "What is never overwritten",
            "What `check` verifies",
            "Bad input",
        ],
    ),
    "formulation.md": ("The model in brief", []),
    "cli.md": ("Command-line reference", ["Exit codes", "Commands"]),
    "solutions.md": ("Solution format", ["The solution folder", "Columns", "Other folders"]),
    "workbench.md": ("The planning workbench: `allocator serve`", []),
    "performance/index.md": ("Performance", []),
    "backtest.md": ("The back-test: `allocator backtest`", []),
    "developers.md": ("Developers", ["Design notes", "Floors", "House style", "The manual and its outputs", "Layout"]),
}
INSTALL = [
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/allocator solve",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q",
]
# A line that opens or closes a fenced block (inside list items too).
FENCE_LINE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def script():
    return load(SCRIPT, "readme_script")


FILES = script().pages()
NAMES = [str(p.relative_to(ROOT)) for p in FILES]


def parse(path: Path):
    return MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))


def headings(tokens, tag: str) -> list[str]:
    return [tokens[k + 1].content for k, t in enumerate(tokens) if t.type == "heading_open" and t.tag == tag]


def test_readme_sections_in_order():
    # A block left open swallows every heading after it, so this also fails on an unclosed fence.
    tokens = parse(README)
    assert headings(tokens, "h1") == ["Reception Allocator"]
    assert headings(tokens, "h2") == README_H2


def test_readme_is_a_front_door():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 180


@pytest.mark.parametrize("page", PAGES)
def test_page_sections_in_order(page):
    tokens = parse(DOCS / page)
    title, sections = PAGES[page]
    assert headings(tokens, "h1") == [title]
    assert headings(tokens, "h2") == sections


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_every_fenced_block_is_closed(path):
    fences = [t for t in parse(path) if t.type == "fence"]
    raw = sum(bool(FENCE_LINE.match(line)) for line in path.read_text(encoding="utf-8").splitlines())
    assert 2 * len(fences) == raw, f"{raw} fence lines but {len(fences)} fenced blocks: one is never closed"


def test_the_first_commands_install():
    code = [t.content.strip() for t in parse(README) if t.type in ("fence", "code_block")]
    assert code[:2] == INSTALL


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_every_output_block_is_generated(path):
    marker = script().MARKER
    lines = path.read_text(encoding="utf-8").splitlines()
    for fence in (t for t in parse(path) if t.type == "fence" and t.content.startswith("$ ")):
        start = fence.map[0]
        match = marker.match(lines[start - 1]) if start else None
        where = f"{path.relative_to(ROOT)} line {start + 1}"
        assert match, f"{where}: an output block without a run marker before it"
        shown = [line[2:] for line in fence.content.splitlines() if line.startswith("$ ")]
        assert shown == [c.strip() for c in match["commands"].split(";;")], where


def test_the_readme_and_the_guides_show_outputs():
    module = script()
    for page in (
        README,
        DOCS / "guides" / "ministry.md",
        DOCS / "guides" / "province.md",
        DOCS / "guides" / "analyst.md",
    ):
        assert module.blocks(page.read_text(encoding="utf-8").splitlines(), page.name), f"{page}: no output blocks"


def test_every_page_is_in_the_navigation():
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert on_disk == {str(p.relative_to(DOCS)) for p in FILES[1:]}


def test_the_readme_links_to_files_that_exist():
    for target, _ in LINK.findall(README.read_text(encoding="utf-8")):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


def test_the_site_a_province_adds_is_the_one_the_script_adds():
    assert script().EDE_SITE in (DOCS / "guides" / "province.md").read_text(encoding="utf-8")


def test_the_solution_format_lists_every_column():
    from allocator.results.solution import COLUMNS, GROUP_PLACEMENT_COLUMNS

    page = (DOCS / "solutions.md").read_text(encoding="utf-8")
    for table, columns in [*COLUMNS.items(), ("placements", GROUP_PLACEMENT_COLUMNS)]:
        assert f"| `{', '.join(columns)}` |" in page, f"solutions.md: the columns of {table}.csv"


def test_links_between_included_files_become_links_between_pages():
    hooks = load(DOCS / "hooks.py", "docs_hooks")
    hooks.included.update({"models/README.md": "docs/formulation.md", "instances/README.md": "docs/instances/index.md"})
    text = "[format](../README.md#periods) [model](../../models/README.md#x) [a toml](../../models/default.toml)"
    assert hooks.relink(text, "instances/nl-2024/README.md", "docs/instances/nl-2024.md") == (
        "[format](index.md#periods) [model](../formulation.md#x) [a toml](../../models/default.toml)"
    )
    page = "[model](../../models/README.md) [picture](../report.png) [here](#top)"
    assert hooks.relink(page, "docs/guides/ministry.md", "docs/guides/ministry.md") == (
        "[model](../formulation.md) [picture](../report.png) [here](#top)"
    )


def test_the_manual_builds(tmp_path):
    # --strict: a broken link or anchor, a link to a file of the repository that no page includes, a page missing
    # from docs/ or one left out of the navigation, each fails the build.
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr[-5000:]
    site = tmp_path / "site"
    assert "allocator solve [OPTIONS] [INSTANCE]" in (site / "cli.html").read_text(encoding="utf-8")
    assert "site_capacity" in (site / "formulation.html").read_text(encoding="utf-8")
    assert "--8&lt;--" not in (site / "instances" / "index.html").read_text(encoding="utf-8")
    assert (site / "report.png").exists() and (site / "workbench.png").exists()
    assert not (site / "readme.py").exists()
    # It works offline: no page loads a script, a style sheet or a font from the internet.
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'src="https?://|<link[^>]+href="https?://', text), f"{page} loads from the internet"


def test_output_blocks_are_up_to_date():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT, timeout=900
    )
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
