"""Helpers shared by the tests: the tiny instances, hand-solving prices, small instance builders."""

import shutil
from pathlib import Path

import pandas as pd

from allocator.analysis.pipeline import solve
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.solve.options import SolveOptions

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ROOT / "instances"

# Prices that make the tiny instances easy to solve by hand (see their README files).
HAND = {"travel_value": 1, "unmet_penalty": 1000, "max_travel_minutes": "none", "max_travel_minutes_regular": "none"}
HAND_ARGS = [
    a for key, value in HAND.items() for a in ("--set", f"{key}={value}")
]  # the same prices on the command line


def hand_policy(**overrides):
    return load_policy("default", {**HAND, **overrides})


def run(instance, **overrides):
    """Solve with the hand-solving prices; exact gap so optimal values can be asserted exactly."""
    inst = instance if not isinstance(instance, (str, Path)) else load_instance(instance)
    return solve(inst, hand_policy(**overrides), SolveOptions(gap=0.0, workers=1, time_limit=60))


def placed(outcome) -> dict:
    return {(r.municipality, r.site): r.placed for r in outcome.solution.placements.itertuples()}


def open_sites(outcome) -> set:
    s = outcome.solution.sites
    return set(s.loc[s["open_site"] == 1, "site"])


def two_province_horizon(folder: Path, need: int = 500, budget: float | None = None) -> Path:
    """instances/tiny-two-provinces over one year (2025, scenario mid) with a national need, split 300 : 200 over
    the provinces by their tasks and over the municipalities by population (as their static demand)."""
    shutil.copytree(INSTANCES / "tiny-two-provinces", folder)
    budget_column = "" if budget is None else f",{budget:g}"
    (folder / "periods.csv").write_text(
        f"period,start,years{',budget' if budget is not None else ''}\n2025,2025-01-01,1{budget_column}\n"
    )
    (folder / "need.csv").write_text(f"period,scenario,need\n2025,mid,{need}\n")
    return folder


def write_matrix_instance(folder: Path, provinces: dict, municipalities: dict, sites: dict, travel: dict) -> Path:
    """A small instance folder in matrix travel mode, each table given as columns."""
    folder.mkdir(parents=True)
    (folder / "instance.toml").write_text(
        f'name = "{folder.name}"\ndescription = "test"\nunits = "places"\ncurrency = "EUR"\nplanning_period = "1 year"\n[travel]\nmode = "matrix"\n'
    )
    for name, table in (
        ("provinces", provinces),
        ("municipalities", municipalities),
        ("sites", sites),
        ("travel_times", travel),
    ):
        pd.DataFrame(table).to_csv(folder / f"{name}.csv", index=False)
    return folder


def two_large_instance(folder: Path, min_size: int = 0) -> Path:
    """One province; municipalities X and Y (100 places each) 50 minutes apart, a large candidate at each."""
    return write_matrix_instance(
        folder,
        {"province": ["P"], "name": ["P"]},
        {
            "municipality": ["X", "Y"],
            "name": ["X", "Y"],
            "province": "P",
            "population": 1,
            "lat": 52,
            "lon": 5,
            "demand": 100,
        },
        {
            "site": ["LX", "LY"],
            "name": ["LX", "LY"],
            "municipality": ["X", "Y"],
            "province": "P",
            "kind": "large",
            "status": "candidate",
            "min_size": min_size,
            "capacity": 300,
            "fixed_cost": 100,
            "cost_per_place": 1,
            "lat": 52,
            "lon": 5,
        },
        {"municipality": ["X", "X", "Y", "Y"], "site": ["LX", "LY", "LX", "LY"], "minutes": [0, 50, 50, 0]},
    )


def tiny_backtest(tmp_path: Path, name: str = "tiny-horizon-standby") -> Path:
    """A copy of a tiny instance with periods, replayed over 2015-2017 with a need of 150, 50, 150 and a forecast
    that saw it coming (as tiny-horizon-standby: the rolling plan stands by through 2016)."""
    folder = tmp_path / f"{name}-bt"
    shutil.copytree(INSTANCES / name, folder)
    bt = folder / "backtest"
    bt.mkdir()
    years = range(2015, 2020)
    pd.DataFrame({"period": [str(y) for y in years], "start": [f"{y}-01-01" for y in years], "years": 1}).to_csv(
        bt / "periods.csv", index=False
    )
    arrived = {"2015": 150, "2016": 50, "2017": 150}
    pd.DataFrame({"period": list(arrived), "residents": list(arrived.values())}).to_csv(bt / "arrived.csv", index=False)
    need = {2015: 150, 2016: 50, 2017: 150, 2018: 150, 2019: 150}
    rows = [(str(m), str(t), "mid", need[t]) for m in (2015, 2016, 2017) for t in years if t >= m]
    pd.DataFrame(rows, columns=["made", "period", "scenario", "need"]).to_csv(bt / "forecasts.csv", index=False)
    history = {"date": ["2016-03-31", "2016-12-31"], "residents": [50, ""], "locations": [7, ""], "capacity": ["", 300]}
    pd.DataFrame(history).to_csv(bt / "history.csv", index=False)
    return folder
