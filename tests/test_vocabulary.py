"""One vocabulary on the command line: INSTANCE as a positional argument, --out for every output, the old
spellings kept for one release with a one-line deprecation message on stderr, one table of status words."""

import shutil

import pytest
from click.testing import CliRunner
from helpers import INSTANCES, run

from allocator.commands.main import cli
from allocator.core.fmt import STATUS_TEXT, STATUS_WORD
from allocator.results.solution import write_solution
from allocator.solve.options import Status

TWO = INSTANCES / "tiny-two-provinces"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("solutions")
    write_solution(run(TWO).solution, root / "a")
    write_solution(run(TWO, forbid_sites="RB").solution, root / "b")
    return root


def only_deprecation(r, old: str, new: str) -> None:
    """The run succeeded, and stderr holds exactly one line: the deprecation of ``old`` in favour of ``new``."""
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [f"deprecated: {old} (still accepted for one release); use {new}"]


def test_every_status_has_a_sentence_and_a_word():
    for status in Status:
        assert status.value in STATUS_TEXT and status.value in STATUS_WORD
    assert STATUS_WORD["time_limit"] == "not proven"


def test_compare_writes_with_out_and_still_takes_output_once_more(folders, tmp_path):
    r = invoke("compare", folders / "a", folders / "b", "--out", tmp_path / "new.txt")
    assert r.exit_code == 0 and r.stderr == "", r.output
    r = invoke("compare", folders / "a", folders / "b", "--output", tmp_path / "old.txt")
    only_deprecation(r, "compare --output FILE", "--out FILE")
    assert (tmp_path / "old.txt").read_text() == (tmp_path / "new.txt").read_text()
    r = invoke("compare", folders / "a", folders / "b", "--output", tmp_path / "x", "--out", tmp_path / "y")
    assert r.exit_code == 2 and "given twice" in r.output


def test_compare_takes_the_instance_after_the_solution_folders(folders, copy_instance):
    r = invoke("compare", folders / "a", folders / "b", "tiny-two-provinces")
    assert r.exit_code == 0, r.output
    assert r.output.count("passed") == 2  # both re-checked against the instance named
    # Another instance named explicitly: each folder is checked against it, and fails there.
    copy, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(fixed_cost="1"))
    r = invoke("compare", folders / "a", folders / "b", copy)
    assert r.exit_code == 0, r.output
    assert "FAILED" in r.output


def test_check_takes_a_bundled_instance_by_name(folders):
    r = invoke("check", folders / "a", "tiny-two-provinces")
    assert r.exit_code == 0, r.output
    assert "passed against instance tiny-two-provinces" in r.output


def test_export_instance_writes_with_out_and_still_takes_xlsx_once_more(tmp_path):
    r = invoke("export-instance", TWO, "--out", tmp_path / "new.xlsx")
    assert r.exit_code == 0 and r.stderr == "", r.output
    r = invoke("export-instance", TWO, "--xlsx", tmp_path / "old.xlsx")
    only_deprecation(r, "export-instance --xlsx FILE", "--out FILE")
    assert (tmp_path / "old.xlsx").is_file()
    assert invoke("export-instance", TWO).exit_code == 2


def test_a_missing_solution_folder_is_a_usage_error(folders, tmp_path):
    for command in ("report", "compare"):
        r = invoke(command, folders / "a", tmp_path / "nowhere")
        assert r.exit_code == 2 and "no such solution folder" in r.output, (command, r.output)


def test_a_folder_that_is_neither_is_taken_for_a_solution(folders, tmp_path):
    stray = tmp_path / "stray"
    shutil.copytree(folders / "b", stray)
    (stray / "summary.json").unlink()
    r = invoke("compare", folders / "a", stray)
    assert r.exit_code == 2 and "summary.json" in r.output


# ------------------------------------------------------------------ one task in every table

GROUPS = INSTANCES / "tiny-groups"
HAND_GROUPS = [
    "--set=travel_value=1",
    "--set=unmet_penalty=1000",
    "--set=max_travel_minutes=none",
    "--set=max_travel_minutes_regular=none",
]


def test_validate_states_the_task_and_the_national_groups():
    r = invoke("validate", GROUPS)
    assert r.exit_code == 0, r.output
    assert "1 provinces, 2 municipalities, total demand 140 places: the provinces' task 120 + national groups 20" in (
        r.output
    )
    assert "  task groups: asylum seekers 100; unaccompanied minors 20\n" in r.output
    assert "  national groups: displaced from Ukraine 20\n" in r.output
    assert "total demand 500 places\n" in invoke("validate", TWO).output  # without groups: one demand, the task


def test_list_groups():
    r = invoke("list", "groups", GROUPS)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[:5] == [
        "Group  Name                    Target    Sites   Demand",
        "-----  ----------------------  --------  ------  ------",
        "reg    asylum seekers          province  all        100",
        "amv    unaccompanied minors    province  listed      20",
        "ua     displaced from Ukraine  national  listed      20",
    ]
    assert "Demand 140 places: the task 120 (groups with target province) + national groups 20 (target national)." in (
        r.output
    )
    assert r.output.rstrip().endswith("3 groups")
    r = invoke("list", "groups", GROUPS, "--province", "Pland")
    assert "reg    asylum seekers          province  all        100" in r.output
    r = invoke("list", "groups", TWO)
    assert r.exit_code == 0
    assert (
        r.output
        == "tiny-two-provinces has no demand groups (groups.csv): one demand of 500 places, the provinces' task\n"
    )


