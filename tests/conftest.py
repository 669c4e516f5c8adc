import shutil
from pathlib import Path

import pandas as pd
import pytest

from allocator.instance import load_instance
from allocator.pipeline import solve
from allocator.policy import load_policy
from allocator.solver import SolveOptions

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ROOT / "instances"

# Prices that make the tiny instances easy to solve by hand (see their README files).
HAND = {"travel_value": 1, "unmet_penalty": 1000, "max_travel_minutes": "none", "max_travel_minutes_regular": "none"}


def hand_policy(**overrides):
    return load_policy("default", {**HAND, **overrides})


def run(instance, **overrides):
    """Solve with the hand-solving prices; exact gap so optimal values can be asserted exactly."""
    inst = instance if not isinstance(instance, (str, Path)) else load_instance(instance)
    return solve(inst, hand_policy(**overrides), SolveOptions(gap=0.0, workers=1, time_limit=60))


@pytest.fixture
def copy_instance(tmp_path):
    """Copy a bundled instance into tmp_path; returns (folder, edit) where edit(table, fn) rewrites a CSV."""

    def make(name: str):
        folder = tmp_path / name
        shutil.copytree(INSTANCES / name, folder)

        def edit(table: str, fn):
            path = folder / f"{table}.csv"
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            df = fn(df)
            df.to_csv(path, index=False)

        return folder, edit

    return make


def placed(outcome) -> dict:
    return {(r.municipality, r.site): r.placed for r in outcome.solution.placements.itertuples()}


def open_sites(outcome) -> set:
    s = outcome.solution.sites
    return set(s.loc[s["open_site"] == 1, "site"])
