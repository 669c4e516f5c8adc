"""Nothing lost, nothing trusted blindly: each class of careless or unlucky use, tested as a class.

- outputs never replace what is not ours, are written whole, and are never an input;
- two runs writing the same place: the second is refused;
- the checker recomputes every table and summary figure it reads, and report and compare re-run it;
- malformed solution folders are reported by file and row;
- workers never outlive their parent.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES, run

from allocator.check import check_solution
from allocator.commands.main import cli
from allocator.core.errors import OutputError, SolutionError
from allocator.core.outputs import MARKER, claim_folder, safe_name, write_folder
from allocator.data.load import load_instance
from allocator.results.solution import read_solution, write_solution

TWO = INSTANCES / "tiny-two-provinces"
SET_HAND = HAND_ARGS


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def plan():
    out = run(TWO)
    assert out.check.passed
    return out.solution


# ------------------------------------------------------------------ outputs that are not ours


def documents(tmp_path) -> Path:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "letter.txt").write_text("do not lose me")
    return folder


NOT_OURS = {
    "a folder of documents": documents,
    "an empty folder made by someone else": lambda tmp: (tmp / "empty").mkdir() or tmp / "empty",
    "a file": lambda tmp: (tmp / "notes.txt").write_text("mine") and tmp / "notes.txt",
    "a folder of ours of another kind": None,  # made per command below
}
KIND = {"solve": "solution", "generate": "instance", "whatif": "whatif", "sweep": "sweep"}


@pytest.mark.parametrize("what", list(NOT_OURS))
@pytest.mark.parametrize("command", ["solve", "generate", "whatif", "sweep"])
def test_a_folder_that_is_not_ours_is_left_alone(tmp_path, what, command):
    if NOT_OURS[what] is None:
        other = "sweep" if command != "sweep" else "solution"
        target = write_folder(tmp_path / "ours", other, lambda staging: (staging / "keep.txt").write_text("x"))
    else:
        target = NOT_OURS[what](tmp_path)
    before = sorted(p.name for p in target.iterdir()) if target.is_dir() else target.read_text()
    args = {
        "solve": ["solve", TWO, "--out", target],
        "generate": ["generate", "--scale", 1, "--seed", 1, "--out", target],
        "whatif": ["whatif", TWO, "--province", "P1", "--out", target],
        "sweep": ["sweep", TWO, "--vary", "travel_value=1", "--out", target, "--workers", 1],
    }[command]
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert str(target) in r.output and "left alone" in r.output or "is a file" in r.output
    after = sorted(p.name for p in target.iterdir()) if target.is_dir() else target.read_text()
    assert after == before


def test_the_instance_folder_itself_is_never_an_output(tmp_path):
    copy = tmp_path / "inst"
    shutil.copytree(TWO, copy)
    r = invoke("solve", copy, "--out", copy)
    assert r.exit_code == 2
    assert "would overwrite an input of this run" in r.output or "left alone" in r.output
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in TWO.iterdir())
    r = invoke("solve", copy, "--out", tmp_path)  # a folder holding the input
    assert r.exit_code == 2 and "left alone" in r.output


@pytest.mark.parametrize(
    "out, message",
    [
        (".", "names the current or a parent folder"),
        ("..", "names the current or a parent folder"),
        ("a/..", "names the current or a parent folder"),
        ("x" * 300, "the name is too long"),
    ],
)
def test_odd_output_paths_get_a_clear_message(tmp_path, monkeypatch, out, message):
    monkeypatch.chdir(tmp_path)
    r = invoke("solve", TWO, "--out", out)
    assert r.exit_code == 2, r.output
    assert message in r.output and "internal error" not in r.output


def test_a_symbolic_link_is_not_written_through(tmp_path, plan):
    real = write_solution(plan, tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    r = invoke("solve", TWO, "--out", link)
    assert r.exit_code == 2 and "is a symbolic link" in r.output
    assert link.is_symlink()


def test_safe_default_names(tmp_path, monkeypatch):
    copy = tmp_path / "inst"
    shutil.copytree(TWO, copy)
    toml = copy / "instance.toml"
    toml.write_text(toml.read_text().replace('name = "tiny-two-provinces"', 'name = "../../outside/x"'))
    monkeypatch.chdir(tmp_path)
    r = invoke("solve", copy)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "solutions" / "outside-x-default" / "summary.json").is_file()
    assert not (tmp_path.parent / "outside").exists()
    assert safe_name("/etc/passwd") == "etc-passwd" and safe_name("..") == "output"


# ------------------------------------------------------------------ written whole, or not at all


def test_a_solution_folder_of_ours_is_replaced_whole(tmp_path, plan):
    target = write_solution(plan, tmp_path / "sol")
    (target / "extra.txt").write_text("left over from before")
    write_solution(plan, target)
    assert not (target / "extra.txt").exists() and (target / MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["sol"]  # nothing hidden left beside it


def test_a_failed_write_keeps_the_old_folder(tmp_path, plan):
    target = write_solution(plan, tmp_path / "sol")
    before = (target / "summary.json").read_text()

    def broken(staging):
        (staging / "half.csv").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_folder(target, "solution", broken)
    assert (target / "summary.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sol"]


WRITER = """
import sys, time
from pathlib import Path
from allocator.core.outputs import write_folder
def fill(staging):
    for k in range(400):
        (staging / f"part{k}.txt").write_text(sys.argv[2])
        time.sleep(0.001)
