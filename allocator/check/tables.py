"""Every column of every table in a solution folder, and every figure of summary.json, recomputed and compared.

The constraint checks (families.py) say whether the plan is allowed; these say whether the folder
tells the truth about it: a table edited after the solve fails here, cell by cell.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd

from .context import municipality

# Figures as the tables state them: exact sums within float noise, rounded shares within their rounding.
# A mean travel time is rounded twice: it is computed from the placements' minutes (4 decimals), then itself.
MONEY_REL = 1e-9
ROUNDED = {
    "utilisation": 5e-5 + 1e-9,
    "mean_travel_minutes": 1e-4 + 1e-9,
    "max_travel_minutes": 5e-5 + 1e-9,
    "realisation": 5e-7 + 1e-12,
}
OBJECTIVE_EUROS = 1.0  # a claimed objective off by more than this fails


def close(claimed, recomputed, tolerance: float | None = None) -> bool:
    """Both missing, or both numbers within ``tolerance`` (default: float noise relative to their size)."""
    a_missing = claimed is None or (isinstance(claimed, float) and math.isnan(claimed))
    b_missing = recomputed is None or (isinstance(recomputed, float) and math.isnan(recomputed))
    if a_missing or b_missing:
        return a_missing and b_missing
    try:
        a, b = float(claimed), float(recomputed)
    except (TypeError, ValueError):
        return False
    limit = tolerance if tolerance is not None else 1e-6 + MONEY_REL * max(abs(a), abs(b))
    return abs(a - b) <= limit


def compare_row(report, label: str, claimed: dict, expected: dict) -> None:
    """One violation per column of a row whose claimed value differs from the recomputed one."""
    for column, value in expected.items():
        got = claimed.get(column)
        same = got == value if isinstance(value, str) else close(got, value, ROUNDED.get(column))
        if not same:
            report.add(label, f"{column} says {_show(got)}, recomputed {_show(value)}")


def _show(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(empty)"
    return repr(value) if isinstance(value, str) else f"{float(value):.10g}"


def _reachable(ctx) -> pd.DataFrame:
    """The placements with their recomputed minutes (column ``minutes``) and the instance's place cost (``cost``),
    those on unreachable arcs left out (reported elsewhere)."""
    minutes = np.asarray(ctx.minutes, dtype=float)
    cost = ctx.placements["placed"].to_numpy() * np.asarray(ctx.prices, dtype=float)
    return ctx.placements.assign(minutes=minutes, cost=cost).loc[np.isfinite(minutes)]


def check_placements_table(ctx, report) -> None:
    """placements.csv: each row's place cost and travel value from the instance's prices and the recomputed travel time."""
    w = ctx.policy.travel_value
    for row, t, price in zip(ctx.placements.itertuples(), ctx.minutes, ctx.prices):
        if math.isfinite(t):
            expected = {"place_cost": row.placed * price, "travel_value": w * t * row.placed}
            key = f"{row.municipality},{row.site}" + (f",{row.group}" if ctx.grouped else "")
            compare_row(report, f"placements.csv[{key}]", row._asdict(), expected)


def check_sites_table(ctx, report) -> None:
    """sites.csv: the instance's columns as given, the fixing as the policy sets it, and load, utilisation and costs from the placements."""
    sites, policy = ctx.instance.sites, ctx.policy
    pl = _reachable(ctx)
    place_cost = pl["cost"].groupby(pl["site"]).sum()
    travel = (policy.travel_value * pl["placed"] * pl["minutes"]).groupby(pl["site"]).sum()
    fixing = _fixings(ctx)
    given, stated = sites.to_dict("index"), ctx.sites.to_dict("index")  # row lookups by label are slow in a loop
    operators = {} if ctx.instance.operators is None else ctx.instance.operators["operator"].to_dict()
    for s, row in given.items():
        claimed = stated[s]
        load = ctx.load.get((s, ()), 0.0)
        is_open = claimed["open_site"] == 1
        expected = {
            "name": str(row["name"]),
            "municipality": str(row["municipality"]),
            "province": str(row["province"]),
            "kind": str(row["kind"]),
            "status": str(row["status"]),
            **({"operator": operators[s]} if operators else {}),
            "fixing": fixing.get(s, ""),
            "min_size": float(row["min_size"]),
            "capacity": float(row["capacity"]),
            "utilisation": load / float(row["capacity"]),
            "fixed_cost": float(row["fixed_cost"]) if is_open else 0.0,
            "place_cost": float(place_cost.get(s, 0.0)),
            "travel_value": float(travel.get(s, 0.0)),
        }
        compare_row(report, f"sites.csv[{s}]", claimed, expected)


