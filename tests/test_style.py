"""The house style: ruff's lint rules and formatting (pyproject.toml, [tool.ruff]) hold for the whole repository."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT


def ruff() -> list[str]:
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.exists() else shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]' installs it")
    return [found]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(command):
    out = subprocess.run(ruff() + command + [str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_file_of_the_project_is_checked():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no list of the project's files")
    tracked = subprocess.run(["git", "ls-files", "*.py"], capture_output=True, text=True, cwd=ROOT, check=True)
    shown = subprocess.run(ruff() + ["check", "--show-files", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    checked = {Path(line).resolve() for line in shown.stdout.splitlines() if line.strip()}
    missing = [f for f in tracked.stdout.split() if (ROOT / f).resolve() not in checked]
    assert not missing, (
        f"ruff does not look at these files of the project (pyproject.toml, [tool.ruff] include): {missing}"
    )


def test_ruff_and_pytest_leave_user_folders_in_the_checkout_alone(tmp_path):
    # A checkout as users leave it after the README's tour: a copy of an instance with its build script, and
    # solution folders. Neither ruff nor pytest may look into them; a fault in the project's own files still counts.
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    untidy = "import os\n"  # no docstring, an unused import
    for path in ("nl-2024-ede/build.py", "solutions/x/notes.py", "nl-2024-ede/test_copy.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(untidy + "\n\ndef test_copy():\n    assert False\n")
    (tmp_path / "allocator").mkdir()
    (tmp_path / "allocator" / "tidy.py").write_text('"""Tidy."""\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_tidy.py").write_text("def test_tidy():\n    assert True\n")
    for command in (["check"], ["format", "--check"]):
        out = subprocess.run(ruff() + command + [str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
        assert out.returncode == 0, out.stdout + out.stderr
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=tmp_path
    )
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.stdout + tests.stderr
    (tmp_path / "allocator" / "untidy.py").write_text(untidy)
    out = subprocess.run(ruff() + ["check", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1 and "allocator/untidy.py" in out.stdout