write_folder(Path(sys.argv[1]), "solution", fill)
"""


def test_killed_at_any_moment_the_folder_is_old_or_new(tmp_path):
    target = tmp_path / "sol"
    subprocess.run([sys.executable, "-c", WRITER, str(target), "old"], check=True)
    for delay in (0.05, 0.2, 0.35, 0.5, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), "new"])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        contents = {p.read_text() for p in target.glob("part*.txt")}
        assert contents in ({"old"}, {"new"}) and len(list(target.glob("part*.txt"))) == 400
    # Staging folders of killed writers are removed by the next write into the same place.
    subprocess.run([sys.executable, "-c", WRITER, str(target), "old"], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sol"]


def test_a_second_run_writing_the_same_folder_is_refused(tmp_path, plan):
    with claim_folder(tmp_path / "sol", "solution"):
        with pytest.raises(OutputError, match="another allocator run .* is writing it now"):
            write_solution(plan, tmp_path / "sol")
    write_solution(plan, tmp_path / "sol")  # free again


def test_two_sweeps_with_different_grids_keep_each_others_rows(tmp_path):
    out = tmp_path / "sweep"
    assert invoke("sweep", TWO, *SET_HAND, "--vary", "travel_value=1,2", "--out", out, "--workers", 1).exit_code == 0
    r = invoke("sweep", TWO, *SET_HAND, "--vary", "unmet_penalty=2000", "--out", out, "--workers", 1)
    assert r.exit_code == 0, r.output
    assert "2 rows of an earlier sweep" in r.output
    table = pd.read_csv(out / "sweep.csv", dtype=str, keep_default_na=False)
    assert list(table["scenario"]) == ["unmet_penalty-2000", "travel_value-1", "travel_value-2"]
    assert (out / "travel_value-2" / "summary.json").is_file()


# ------------------------------------------------------------------ no output replaces an input


def test_the_input_workbook_is_never_overwritten(tmp_path):
    book = tmp_path / "inst.xlsx"
    assert invoke("export-instance", TWO, "--out", book).exit_code == 0
    before = book.read_bytes()
    r = invoke("solve", book, "--out", tmp_path / "sol", "--xlsx", book)
    assert r.exit_code == 2 and "would overwrite an input of this run" in r.output
    assert book.read_bytes() == before and not (tmp_path / "sol").exists()
    r = invoke("export-instance", book, "--out", book)
    assert r.exit_code == 2 and book.read_bytes() == before


def test_files_that_are_not_ours_are_left_alone_and_ours_are_replaced(tmp_path, plan):
    sol = write_solution(plan, tmp_path / "sol")
    mine = tmp_path / "mine.html"
    mine.write_text("<p>my own page</p>")
    for args in (
        ["report", sol, "--out", mine],
        ["compare", sol, sol, "--out", mine],
        ["solve", TWO, "--out", tmp_path / "s2", "--xlsx", mine],
        ["report", sol, "--out", sol / "summary.json"],
    ):
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
    assert mine.read_text() == "<p>my own page</p>"
    ours = tmp_path / "report.html"
    assert invoke("report", sol, "--out", ours).exit_code == 0
    assert invoke("report", sol, "--out", ours).exit_code == 0  # a report of ours is replaced
    for style in ("text", "markdown", "csv", "json"):
        path = tmp_path / f"cmp.{style}"
        assert invoke("compare", sol, sol, "--format", style, "--out", path).exit_code == 0
        assert invoke("compare", sol, sol, "--format", style, "--out", path).exit_code == 0


# ------------------------------------------------------------------ the checker checks everything it reads


def edit_table(folder: Path, table: str, fn) -> None:
    path = folder / f"{table}.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def set_cell(table, key_column, key, column, value):
    def fn(folder):
        def change(df):
            df.loc[df[key_column] == key, column] = value
            return df

        edit_table(folder, table, change)

    return fn


def set_summary(*path_and_value):
    *keys, value = path_and_value

    def fn(folder):
        data = json.loads((folder / "summary.json").read_text())
        node = data
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
        (folder / "summary.json").write_text(json.dumps(data))

    return fn


TAMPERING = {
    "provinces.csv placed": (
        set_cell("provinces", "province", "P1", "placed", "250"),
        "provinces.csv[P1]: placed says 250",
    ),
    "provinces.csv unmet": (set_cell("provinces", "province", "P1", "unmet", "5"), "provinces.csv[P1]: unmet says 5"),
    "provinces.csv large site name": (
        set_cell("provinces", "province", "P1", "large_site_names", "Elsewhere"),
        "provinces.csv[P1]: large_site_names says 'Elsewhere'",
    ),
    "provinces.csv cost": (set_cell("provinces", "province", "P2", "cost", "1"), "provinces.csv[P2]: cost says 1"),
    "sites.csv name": (set_cell("sites", "site", "LA", "name", "Renamed"), "sites.csv[LA]: name says 'Renamed'"),
    "sites.csv fixed cost": (set_cell("sites", "site", "LA", "fixed_cost", "0"), "sites.csv[LA]: fixed_cost says 0"),
    "sites.csv utilisation": (
        set_cell("sites", "site", "LA", "utilisation", "0.9"),
        "sites.csv[LA]: utilisation says 0.9",
    ),
    "sites.csv fixing": (set_cell("sites", "site", "LA", "fixing", "forced"), "sites.csv[LA]: fixing says 'forced'"),
    "placements.csv place cost": (
        set_cell("placements", "site", "LA", "place_cost", "1"),
        "placements.csv[A,LA]: place_cost says 1",
    ),
    "municipalities.csv sites": (
        set_cell("municipalities", "municipality", "A", "sites", "7"),
        "municipalities.csv[A]: sites says 7",
    ),
    "municipalities.csv name": (
        set_cell("municipalities", "municipality", "A", "name", "Zed"),
        "municipalities.csv[A]: name says 'Zed'",
    ),
    "summary objective off by 2 euros": (
        lambda f: set_summary("objective", json.loads((f / "summary.json").read_text())["objective"] + 2)(f),
        "total_cost: solution claims",
    ),
    "summary gap": (set_summary("gap", 0.5), "gap: summary says 0.5"),
    "summary status": (set_summary("status", "infeasible"), "status: 'infeasible' is not the status of a plan"),
    "summary kpi": (set_summary("kpis", "open_regular_sites", 9), "kpis.open_regular_sites: summary says 9"),
    "summary kpi budget used": (
        set_summary("kpis", "mean_travel_minutes", 3.0),
        "kpis.mean_travel_minutes: summary says 3.0",
    ),
    "summary provinces block": (set_summary("provinces", "P2", "placed", 1), "summary.provinces[P2]: placed says 1"),
}


@pytest.fixture
def folder(tmp_path, plan):
    return write_solution(plan, tmp_path / "sol")


@pytest.mark.parametrize("what", list(TAMPERING))
def test_every_table_and_summary_figure_is_checked(folder, what):
    tamper, expected = TAMPERING[what]
    tamper(folder)
    report = check_solution(read_solution(folder), load_instance(TWO))
    assert any(v.startswith(expected) for v in report.violations), report.violations
    r = invoke("check", folder)
    assert (
        r.exit_code == 5 and "FAILED against instance tiny-two-provinces" in r.output and "policy 'default'" in r.output
    )


def test_report_and_compare_rerun_the_check(tmp_path, folder):
    TAMPERING["sites.csv fixed cost"][0](folder)
    r = invoke("report", folder, "--out", tmp_path / "r.html")
    assert r.exit_code == 0
    page = (tmp_path / "r.html").read_text()
    assert "fails the independent check</strong>, re-run for this report" in page
    assert "Independent check (re-run now)" in page and "FAILED (" in page
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["check"]["passed"]  # the stored summary still says passed: the report did not trust it
    r = invoke("compare", folder, folder)
    assert re.search(r"Check \(re-run now\) +FAILED \(", r.output), r.output


# ------------------------------------------------------------------ malformed solution folders


MALFORMED = {
    "summary.json not an object": (
        lambda f: (f / "summary.json").write_text("[1, 2]"),
        "summary.json: must be a JSON object, is list",
    ),
    "text in open_site": (
        set_cell("sites", "site", "LA", "open_site", "yes"),
        "sites.csv, row 2, column 'open_site': not a finite number (value: 'yes')",
    ),
    "NaN in placed": (
        set_cell("placements", "site", "LA", "placed", "nan"),
        "placements.csv, row 2, column 'placed': not a finite number (value: 'nan')",
    ),
    "empty placed": (
        set_cell("placements", "site", "LA", "placed", ""),
        "placements.csv, row 2, column 'placed': value is missing",
    ),
    "duplicate site row": (
        lambda f: edit_table(f, "sites", lambda df: pd.concat([df, df.iloc[[0]]], ignore_index=True)),
        "sites.csv, row 7, column 'site': listed twice (value: 'LA')",
    ),
    "unknown site row": (
        set_cell("sites", "site", "LA", "site", "ZZ"),
        "sites.csv, row 2, column 'site': unknown site (not in the instance) (value: 'ZZ')",
    ),
    "unknown municipality in placements": (
        set_cell("placements", "municipality", "A", "municipality", "Q"),
        "placements.csv, row 2, column 'municipality': unknown municipality",
    ),
    "objective as text": (
        set_summary("objective", "lots"),
        "summary.json, column 'objective': must be a finite number or null",
    ),
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_malformed_solution_folders_are_named_by_file_and_row(folder, what):
    tamper, expected = MALFORMED[what]
    tamper(folder)
    r = invoke("check", folder, TWO)
    assert r.exit_code == 2, r.output
    assert expected in r.output and "internal error" not in r.output and "Traceback" not in r.output
    with pytest.raises(SolutionError):
        check_solution(read_solution(folder), load_instance(TWO))


# ------------------------------------------------------------------ no orphans


SOLVE_NL = [
    sys.executable,
    "-m",
    "allocator.commands.main",
    "solve",
    str(INSTANCES / "nl-2024"),
    "--workers",
    "2",
    "--no-explain",
    "--gap",
    "0",
]


def workers_of(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def start_solve(tmp_path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    proc = subprocess.Popen(
        [*SOLVE_NL, "--out", str(tmp_path / "sol")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers_of(proc)) < 2:
        time.sleep(0.2)
    children = workers_of(proc)
    assert len(children) >= 2, "the solve did not start its workers"
    return proc, children


def test_workers_die_with_a_killed_parent(tmp_path):
    proc, children = start_solve(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"workers outlived their parent: {[p.pid for p in alive]}"
    assert not (tmp_path / "sol").exists()


def test_sighup_is_handled_like_sigterm(tmp_path):
    proc, children = start_solve(tmp_path)
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 129, err
    assert "interrupted by SIGHUP" in err and "no solution folder was written" in err
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive
    assert not (tmp_path / "sol").exists() and not any(p.name.startswith(".sol") for p in tmp_path.iterdir())


def test_sweep_workers_die_with_a_killed_parent(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "allocator.commands.main",
            "sweep",
            str(INSTANCES / "nl-2024"),
            "--vary",
            "travel_value=1,2,3,4",
            "--workers",
            "2",
            "--gap",
            "0",
            "--out",
            str(tmp_path / "sw"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers_of(proc)) < 2:
        time.sleep(0.2)
    children = workers_of(proc)
    assert len(children) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive


# ------------------------------------------------------------------ inputs bounded, dialects recognised


def workbook_with(tmp_path, sheet: str, cell: str) -> Path:
    from openpyxl import load_workbook

    book_path = tmp_path / "inst.xlsx"
    assert invoke("export-instance", TWO, "--out", book_path).exit_code == 0
    book = load_workbook(book_path)
    ws = book[sheet] if sheet in book.sheetnames else book.create_sheet(sheet)
    ws[cell] = "far away"
    book.save(book_path)
    return book_path


def test_a_far_cell_in_a_sheet_is_refused_before_reading(tmp_path):
    path = workbook_with(tmp_path, "sites", "XFD1048576")
    assert path.stat().st_size < 50_000
    r = invoke("validate", path)
    assert r.exit_code == 2
    assert "sites!XFD1048576: the sheet reaches cell XFD1048576 (1,048,576 rows, 16,384 columns" in r.output


def test_extra_sheets_are_not_read(tmp_path):
    path = workbook_with(tmp_path, "notes", "XFD1048576")
    r = invoke("validate", path)
    assert r.exit_code == 0, r.output


@pytest.fixture
def copy(tmp_path):
    folder = tmp_path / "inst"
    shutil.copytree(TWO, folder)
    return folder


def test_semicolon_separated_csv_is_named(copy):
    path = copy / "sites.csv"
    path.write_text(path.read_text().replace(",", ";"))
    r = invoke("validate", copy)
    assert r.exit_code == 2
    assert (
        "sites.csv, row 1: uses ';' as separator (the Dutch Excel default); save it as comma-separated CSV" in r.output
    )


def test_a_decimal_comma_is_named(copy):
    df = pd.read_csv(copy / "sites.csv", dtype=str, keep_default_na=False)
    df.loc[0, "cost_per_place"] = "26,5"
    df.to_csv(copy / "sites.csv", index=False)
    r = invoke("validate", copy)
    assert "sites.csv, row 2, column 'cost_per_place': a comma in a number: write decimals with a point" in r.output


def test_byte_order_marks_are_accepted(copy):
    for name in ("instance.toml", "sites.csv", "provinces.csv"):
        path = copy / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    r = invoke("validate", copy)
    assert r.exit_code == 0, r.output


def test_a_settings_key_of_the_wrong_shape_is_named(copy):
    toml = copy / "instance.toml"
    text = toml.read_text()
    toml.write_text(text[: text.index("[travel]")] + 'travel = "network"\n')
    r = invoke("validate", copy)
    assert r.exit_code == 2 and "internal error" not in r.output
    assert "instance.toml, column 'travel': must be a table (value: 'network')" in r.output


@pytest.mark.parametrize(
    "setting, message",
    [
        ("unmet_penalty=1e21", "column 'unmet_penalty': must be <= 1e+12"),
        ("demand_scale=1e6", "column 'demand_scale': must be <= 1000"),
        ("travel_value=inf", "column 'travel_value': must be a finite number"),
        ("budget=1e30", "column 'budget': must be <= 1e+15"),
    ],
)
def test_policy_values_beyond_sane_ranges_are_refused(setting, message):
    r = invoke("solve", TWO, "--set", setting)
    assert r.exit_code == 2 and message in r.output


@pytest.mark.parametrize(
    "option, value",
    [("--gap", "nan"), ("--gap", "inf"), ("--gap", "2"), ("--time-limit", "nan"), ("--time-limit", "inf")],
)
def test_limits_must_be_finite(option, value):
    r = invoke("solve", TWO, option, value)
    assert r.exit_code == 2 and f"Invalid value for '{option}'" in r.output


def test_solve_options_refuse_what_the_command_line_refuses():
    from allocator.solve.options import SolveOptions

    for bad in ({"gap": float("nan")}, {"gap": 1.5}, {"time_limit": float("inf")}, {"time_limit": -1}):
        with pytest.raises(ValueError):
            SolveOptions(**bad)


def test_a_plan_with_a_large_demand_scale_passes_its_own_check_after_writing(tmp_path):
    out = run(TWO, demand_scale=997.3, whole_places=False)
    folder = write_solution(out.solution, tmp_path / "big")
    assert check_solution(read_solution(folder), load_instance(TWO)).passed


def test_ctrl_c_on_a_sweep_prints_no_worker_tracebacks(tmp_path):
    # A terminal sends Ctrl-C to the whole process group: the workers must leave it to the parent.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "allocator.commands.main",
            "sweep",
            str(INSTANCES / "nl-2024"),
            "--vary",
            "travel_value=1,2,3,4",
            "--workers",
            "2",
            "--gap",
            "0",
            "--out",
            str(tmp_path / "sw"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers_of(proc)) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert "Traceback" not in out and "interrupted after" in out and "Resume with:" in out