def _fixings(ctx) -> dict[str, str]:
    sites, policy = ctx.instance.sites, ctx.policy
    out = {}
    if policy.keep_existing_open:
        out.update({s: "existing" for s in sites.index[sites["status"] == "existing"]})
    out.update({s: "forced" for s in policy.force_sites})
    out.update({s: "forbidden" for s in policy.forbid_sites})
    return out


def check_municipalities_table(ctx, report) -> None:
    """municipalities.csv: name and province as given, sites used and travel from the placements (demand, placed and
    unmet: check_demand_balance)."""
    muni = ctx.instance.municipalities
    pl = _reachable(ctx)
    grouped = pl.groupby("municipality")
    person_minutes = (pl["placed"] * pl["minutes"]).groupby(pl["municipality"]).sum()
    placed_in = ctx.placements.groupby("municipality")["placed"].sum()
    for i in muni.index:
        placed = float(placed_in.get(i, 0.0))
        expected = {
            "name": str(muni.at[i, "name"]),
            "province": str(muni.at[i, "province"]),
            "sites": float(grouped.size().get(i, 0)),
            "mean_travel_minutes": float(person_minutes.get(i, 0.0)) / placed if placed else math.nan,
            "max_travel_minutes": float(grouped["minutes"].max().get(i, math.nan)),
        }
        compare_row(report, f"municipalities.csv[{i}]", ctx.municipalities.loc[i].to_dict(), expected)


def province_figures(ctx) -> pd.DataFrame:
    """Per province, every figure of provinces.csv as recomputed."""
    inst, policy = ctx.instance, ctx.policy
    muni, sites = inst.municipalities, inst.sites
    pl = _reachable(ctx)
    demand = defaultdict(float)
    for u, d in ctx.demand[()].items():
        demand[muni.at[municipality(u), "province"]] += d
    placed = pl.groupby(pl["municipality"].map(muni["province"]))["placed"].sum()
    person_minutes = (pl["placed"] * pl["minutes"]).groupby(pl["municipality"].map(muni["province"])).sum()
    by_site_province = pl["site"].map(sites["province"])
    place_cost = pl["cost"].groupby(by_site_province).sum()
    travel = (policy.travel_value * pl["placed"] * pl["minutes"]).groupby(by_site_province).sum()
    opened = [s for s in sites.index if ctx.sites.at[s, "open_site"] == 1]
    rows = {}
    for p in inst.provinces.index:
        here = [s for s in opened if sites.at[s, "province"] == p]
        large = [s for s in here if sites.at[s, "kind"] == "large"]
        d, q = float(demand.get(p, 0.0)), float(placed.get(p, 0.0))
        fixed = float(sum(sites.at[s, "fixed_cost"] for s in here))
        rows[p] = {
            "name": str(inst.provinces.at[p, "name"]),
            "demand": d,
            "placed": q,
            "unmet": d - q,
            "realisation": q / d if d else math.nan,
            "large_sites": ";".join(large),
            "large_site_names": ";".join(str(sites.at[s, "name"]) for s in large),
            "open_sites": float(len(here)),
            "fixed_cost": fixed,
            "place_cost": float(place_cost.get(p, 0.0)),
            "travel_value": float(travel.get(p, 0.0)),
            "cost": fixed + float(place_cost.get(p, 0.0)),
            "mean_travel_minutes": float(person_minutes.get(p, 0.0)) / q if q else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def check_provinces_table(ctx, report) -> None:
    """provinces.csv: task, placed, unmet, realisation, large sites, open sites, costs and travel per province."""
    figures = province_figures(ctx)
    claimed = ctx.solution.provinces.set_index("province")
    for p in ctx.instance.provinces.index:
        if p not in claimed.index:
            report.add(f"provinces.csv[{p}]", "the province's row is missing")
            continue
        compare_row(report, f"provinces.csv[{p}]", claimed.loc[p].to_dict(), figures.loc[p].to_dict())
    block = ctx.solution.summary.get("provinces")
    if not isinstance(block, dict):
        report.add("summary.provinces", "missing or not an object")
        return
    for p in ctx.instance.provinces.index:
        row = figures.loc[p]
        expected = {k: row[k] for k in ("demand", "placed", "unmet", "realisation", "large_sites")}
        compare_row(report, f"summary.provinces[{p}]", block.get(p) or {}, expected)
