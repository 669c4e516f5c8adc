"""A solved plan as tables, its KPIs, and the solution folder that holds them.

The folder is written whole or not at all: everything goes to a temporary folder beside the
target, which is then renamed into place.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem, SolutionError

TABLES = ("sites", "placements", "municipalities", "provinces")
SITE_COLUMNS = ["site", "name", "municipality", "province", "kind", "status", "fixing", "open_site", "placed", "min_size", "capacity", "utilisation", "fixed_cost", "place_cost", "travel_value"]
PLACEMENT_COLUMNS = ["municipality", "site", "placed", "travel_minutes", "place_cost", "travel_value"]
MUNICIPALITY_COLUMNS = ["municipality", "name", "province", "demand", "placed", "unmet", "sites", "mean_travel_minutes", "max_travel_minutes"]
PROVINCE_COLUMNS = ["province", "name", "demand", "placed", "unmet", "realisation", "large_sites", "large_site_names", "open_sites", "fixed_cost", "place_cost", "travel_value", "cost", "mean_travel_minutes"]


@dataclass(frozen=True, eq=False)
class Solution:
    """Summary (status, objective, KPIs, policy, provenance) and the four tables."""

    summary: dict
    sites: pd.DataFrame
    placements: pd.DataFrame
    municipalities: pd.DataFrame
    provinces: pd.DataFrame

    @property
    def status(self) -> str:
        return self.summary["status"]

    @property
    def objective(self) -> float | None:
        return self.summary.get("objective")

    @property
    def kpis(self) -> dict:
        return self.summary["kpis"]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


def extract_solution(instance, model, result, options=None, timings: dict | None = None) -> Solution:
    """Tables and KPIs of the plan loaded in ``model``. Only call with a result that has a plan."""
    if not result.has_plan:
        raise ValueError(f"no plan to extract: the solve ended with status {result.status.value}")
    policy = model.policy
    data = model.data
    w = policy.travel_value
    whole = policy.whole_places

    def amount(v: float) -> float:
        # Whole places are exact; fractional ones are cut to 1e-9 so that sums do not carry solver noise.
        return float(round(v)) if whole else round(float(v), 9)

    rows = []
    for (i, s), var in model.placed.items():
        value = var.value or 0.0
        if value > 1e-9:
            t = data.travel_minutes[(i, s)]
            q = amount(value)
            if q > 0:
                rows.append((i, s, q, t, data.cost_per_place[s] * q, w * t * q))
    placements = pd.DataFrame(rows, columns=PLACEMENT_COLUMNS).sort_values(["municipality", "site"], kind="stable").reset_index(drop=True)
    placements["travel_minutes"] = placements["travel_minutes"].round(4)

    sites = instance.sites
    fixing = pd.Series("", index=sites.index)
    if policy.keep_existing_open:
        fixing[sites["status"] == "existing"] = "existing"
    fixing[list(policy.force_sites)] = "forced"
    fixing[list(policy.forbid_sites)] = "forbidden"
    by_site = placements.groupby("site")[["placed", "place_cost", "travel_value"]].sum()
    open_site = pd.Series({s: int(round(model.open_site[s].value or 0)) for s in sites.index})
    site_table = pd.DataFrame({
        "site": sites.index,
        "name": sites["name"].to_numpy(),
        "municipality": sites["municipality"].to_numpy(),
        "province": sites["province"].to_numpy(),
        "kind": sites["kind"].to_numpy(),
        "status": sites["status"].to_numpy(),
        "fixing": fixing.to_numpy(),
        "open_site": open_site.reindex(sites.index).to_numpy(),
        "placed": by_site["placed"].reindex(sites.index, fill_value=0.0).to_numpy(),
        "min_size": sites["min_size"].to_numpy(),
        "capacity": sites["capacity"].to_numpy(),
    })
    site_table["utilisation"] = (site_table["placed"] / site_table["capacity"]).round(4)
    site_table["fixed_cost"] = site_table["open_site"] * sites["fixed_cost"].to_numpy()
    site_table["place_cost"] = by_site["place_cost"].reindex(sites.index, fill_value=0.0).to_numpy()
    site_table["travel_value"] = by_site["travel_value"].reindex(sites.index, fill_value=0.0).to_numpy()

    muni = instance.municipalities
    demand = pd.Series(data.demand).reindex(muni.index).astype(float)
    grouped = placements.groupby("municipality")
    placed = grouped["placed"].sum().reindex(muni.index, fill_value=0.0)
    person_minutes = (placements["placed"] * placements["travel_minutes"]).groupby(placements["municipality"]).sum().reindex(muni.index, fill_value=0.0)
    muni_table = pd.DataFrame({
        "municipality": muni.index,
        "name": muni["name"].to_numpy(),
        "province": muni["province"].to_numpy(),
        "demand": demand.to_numpy(),
        "placed": placed.to_numpy(),
        "unmet": (demand - placed).clip(lower=0).to_numpy(),
        "sites": grouped["site"].count().reindex(muni.index, fill_value=0).to_numpy(),
        "mean_travel_minutes": _ratio(person_minutes, placed).round(4).to_numpy(),
        "max_travel_minutes": grouped["travel_minutes"].max().reindex(muni.index).to_numpy(),
    })

    provinces = instance.provinces
    by_prov = muni_table.groupby("province")[["demand", "placed", "unmet"]].sum().reindex(provinces.index, fill_value=0.0)
    prov_minutes = person_minutes.groupby(muni["province"]).sum().reindex(provinces.index, fill_value=0.0)
    open_sites = site_table[site_table["open_site"] == 1]
    large_open = open_sites[open_sites["kind"] == "large"].groupby("province")
    site_costs = open_sites.groupby("province")[["fixed_cost"]].sum().join(site_table.groupby("province")[["place_cost", "travel_value"]].sum(), how="outer")
    site_costs = site_costs.reindex(provinces.index, fill_value=0.0).fillna(0.0)
    prov_table = pd.DataFrame({
        "province": provinces.index,
        "name": provinces["name"].to_numpy(),
        "demand": by_prov["demand"].to_numpy(),
        "placed": by_prov["placed"].to_numpy(),
        "unmet": by_prov["unmet"].to_numpy(),
        "realisation": _ratio(by_prov["placed"], by_prov["demand"]).round(6).to_numpy(),
        "large_sites": [";".join(large_open.get_group(p)["site"]) if p in large_open.groups else "" for p in provinces.index],
        "large_site_names": [";".join(large_open.get_group(p)["name"]) if p in large_open.groups else "" for p in provinces.index],
        "open_sites": open_sites.groupby("province")["site"].count().reindex(provinces.index, fill_value=0).to_numpy(),
        "fixed_cost": site_costs["fixed_cost"].to_numpy(),
        "place_cost": site_costs["place_cost"].to_numpy(),
        "travel_value": site_costs["travel_value"].to_numpy(),
    })
    prov_table["cost"] = prov_table["fixed_cost"] + prov_table["place_cost"]
    prov_table["mean_travel_minutes"] = _ratio(prov_minutes, by_prov["placed"]).round(4).to_numpy()

    kpis = compute_kpis(site_table, placements, muni_table, policy.unmet_penalty, data.budget)
    summary = {
        "status": result.status.value,
        "message": result.message,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "absolute_gap": result.absolute_gap,
        "kpis": kpis,
        "provinces": {
            row.province: {"demand": row.demand, "placed": row.placed, "unmet": row.unmet, "realisation": row.realisation, "large_sites": row.large_sites}
            for row in prov_table.itertuples()
        },
        "policy": policy.to_dict(),
        "options": None if options is None else {k: getattr(options, k) for k in ("time_limit", "gap", "threads", "seed", "workers", "decompose")},
        "instance": {"name": instance.name, "source": instance.source, "fingerprint": instance.fingerprint, "units": instance.units, "currency": instance.currency, "planning_period": instance.planning_period},
        "blocks": result.blocks,
        "timings": {k: round(v, 4) for k, v in {**(timings or {}), **result.timings}.items()},
        "versions": versions(),
    }
    return Solution(summary, site_table, placements, muni_table, prov_table)


def compute_kpis(sites: pd.DataFrame, placements: pd.DataFrame, municipalities: pd.DataFrame, unmet_penalty: float, budget: float | None) -> dict:
    """KPIs from the tables alone (the checker recomputes them the same way from the files)."""
    placed = float(placements["placed"].sum())
    person_minutes = float((placements["placed"] * placements["travel_minutes"]).sum())
    fixed = float(sites["fixed_cost"].sum())
    place = float(sites["place_cost"].sum())
    travel = float(sites["travel_value"].sum())
    unmet = float(municipalities["unmet"].sum())
    opened = sites[sites["open_site"] == 1]
    return {
        "total_cost": fixed + place,
        "fixed_cost": fixed,
        "place_cost": place,
        "travel_value": travel,
        "unmet_penalty": unmet_penalty * unmet,
        "demand": float(municipalities["demand"].sum()),
        "placed": placed,
        "unmet": unmet,
        "open_sites": int(len(opened)),
        "open_large_sites": int((opened["kind"] == "large").sum()),
        "open_regular_sites": int((opened["kind"] == "regular").sum()),
        "mean_travel_minutes": round(person_minutes / placed, 4) if placed else None,
        "max_travel_minutes": float(placements["travel_minutes"].max()) if len(placements) else None,
        "budget": budget,
        "budget_used": round((fixed + place) / budget, 6) if budget else None,
    }


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return (num.astype(float) / den.where(den != 0)).astype(float)


def versions() -> dict:
    out = {"python": platform.python_version()}
    for dist in ("reception-allocator", "pyomo", "highspy", "pandas", "networkx", "numpy", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    from .solver import highs_version

    out["HiGHS"] = highs_version()
    return out


def write_solution(solution: Solution, folder: str | Path, overwrite: bool = True) -> Path:
    """Write summary.json and the tables into ``folder`` atomically (whole or not at all)."""
    target = Path(folder)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (staging / "summary.json").write_text(json.dumps(_jsonable(solution.summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for name, table in solution.tables().items():
            table.to_csv(staging / f"{name}.csv", index=False, lineterminator="\n", float_format="%.10g")
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            os.rename(target, old)
            os.rename(staging, target)
            shutil.rmtree(old)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_solution(folder: str | Path) -> Solution:
    """Read a solution folder; SolutionError lists every missing or unreadable part."""
    root = Path(folder)
    problems: list[Problem] = []
    if not root.is_dir():
        raise SolutionError([Problem(str(root), "no such solution folder")])
    summary = {}
    try:
        summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem("summary.json", "file not found"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("summary.json", f"not valid JSON: {exc}"))
    tables = {}
    expected = {"sites": SITE_COLUMNS, "placements": PLACEMENT_COLUMNS, "municipalities": MUNICIPALITY_COLUMNS, "provinces": PROVINCE_COLUMNS}
    for name, columns in expected.items():
        path = root / f"{name}.csv"
        try:
            table = pd.read_csv(path, dtype={c: str for c in ("site", "municipality", "province", "name", "kind", "status", "fixing", "large_sites", "large_site_names")}, keep_default_na=False, na_values=[""])
        except FileNotFoundError:
            problems.append(Problem(f"{name}.csv", "file not found"))
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"{name}.csv", f"not a readable CSV table: {exc}"))
            continue
        for column in columns:
            if column not in table:
                problems.append(Problem(f"{name}.csv", "required column is missing", row=1, column=column))
        for column in ("fixing", "large_sites", "large_site_names"):
            if column in table:
                table[column] = table[column].fillna("")
        tables[name] = table
    if problems:
        raise SolutionError(problems)
    return Solution(summary, tables["sites"], tables["placements"], tables["municipalities"], tables["provinces"])


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value
