"""The workbench end to end in a real headless Chromium: `allocator serve`, solve nl-2024, force another
large site by clicking it on the map, re-solve, compare the two plans, download the report; and a plan
over several periods with demand groups (tiny-horizon-groups): its periods, timeline and groups, the what-if of
its large sites over the periods, and two of its plans compared period by period.

The screenshots are kept as artefacts of the test: in the test's tmp folder and in tests/artefacts/
(not tracked; docs/workbench.png is one of them).
"""

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from helpers import ROOT

pytest.importorskip("fastapi", reason="the workbench needs the 'serve' extra")

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTEFACTS = ROOT / "tests" / "artefacts"
PROVINCE = "PV25"  # Gelderland: three large candidates


def serve(*instance: str):
    """`allocator serve` on a free port; yields (url, process); stopped with Ctrl-C after the test."""
    process = subprocess.Popen(
        [sys.executable, "-m", "allocator.commands.main", "serve", *instance, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    match = re.match(r"Workbench at (http://127\.0\.0\.1:\d+/) \(API documentation at \S+/docs\)", line)
    assert match, line + process.stderr.read()
    yield match[1], process
    if process.poll() is None:
        process.kill()


@pytest.fixture
def server():
    yield from serve()


@pytest.fixture
def horizon_server():
    yield from serve("tiny-horizon-groups")


def get(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def chrome(tmp_path: Path, downloads: Path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}",
        "--window-size=1700,1100",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def until(driver, condition, seconds: float = 120, what: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda d: condition(d), what)


def keep(tmp_path: Path, driver, name: str) -> Path:
    shot = tmp_path / name
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 50_000
    ARTEFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTEFACTS / name)
    return shot


BROWSER = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)


@BROWSER
def test_workbench_in_a_real_browser(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, process = server
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chrome(tmp_path, downloads)
    try:
        driver.get(url)
        until(driver, lambda d: d.execute_script("return document.body.dataset.ready"), 60, "the page to load")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path[data-municipality]")) == 342
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path[data-province]")) == 12

        # Solve nl-2024 with the default policy, to a gap of 1% (the proof to 1e-6 takes the better part of a minute
        # a solve, benchmarks/RESULTS.md, and shows nothing more here).
        gap = driver.find_element(By.ID, "gap")
        gap.clear()
        gap.send_keys("0.01")
        driver.find_element(By.ID, "solve").click()
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-show='P1']"), 300, "the first plan")
        free = get(url + "api/plans/P1")
        assert free["status"] == "optimal" and free["check"]["passed"] and free["kpis"]["unmet"] == 0
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#map line.flow"), 30, "the plan on the map")

        # In Gelderland, click a large site the plan left closed, force it open, and solve again.
        Select(driver.find_element(By.ID, "province")).select_by_value(PROVINCE)
        chosen = {s["site"] for s in free["sites"] if s["open_site"] == 1}
        sites = get(url + "api/instances/nl-2024/map")["sites"]
        other = next(
            s["id"] for s in sites if s["province"] == PROVINCE and s["kind"] == "large" and s["id"] not in chosen
        )
        driver.find_element(By.CSS_SELECTOR, f"#map [data-site='{other}']").click()
        until(driver, lambda d: d.find_element(By.ID, "site-card").is_displayed(), 10, "the site card")
        driver.find_element(By.ID, "site-force").click()
        assert other in driver.find_element(By.ID, "fixings").text
        driver.find_element(By.ID, "site-close").click()
        driver.find_element(By.ID, "solve").click()
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-show='P2']"), 300, "the second plan")
        forced = get(url + "api/plans/P2")
        assert forced["made"] == {**forced["made"], "force_sites": [other], "how": "warm"}
        assert forced["status"] == "optimal" and forced["check"]["passed"]
        assert forced["objective"] >= free["bound"]  # a forced site cannot beat the free plan's bound
        assert {s["site"]: s["open_site"] for s in forced["sites"]}[other] == 1
        until(driver, lambda d: "plan P2" in d.find_element(By.ID, "map-title").text, 30, "the second plan shown")
        keep(tmp_path, driver, "workbench.png")

        # Compare the two plans (both are ticked once shown) and download the report of both.
        driver.find_element(By.ID, "compare").click()
        until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#compare-figures svg")) == 3, 120, "figures")
        tables = driver.find_element(By.ID, "compare-tables").text
        assert "Changes from P1 to P2: sites opened or closed" in tables and other in tables
        driver.find_element(By.ID, "compare-report").click()
        until(driver, lambda d: list(downloads.glob("*.html")), 120, "the report download")
        (report,) = downloads.glob("*.html")
        assert report.name == "P1-P2-report.html"
        text = report.read_text(encoding="utf-8")
        assert "Reception plans compared: nl-2024" in text and "A · P1" in text and "B · P2" in text

        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1700, min(height, 6000))
        keep(tmp_path, driver, "workbench-compare.png")
    finally:
        driver.quit()

    # Ctrl-C stops the server and every worker it started.
    family = psutil.Process(process.pid).children(recursive=True)
    assert family, "the server runs its solves in worker processes"
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    assert "Workbench stopped" in process.stderr.read()
    time.sleep(0.5)
    assert not [p.pid for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


# The prices of the hand optimum in the tiny instances' README files, typed into the policy form.
HAND_FORM = {"travel_value": "1", "unmet_penalty": "1000", "max_travel_minutes": "", "max_travel_minutes_regular": ""}


def cells(driver, table: str) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")
    return [[c.text for c in row.find_elements(By.TAG_NAME, "td")] for row in rows]


@BROWSER
def test_a_plan_over_periods_with_groups_in_a_real_browser(horizon_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, process = horizon_server
    driver = chrome(tmp_path, tmp_path)
    try:
        driver.get(url)
        until(driver, lambda d: d.execute_script("return document.body.dataset.ready"), 60, "the page to load")
        assert driver.find_element(By.ID, "horizon-controls").is_displayed()
        assert not driver.find_element(By.ID, "scenario-row").is_displayed()  # one scenario: nothing to choose
        assert driver.find_element(By.ID, "rank").is_enabled()  # the what-if re-plans the periods
        for key, value in HAND_FORM.items():
            field = driver.find_element(By.ID, f"key-{key}")
            field.clear()
            field.send_keys(value)
            driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)
        gap = driver.find_element(By.ID, "gap")
        gap.clear()
        gap.send_keys("0")
        driver.find_element(By.ID, "solve").click()
        until(driver, lambda d: d.find_element(By.ID, "horizon").is_displayed(), 120, "the plan's periods")
        plan = get(url + "api/plans/P1")
        assert plan["objective"] == 1083 and plan["check"]["passed"] and plan["made"]["how"] == "horizon"
        assert "objective EUR 1,083" in driver.find_element(By.ID, "map-title").text
        # No workbook for a plan over several periods; it is ticked for a comparison once shown.
        assert not driver.find_elements(By.CSS_SELECTOR, "[data-download='xlsx']")
        assert driver.find_element(By.CSS_SELECTOR, "[data-pick='P1']").is_selected()

        # The period KPIs and the timeline: S1 opens in 2025 and closes in 2026; M1 opens in 2025.
        assert cells(driver, "period-kpis")[0][:8] == ["2025", "mid", "210", "210", "0", "0", "4", "0"]
        timeline = {row[0].split()[-1]: row[3:] for row in cells(driver, "timeline")}
        assert timeline["S1"] == ["+open 60", "−closed"] and timeline["M1"] == ["+open 20", "open 10"]
        assert len(driver.find_elements(By.CSS_SELECTOR, "#capacity-chart rect.capacity")) == 2

        # Pick 2026: the map shows S1 closed and M1 open; then only the minors.
        Select(driver.find_element(By.ID, "period")).select_by_value("2026")
        until(driver, lambda d: "period 2026" in d.find_element(By.ID, "period-title").text, 10, "period 2026")
        state = {
            s: driver.find_element(By.CSS_SELECTOR, f"#map [data-site='{s}']").get_attribute("data-state")
            for s in ("S1", "M1", "L0")
        }
        assert state == {"S1": "closed", "M1": "open", "L0": "open"}
        assert "need 70, placed 70" in driver.find_element(By.ID, "period-title").text
        Select(driver.find_element(By.ID, "group")).select_by_value("amv")
        until(driver, lambda d: len(cells(d, "group-table")) == 2, 10, "the minors' rows")
        assert cells(driver, "group-table") == [
            ["unaccompanied minors amv", "2025", "30", "30", "0", "0"],
            ["unaccompanied minors amv", "2026", "10", "10", "0", "0"],
        ]
        flows = driver.find_elements(By.CSS_SELECTOR, "#map line.flow")
        assert [f.get_attribute("data-flow") for f in flows] == ["X>M1"]  # the minors of 2026, all at M1
        assert "unaccompanied minors" in driver.find_element(By.ID, "period-title").text

        # Rank P1's large sites over the periods: the free plan (P2) keeps L0, so L0 forced (P3) costs the same.
        Select(driver.find_element(By.ID, "province")).select_by_value("P1")
        driver.find_element(By.ID, "rank-tab").click()
        assert driver.find_element(By.ID, "rank-periods").is_displayed()
        driver.find_element(By.ID, "rank").click()
        until(driver, lambda d: d.find_elements(By.ID, "rank-table"), 120, "the ranking over the periods")
        rows = cells(driver, "rank-table")
        assert [(r[0], r[1].splitlines()[1], r[2].splitlines()[0]) for r in rows] == [
            ("free", "L0 · serves 1 municipality", "EUR 1,083"),
            ("1", "L0 · serves 1 municipality", "EUR 1,083"),
        ]
        assert [r[0] for r in cells(driver, "rank-periods-table")] == ["free", "L0"]
        ranked = get(url + "api/plans/P3")
        assert ranked["made"]["how"] == "whatif" and ranked["made"]["force_sites"] == ["L0"] and ranked["horizon"]
        driver.find_element(By.CSS_SELECTOR, "#rank-table [data-show-rank='P3']").click()
        until(driver, lambda d: "plan P3" in d.find_element(By.ID, "map-title").text, 30, "the ranked plan shown")
        keep(tmp_path, driver, "workbench-whatif-periods.png")

        # P1 and P3, both ticked once shown, compared period by period: the same plan.
        driver.find_element(By.CSS_SELECTOR, "[data-tab='plans']").click()
        driver.find_element(By.ID, "compare").click()
        until(driver, lambda d: d.find_element(By.ID, "comparison").is_displayed(), 60, "the comparison")
        tables = driver.find_element(By.ID, "compare-tables").text
        assert "Per period and scenario" in tables and "Changes from P1 to P3" in tables
        assert not driver.find_element(By.ID, "compare-report").is_displayed()  # each plan is reported on its own
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1700, min(height, 6000))
        keep(tmp_path, driver, "workbench-periods.png")
    finally:
        driver.quit()
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
