"""A plain `pip install .` (not editable) finds the policy presets and the bundled instances from any folder."""

import subprocess
import sys
import zipfile

import pytest
from helpers import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package built as a wheel and installed without its dependencies (they come from this environment)."""
    work = tmp_path_factory.mktemp("install")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(work / "wheel"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (work / "wheel").glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(work / "site"), str(wheel)],
        check=True,
        capture_output=True,
    )
    return wheel, work / "site"


def test_the_wheel_holds_the_presets_and_the_instances(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "allocator/presets/default.toml",
        "allocator/presets/regional.toml",
        "allocator/bundled/nl-2024/sites.csv",
        "allocator/bundled/nl-2024/instance.toml",
    } <= names
    assert "allocator/data/geo/nl_municipalities_2024.geojson" in names
    assert {"allocator/workbench/static/index.html", "allocator/workbench/static/app.js"} <= names


def test_the_installed_package_runs_from_another_folder(installed, tmp_path):
    _, site = installed
    env = {"PYTHONPATH": str(site), "PATH": ""}
    script = (
        "import sys; from allocator.commands.main import cli; "
        "sys.exit(cli(['validate'], prog_name='allocator', standalone_mode=False) or 0)"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "nl-2024: valid" in out.stdout and str(site) in out.stdout
    out = subprocess.run(
        [sys.executable, "-c", script.replace("'validate'", "'policies'")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "default" in out.stdout and "regional" in out.stdout and str(site) in out.stdout
