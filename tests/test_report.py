"""The HTML report: structure, offline, PNG files, side by side, and a real browser."""

import json
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import INSTANCES, run

from allocator.analysis.pipeline import solve
from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.reports.figures import map_figure, provinces_figure, travel_figure
from allocator.reports.html import load_panels, write_report
from allocator.results.solution import write_solution
from allocator.solve.options import SolveOptions

NORTH = ("PV20", "PV22")  # Groningen and Drenthe: real municipalities, so the map has polygons


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def north(tmp_path_factory):
    """Two provinces cut out of nl-2024 (22 municipalities with CBS codes), solved; returns the solution folder."""
    root = tmp_path_factory.mktemp("north")
    inst = root / "nl-north"
    inst.mkdir()
    src = INSTANCES / "nl-2024"
    read = lambda name: pd.read_csv(src / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    munis = read("municipalities")
    munis = munis[munis["province"].isin(NORTH)]
    read("provinces").query("province in @NORTH").to_csv(inst / "provinces.csv", index=False)
    munis.to_csv(inst / "municipalities.csv", index=False)
    sites = read("sites").query("province in @NORTH")
    sites.to_csv(inst / "sites.csv", index=False)
    read("groups").to_csv(inst / "groups.csv", index=False)
    demand = read("group_demand")
    demand[demand["municipality"].isin(munis["municipality"])].to_csv(inst / "group_demand.csv", index=False)
    site_groups = read("site_groups")
    site_groups[site_groups["site"].isin(sites["site"])].to_csv(inst / "site_groups.csv", index=False)
    links = read("links")
    links[links["from"].isin(munis["municipality"]) & links["to"].isin(munis["municipality"])].to_csv(
        inst / "links.csv", index=False
    )
    (inst / "instance.toml").write_text(
        (src / "instance.toml").read_text().replace('name = "nl-2024"', 'name = "nl-north"')
    )
    outcome = solve(load_instance(inst), load_policy("default"), SolveOptions(gap=0.0, workers=1))
    assert outcome.status.value == "optimal" and outcome.solution.kpis["unmet"] == 0
    return write_solution(outcome.solution, root / "north-default")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """tiny-two-provinces (no polygons) solved twice: all placed, and with doubled demand (unmet)."""
    root = tmp_path_factory.mktemp("tiny")
    a = write_solution(run(INSTANCES / "tiny-two-provinces").solution, root / "tiny-a")
    b = write_solution(run(INSTANCES / "tiny-two-provinces", demand_scale=2).solution, root / "tiny-b")
    return a, b


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs, self.tags, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> _Collect:
    parser = _Collect()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def map_svg(text: str) -> str:
    start = text.index('<figure id="map"')
    return text[start : text.index("</figure>", start)]


def test_report_structure(north, tmp_path):
    out = tmp_path / "report.html"
    r = invoke("report", north, "--out", out)
    assert r.exit_code == 0, r.output
    assert f"Report written to {out}" in r.output
    text = out.read_text(encoding="utf-8")
    page = parse(out)
    ids = {v for _, k, v in page.attrs if k == "id"}
    assert {"summary-section", "map", "provinces", "costs", "travel", "policy-section"} <= ids
    assert len(ids) == len([v for _, k, v in page.attrs if k == "id"]), "ids must be unique"
    words = " ".join(page.text)
    assert "Reception plan: nl-north" in words
    summary = json.loads((north / "summary.json").read_text())
    assert f"EUR {summary['objective'] / 1e6:,.1f} M" in words  # objective
    for label in (
        "Gap (relative)",
        "Gap (absolute)",
        "Fixed cost",
        "Cost per place, summed",
        "Travel value",
        "Independent check",
    ):
        assert label in words
    assert "Ter Apel asielcomplex" in words and "Assen (large candidate)" in words  # the large sites chosen
    assert "large_site_rule" in words and "exactly" in words  # the policy
    assert "Kadaster / Centraal Bureau voor de Statistiek, 2024" in words  # attribution
    svg = map_svg(text)
    # one shaded polygon per municipality, each with its figures as a tooltip
    assert len(re.findall(r"<title>[^<]*\(GM\d{4}\): demand", svg)) == 22
    assert "<title>Ter Apel asielcomplex (L-TERAPEL, large existing)" in svg
    assert text.count("<svg") == 4 and "<script" not in text


def test_report_is_self_contained(north, tiny, tmp_path):
    for sources in ([north], list(tiny)):
        out = tmp_path / "report.html"
        write_report(sources, out)
        page = parse(out)
        links = [
            (tag, k, v) for tag, k, v in page.attrs if k in ("src", "href", "xlink:href", "srcset", "data", "poster")
        ]
        assert not [a for a in links if re.match(r"\s*(https?:)?//", a[2] or "")], links
        assert "link" not in page.tags or all(k != "rel" or v == "icon" for tag, k, v in page.attrs if tag == "link")
        assert "@import" not in out.read_text() and "url(http" not in out.read_text()


def test_report_without_polygons_draws_points(tiny, tmp_path):
    out = tmp_path / "tiny.html"
    r = invoke("report", tiny[0], "--out", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "Each municipality is a circle at its coordinates" in text
    assert "Kadaster" not in text
    svg = map_svg(text)
    for name in ("Aburg (A)", "Beedorp (B)", "Ceestad (C)", "Deeveen (D)"):
        assert f"<title>{name}: demand" in svg


def test_png_files(north, tmp_path):
    out, pngs = tmp_path / "r.html", tmp_path / "png"
    r = invoke("report", north, "--out", out, "--png", pngs)
    assert r.exit_code == 0, r.output
    from PIL import Image

    assert sorted(p.name for p in pngs.iterdir() if p.name != ".allocator.json") == [
        "costs.png",
        "map.png",
        "provinces.png",
        "travel.png",
    ]
    for path in pngs.glob("*.png"):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 600 and image.height > 300
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".allocator.json") == [
        "png",
        "r.html",
    ]  # nothing temporary left


def test_side_by_side_uses_the_same_scales(tiny, tmp_path):
    out = tmp_path / "compare.html"
    r = invoke("report", *tiny, "--out", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    words = " ".join(parse(out).text)
    assert "Reception plans compared: tiny-two-provinces" in words
    assert "A · tiny-a" in words and "B · tiny-b" in words and "B − A" in words
    assert "B · tiny-b: 100 places of the demand are not placed." in words  # doubled demand, unmet shown
    svg = map_svg(text)
    assert svg.count("(A): demand") == 2  # municipality A drawn in both panels
    panels = load_panels(list(tiny))
    for fig in (provinces_figure(panels), travel_figure(panels)):
        a, b = fig.axes[:2]
        assert a.get_xlim() == b.get_xlim() and a.get_ylim() == b.get_ylim()
    fig, _ = map_figure(panels)
    assert len(fig.axes) == 3  # two maps and one colour bar: one colour scale for both
    # marker area is proportional to the people placed, with the same factor in both maps
    ratios = set()
    for k, (ax, panel) in enumerate(zip(fig.axes[:2], panels)):
        opened = panel.solution.sites.query("open_site == 1").sort_values("placed", ascending=False, kind="stable")
        sizes = [c.get_sizes()[0] for c in ax.collections if (c.get_gid() or "").startswith(f"s{k}-")]
        assert len(sizes) == len(opened) == 4
        ratios |= {round(size / placed, 9) for size, placed in zip(sizes, opened["placed"])}
    assert ratios == {420 / 400}  # the fullest site of either plan (400 people in plan B) gets the largest marker


def test_instance_argument_and_missing_instance(tiny, tmp_path):
    moved = tmp_path / "sol"
    shutil.copytree(tiny[0], moved)
    summary = json.loads((moved / "summary.json").read_text())
    summary["instance"]["source"] = str(tmp_path / "gone")
    (moved / "summary.json").write_text(json.dumps(summary))
    # The path in summary.json is gone, but a bundled instance of that name and fingerprint is found.
    r = invoke("report", moved, "--out", tmp_path / "r.html")
    assert r.exit_code == 0, r.output
    summary["instance"]["name"] = "not-bundled"
    (moved / "summary.json").write_text(json.dumps(summary))
    r = invoke("report", moved, "--out", tmp_path / "r.html")
    assert r.exit_code == 2
    assert "the instance of this solution (not-bundled" in r.output
    assert "name it after the solution folder, e.g. `allocator check SOLUTION INSTANCE`" in r.output
    r = invoke("report", moved, INSTANCES / "tiny-two-provinces", "--out", tmp_path / "r.html")
    assert r.exit_code == 0, r.output
    r = invoke("report", moved, "tiny-two-provinces", "--out", tmp_path / "r.html")  # a bundled instance by name
    assert r.exit_code == 0, r.output


def test_the_instance_option_of_report_still_works_and_says_it_is_deprecated(tiny, tmp_path):
    r = CliRunner().invoke(
        cli, ["report", str(tiny[0]), "--out", str(tmp_path / "r.html"), "--instance", "tiny-two-provinces"]
    )
    assert r.exit_code == 0, r.output + r.stderr
    assert r.stderr.splitlines()[0] == (
        "deprecated: report --instance PATH (still accepted for one release); use allocator report SOLUTION... INSTANCE"
    )
    assert "deprecated" not in r.stdout
    r = invoke("report", tiny[0], "tiny-two-provinces", "--instance", "tiny-two-provinces")
    assert r.exit_code == 2 and "the instance is given twice" in r.output


def test_solution_of_another_instance_is_refused(tiny, tmp_path):
    r = invoke("report", tiny[0], INSTANCES / "tiny-budget", "--out", tmp_path / "r.html")
    assert r.exit_code == 2
    assert "the solution was made for another version of the instance" in r.output
    assert not (tmp_path / "r.html").exists()


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)
def test_report_in_a_real_browser(north, tiny, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    single, compare = tmp_path / "single.html", tmp_path / "compare.html"
    write_report([north], single)
    write_report(list(tiny), compare)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(dir=tmp_path)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        for page, polygons in ((single, 22), (compare, 0)):
            driver.get(page.as_uri())
            errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
            assert errors == []
            drawn = driver.execute_script(
                "return Array.from(document.querySelectorAll('#map svg path')).filter(p => (p.getAttribute('d') || '').trim().length > 0).length"
            )
            assert drawn > 50
            box = driver.execute_script(
                "const r = document.querySelector('#map svg').getBoundingClientRect(); return [r.width, r.height];"
            )
            assert box[0] > 300 and box[1] > 300  # laid out at a readable size
            tooltips = driver.execute_script(
                "return Array.from(document.querySelectorAll('#map svg title')).map(t => t.textContent)"
            )
            assert sum("(GM" in t for t in tooltips) == polygons
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1400, min(height, 8000))
            shot = tmp_path / f"{page.stem}.png"
            assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()
