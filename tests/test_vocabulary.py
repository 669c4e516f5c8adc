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