def test_list_provinces_and_instances_state_the_task_and_the_national_groups():
    r = invoke("list", "provinces", GROUPS)
    assert r.output.splitlines()[:3] == [
        "Province  Name   Task  National  Demand",
        "--------  -----  ----  --------  ------",
        "P         Pland   120        20     140",
    ]
    assert invoke("list", "provinces", TWO).output.splitlines()[0] == "Province  Name   Task"
    rows = {line.split()[0]: line.split()[4:7] for line in invoke("instances").output.splitlines()[2:] if line}
    assert rows["tiny-groups"] == ["120", "20", "140"] and rows["tiny-two-provinces"] == ["500", "0", "500"]


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    out = tmp_path_factory.mktemp("grouped") / "g"
    r = invoke("solve", GROUPS, *HAND_GROUPS, "--set=budget=300", "--no-explain", "--out", out)
    assert r.exit_code == 1, r.output  # 5 minors unmet (test_explain)
    return out, r.output


def test_the_console_states_one_task(grouped):
    _, output = grouped
    assert "Places     135 placed of 140 (task 120 + national groups 20), unmet 5 (task 5, national groups 0)" in output
    assert "Province  Task  National  Demand  Placed  Unmet  Realised" in output
    assert "Pland      120        20     140     135      5    96.43%" in output


def test_the_report_states_one_task(grouped, tmp_path):
    folder, _ = grouped
    r = invoke("report", folder, "--out", tmp_path / "r.html")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "r.html").read_text()
    # The province table: the task, the national groups and both, never the task against every group placed.
    assert '<th class="n">Task</th><th class="n">National groups</th><th class="n">Demand</th>' in page
    assert (
        '<td>Pland</td><td class="n">120</td><td class="n">20</td><td class="n">140</td><td class="n">135</td>' in page
    )
    assert "of 140 (task 120 + national groups 20) places; unmet 5" in page
    assert "then its part of the national groups placed (light blue)" in page  # the chart's caption
    assert "Task: the province's own groups (asylum seekers, unaccompanied minors)" in page


def test_compare_states_one_task(grouped):
    folder, _ = grouped
    r = invoke("compare", folder, folder)
    rows = [line.split() for line in r.output.splitlines()]
    for row in (
        ["Demand", "140", "140", "+0"],
        ["task", "120", "120", "+0"],
        ["national", "groups", "20", "20", "+0"],
        ["Unmet", "5", "5", "+0"],
        ["task", "5", "5", "+0"],
        ["national", "groups", "0", "0", "+0"],
    ):
        assert row in rows, row
    csv = invoke("compare", folder, folder, "--format", "csv").output
    assert "province.task,P,Pland,120.0,120.0" in csv and "province.national,P,Pland,20.0,20.0" in csv


def test_whatif_says_what_its_figures_count():
    r = invoke("whatif", GROUPS, *HAND_GROUPS, "--province", "P")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert (
        "every group: its task (asylum seekers, unaccompanied minors) and its part of the national groups "
        "(displaced from Ukraine), as the national plan places both (`allocator solve --province` plans the task alone"
    ) in text


def test_a_provincial_plan_says_what_it_leaves_out(tmp_path):
    r = invoke("solve", GROUPS, *HAND_GROUPS, "--province", "P", "--out", tmp_path / "p")
    assert r.exit_code == 0, r.output
    assert "its municipalities, the groups of its task and the sites that take them, 100% of the task" in r.output
    assert "Outside    displaced from Ukraine (national target): 20 places in these provinces, planned nationally" in (
        r.output
    )


# ------------------------------------------------------------------ sites of another province, keys that do not apply


def test_a_site_of_another_province_is_named_as_such(tmp_path):
    r = invoke("solve", TWO, "--province", "P1", "--force-site", "RD", "--out", tmp_path / "s")
    assert r.exit_code == 2
    assert (
        "--force-site: site RD (Deeveen regular) lies in province P2 (South), not in P1 (North): a provincial plan "
        "holds its own sites only (value: 'RD')"
    ) in r.output
    assert "unknown" not in r.output and not (tmp_path / "s").exists()
    r = invoke("whatif", TWO, "--province", "North", "--forbid-site", "Deeveen regular", "--force-site", "LC")
    assert r.exit_code == 2
    assert "2 problems in the sites given:" in r.output
    assert "--forbid-site: site RD (Deeveen regular) lies in province P2 (South), not in P1 (North)" in r.output
    assert "--force-site: site LC (Ceestad large) lies in province P2 (South), not in P1 (North)" in r.output
    # With placements across borders, a site of another province bears on the plan: accepted.
    r = invoke("whatif", TWO, "--province", "P1", "--policy", "regional", "--forbid-site", "RD")
    assert r.exit_code == 0, r.output


def test_policy_keys_that_do_not_apply_are_refused_with_the_reason(tmp_path):
    sets = ["--set", "risk=worst", "--set", "discount_rate=0.03", "--set", "scenario_weights=low:1,high:1"]
    r = invoke("solve", TWO, *sets, "--out", tmp_path / "s")
    assert r.exit_code == 2 and not (tmp_path / "s").exists()
    assert "3 problems in the policy:" in r.output
    for key in ("risk", "discount_rate", "scenario_weights"):
        assert (
            f"policy 'default', column '{key}': does not apply to instance tiny-two-provinces: it applies to plans "
            "over several periods only, and the instance has no periods (periods.csv)"
        ) in r.output
    assert invoke("explain", TWO, "--set", "risk=worst").exit_code == 2
    # A key set in a policy file is refused the same way; the presets set none of them.
    policy = tmp_path / "mine.toml"
    policy.write_text('risk = "worst"\n')
    r = invoke("solve", TWO, "--policy", policy, "--out", tmp_path / "t")
    assert r.exit_code == 2 and "column 'risk': does not apply" in r.output
    assert (
        invoke(
            "solve", INSTANCES / "tiny-horizon-band", "--set", "risk=worst", "--no-baseline", "--out", tmp_path / "h"
        ).exit_code
        == 0
    )
