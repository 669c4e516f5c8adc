"""The tables and KPIs of the plan a solve loaded into the model: one function per table.

A table is written over the cases of the model's shape: a snapshot has one case, and its tables no
period or scenario column; a plan over several periods has the cases (period, scenario), and its
tables carry them. A plan over periods is given as ``parts``: solved horizon models over all
periods, each for some of the scenarios. The integrated plan is one part (one site plan for every
scenario); the myopic baseline of a band is one part per scenario. Every event is derived from the
states; money per period is undiscounted (money spent), the objective parts are discounted as in
the model.
"""

from __future__ import annotations

import math
import platform
from collections import defaultdict
from importlib import metadata

import pandas as pd

from ..data.housing import housing_flows
from ..data.policy import Risk, site_fixings
from ..model.horizon import key
from ..solve.highs import highs_version
from .solution import (
    CASE_COLUMNS,
    GROUP_COLUMNS,
    HORIZON_COLUMNS,
    MUNICIPALITY_COLUMNS,
    PROVINCE_COLUMNS,
    HorizonSolution,
    Solution,
    horizon_columns,
)


def extract_solution(instance, model, result, options=None, timings: dict | None = None) -> Solution:
    """Tables and KPIs of the plan loaded in ``model``. Only call with a result that has a plan."""
    if not result.has_plan:
        raise ValueError(f"no plan to extract: the solve ended with status {result.status.value}")
    policy = model.policy
    placements = placements_table(model)
    sites = sites_table(instance, model, placements)
    municipalities = municipalities_table(instance, municipality_demand(model.data), placements)
    provinces = provinces_table(instance, sites, municipalities, placements)
    groups = groups_table(instance, model.data.demand, placements) if model.data.groups else None
    kpis = compute_kpis(
        sites, placements, municipalities, unmet_penalty(policy, municipalities, groups), model.data.budget
    )
    written_minutes(placements)
    summary = {
        **outcome(result),
        "kpis": kpis,
        "provinces": {
            row.province: {
                "demand": row.demand,
                "placed": row.placed,
                "unmet": row.unmet,
                "realisation": row.realisation,
                "large_sites": row.large_sites,
            }
            for row in provinces.itertuples()
        },
        "policy": policy.to_dict(),
        **run_summary(instance, options),
        **({"groups": group_summary(groups)} if groups is not None else {}),
        "blocks": result.blocks,
        "block_gaps": block_gaps(model, result),
        **provenance(result, timings),
    }
    return Solution(summary, sites, placements, municipalities, provinces, groups)


def outcome(result) -> dict:
    """The summary's record of how the solve ended: status, message, objective, bound and gaps."""
    return {
        "status": result.status.value,
        "message": result.message,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "absolute_gap": result.absolute_gap,
    }


def provenance(result, timings: dict | None) -> dict:
    """The summary's record of the time each step took and the versions it ran on."""
    return {
        "timings": {k: round(v, 4) for k, v in {**(timings or {}), **result.timings}.items()},
        "versions": versions(),
    }


def written_minutes(placements: pd.DataFrame) -> None:
    """Travel times as written, to four decimals of a minute; every figure is taken from the exact times before."""
    placements["travel_minutes"] = placements["travel_minutes"].round(4)


def run_summary(instance, options) -> dict:
    """The summary's record of what was solved and how: the solver options and the instance."""
    return {
        "options": None
        if options is None
        else {k: getattr(options, k) for k in ("time_limit", "gap", "threads", "seed", "workers", "decompose")},
        "instance": instance_summary(instance),
    }


def instance_summary(instance) -> dict:
    """The summary's record of the instance a plan was made for (and the period, for one period of an instance with
    periods)."""
    return {
        "name": instance.name,
        "source": instance.source,
        "fingerprint": instance.fingerprint,
        "units": instance.units,
        "currency": instance.currency,
        "planning_period": instance.planning_period,
        **({"period": dict(zip(("period", "scenario"), instance.period))} if instance.period else {}),
    }


def block_gaps(model, result) -> list[dict]:
    """Per independent block: the provinces it holds, its status, objective, bound and absolute gap (as HiGHS reached them)."""
    data = model.data
    out = []
    for block in result.block_outcomes:
        provinces = set()
        for var in block.variables:
            name, index = var.parent_component().name, var.index()
            if name == "open_site":
                provinces.add(data.site_province[index])
            elif name == "placed":
                provinces.add(data.province_of[index[0]])
            elif name == "unmet":
                provinces.add(data.province_of[data.municipality(index)])
        out.append(
            {
                "provinces": sorted(provinces),
                "status": block.status.value,
                "objective": block.objective,
                "bound": block.bound,
                "absolute_gap": block.absolute_gap,
            }
        )
    return out


def amount(policy, value: float | None) -> float:
    """Places as written: whole places exact, fractional ones cut to 1e-9 so that sums carry no solver noise (1e-9
    or less is none)."""
    value = value or 0.0
    if value <= 1e-9:
        return 0.0
    return float(round(value)) if policy.whole_places else round(float(value), 9)


def case_columns(m) -> list[str]:
    """The columns of a row's case: period and scenario in a model over periods, none in a snapshot (one case)."""
    return CASE_COLUMNS if hasattr(m, "CASES") else []


def split_case(m, index) -> tuple:
    """(arc or demand unit, case) of an index of ``m``'s variables: the case of a snapshot is ()."""
    n = len(case_columns(m))
    return (index[:-n], index[-n:]) if n else (index, ())


def span(m, case: tuple) -> float:
    """The planning periods that ``case`` lasts: its period's, or 1 in a snapshot."""
    return m.data.span[case[0]] if case else 1.0


def placements_table(m) -> pd.DataFrame:
    """placements.csv: one row per arc (and case) with places, its travel time, and the place cost and travel value of
    its period (money spent, undiscounted). A snapshot's rows are sorted by arc; over periods they are in the model's
    order, arc by arc, each with its cases."""
    d, policy = m.data, m.policy
    rows = []
    for index, var in m.placed.items():
        q = amount(policy, var.value)
        if q > 0:
            arc, case = split_case(m, index)
            t, f = d.travel_minutes[arc], span(m, case)
            rows.append((*arc, *case, q, t, f * d.place_cost(arc) * q, f * policy.travel_value * t * q))
    keys = ["municipality", "site", *(["group"] if d.groups else [])]
    cases = case_columns(m)
    table = pd.DataFrame(rows, columns=[*keys, *cases, "placed", "travel_minutes", "place_cost", "travel_value"])
    return table if cases else table.sort_values(keys, kind="stable").reset_index(drop=True)


def sites_table(instance, model, placements: pd.DataFrame) -> pd.DataFrame:
    """sites.csv: every site with its fixing, whether it is open, its places, utilisation and costs."""
    fixed = site_fixings(instance, model.policy)
    sites = instance.sites
    return site_rows(
        instance,
        [fixed[s].reason if s in fixed else "" for s in sites.index],
        [int(round(model.open_site[s].value or 0)) for s in sites.index],
        placements,
    )


def site_rows(instance, fixing: list[str], open_site: list[int], placements: pd.DataFrame) -> pd.DataFrame:
    """The rows of sites.csv from each site's fixing and open state and the (priced) placements."""
    sites = instance.sites
    by_site = placements.groupby("site")[["placed", "place_cost", "travel_value"]].sum()
    table = pd.DataFrame(
        {
            "site": sites.index,
            "name": sites["name"].to_numpy(),
            "municipality": sites["municipality"].to_numpy(),
            "province": sites["province"].to_numpy(),
            "kind": sites["kind"].to_numpy(),
            "status": sites["status"].to_numpy(),
            **(
                {"operator": instance.operators["operator"].reindex(sites.index).to_numpy()}
                if instance.operators is not None
                else {}
            ),
            "fixing": fixing,
            "open_site": open_site,
            "placed": by_site["placed"].reindex(sites.index, fill_value=0.0).to_numpy(),
            "min_size": sites["min_size"].to_numpy(),
            "capacity": sites["capacity"].to_numpy(),
        }
    )
    table["utilisation"] = (table["placed"] / table["capacity"]).round(4)
    table["fixed_cost"] = table["open_site"] * sites["fixed_cost"].to_numpy()
    table["place_cost"] = by_site["place_cost"].reindex(sites.index, fill_value=0.0).to_numpy()
    table["travel_value"] = by_site["travel_value"].reindex(sites.index, fill_value=0.0).to_numpy()
    return table


def municipalities_table(
    instance, demand: dict, placements: pd.DataFrame, emergency: dict | None = None
) -> pd.DataFrame:
    """municipalities.csv: demand, placed, emergency places, unmet, number of sites used and travel per municipality
    (all of the instance's) in a snapshot, per demand unit and case over periods, where ``demand`` and ``emergency``
    are keyed (municipality, [group,] period, scenario) and their order is the rows'."""
    muni = instance.municipalities
    cases = [c for c in CASE_COLUMNS if c in placements]
    # A snapshot's groups have their own table (groups.csv); over periods each demand unit has its rows.
    keys = ["municipality", *(["group"] if cases and "group" in placements else []), *cases]
    index = pd.MultiIndex.from_tuples(list(demand), names=keys) if cases else muni.index
    need = pd.Series(demand).reindex(index).astype(float)
    grouped = placements.groupby(keys)
    placed = grouped["placed"].sum().reindex(index, fill_value=0.0)
    extra = pd.Series(emergency or {}, dtype=float).reindex(index, fill_value=0.0)
    at = {k: index.get_level_values(k) for k in keys}
    table = pd.DataFrame(
        {
            **{k: v.to_numpy() for k, v in at.items()},
            "name": at["municipality"].map(muni["name"]).to_numpy(),
            "province": at["municipality"].map(muni["province"]).to_numpy(),
            "demand": need.to_numpy(),
            "placed": placed.to_numpy(),
            "emergency": extra.to_numpy(),
            "unmet": (need - placed - extra).clip(lower=0).to_numpy(),
            "sites": grouped["site"].count().reindex(index, fill_value=0).to_numpy(),
            "mean_travel_minutes": _ratio(_person_minutes(placements, keys).reindex(index, fill_value=0.0), placed)
            .round(4)
            .to_numpy(),
            "max_travel_minutes": grouped["travel_minutes"].max().reindex(index).to_numpy(),
        }
    )
    return table[horizon_columns("municipalities", "group" in keys) if cases else MUNICIPALITY_COLUMNS]


def municipality_demand(data) -> dict[str, int]:
    """Demand per municipality: its own, or the sum over its groups."""
    out: dict[str, int] = {}
    for unit, d in data.demand.items():
        i = data.municipality(unit)
        out[i] = out.get(i, 0) + d
    return out


def groups_table(instance, unit_demand: dict, placements: pd.DataFrame) -> pd.DataFrame:
    """groups.csv: per province and group, demand (the task, or the share of a national target), placed, unmet.

    ``unit_demand`` maps (municipality, group) to its demand.
    """
    groups = instance.groups
    muni = instance.municipalities
    demand = pd.Series(dict(unit_demand), dtype=float)
    demand.index = pd.MultiIndex.from_tuples(demand.index, names=["municipality", "group"])
    by_unit = demand.groupby(
        [demand.index.get_level_values(0).map(muni["province"]), demand.index.get_level_values(1)]
    ).sum()
    province = placements["municipality"].map(muni["province"])
    placed = placements.groupby([province, placements["group"]])[["placed", "place_cost", "travel_value"]].sum()
    open_sites = placements.groupby([province, placements["group"]])["site"].nunique()
    rows = []
    for p in instance.provinces.index:
        for g in groups.ids:
            need = float(by_unit.get((p, g), 0.0))
            got = (
                placed.loc[(p, g)]
                if (p, g) in placed.index
                else pd.Series({"placed": 0.0, "place_cost": 0.0, "travel_value": 0.0})
            )
            rows.append(
                (
                    p,
                    instance.provinces.at[p, "name"],
                    g,
                    groups.name(g),
                    groups.table.at[g, "target"],
                    need,
                    float(got["placed"]),
                    max(need - float(got["placed"]), 0.0),
                    round(float(got["placed"]) / need, 6) if need else float("nan"),
                    int(open_sites.get((p, g), 0)),
                    float(got["place_cost"]),
                    float(got["travel_value"]),
                )
            )
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def group_summary(groups: pd.DataFrame) -> dict:
    """National totals per group for summary.json."""
    out = {}
    for g, part in groups.groupby("group", sort=False):
        demand, placed = float(part["demand"].sum()), float(part["placed"].sum())
        out[g] = {
            "name": part["group_name"].iloc[0],
            "target": part["target"].iloc[0],
            "demand": demand,
            "placed": placed,
            "unmet": float(part["unmet"].sum()),
        }
    return out


def provinces_table(
    instance, sites: pd.DataFrame, municipalities: pd.DataFrame, placements: pd.DataFrame
) -> pd.DataFrame:
    """provinces.csv: per province (the instance's order) and, over periods, case (by period, then scenario): demand
    (need), placed, emergency places, unmet and realisation, the open sites and the figures of its sites, and the mean
    travel, as the folder's format has them. ``sites`` is sites.csv, or over periods the timeline."""
    provinces = instance.provinces
    cases = [c for c in CASE_COLUMNS if c in municipalities]
    keys = ["province", *cases]
    want = HORIZON_COLUMNS["provinces"] if cases else PROVINCE_COLUMNS
    index = provinces.index
    if cases:
        order = {t: k for k, t in enumerate(instance.horizon.period_ids)}
        found = sorted(set(zip(*(municipalities[c] for c in cases))), key=lambda c: (order[c[0]], c[1:]))
        index = pd.MultiIndex.from_tuples([(p, *c) for p in provinces.index for c in found], names=keys)
    at = {k: index.get_level_values(k) for k in keys}
    figures = [c for c in ("demand", "placed", "emergency", "unmet") if c in municipalities]
    by_prov = municipalities.groupby(keys)[figures].sum().reindex(index, fill_value=0.0)
    table = pd.DataFrame(
        {
            **{k: v.to_numpy() for k, v in at.items()},
            "name": at["province"].map(provinces["name"]).to_numpy(),
            **{("need" if cases and c == "demand" else c): by_prov[c].to_numpy() for c in figures},
            **_site_figures(sites, keys, index, want),
        }
    )
    if "realisation" in want:
        table["realisation"] = _ratio(by_prov["placed"], by_prov["demand"]).round(6).to_numpy()
    if "cost" in want:
        table["cost"] = table["fixed_cost"] + table["place_cost"]
    if "mean_travel_minutes" in want:
        minutes = _province_minutes(instance, placements, cases).reindex(index, fill_value=0.0)
        table["mean_travel_minutes"] = _ratio(minutes, by_prov["placed"]).round(4).to_numpy()
    return table[want]


def _site_figures(sites: pd.DataFrame, keys: list[str], index: pd.Index, want: list[str]) -> dict:
    """Per province (and case), of the columns in ``want``: the open sites, the capacity open and on standby, the
    person-moves out of its sites, the open large sites and the costs, from sites.csv or the timeline."""
    state = sites["state"] if "state" in sites else sites["open_site"].map({1: "open", 0: "closed"})
    is_open = state == "open"
    by = [sites[k] for k in keys]
    out = {"open_sites": is_open.astype(int).groupby(by).sum().reindex(index, fill_value=0).to_numpy()}
    for column, held in (("open_capacity", is_open), ("standby_capacity", state == "standby")):
        if column in want:
            out[column] = sites["capacity"].where(held, 0).groupby(by).sum().reindex(index, fill_value=0).to_numpy()
    if "moves" in want:
        out["moves"] = sites["moves"].groupby(by).sum().reindex(index, fill_value=0.0).to_numpy()
    if "large_sites" in want:
        large = sites[is_open & (sites["kind"] == "large")].groupby(keys if len(keys) > 1 else keys[0])
        for column, field in (("large_sites", "site"), ("large_site_names", "name")):
            out[column] = large[field].agg(";".join).reindex(index, fill_value="").to_numpy()
    if "fixed_cost" in want:
        costs = (
            sites[is_open]
            .groupby(keys)[["fixed_cost"]]
            .sum()
            .join(sites.groupby(keys)[["place_cost", "travel_value"]].sum(), how="outer")
        )
        costs = costs.reindex(index, fill_value=0.0).fillna(0.0)
        out.update({column: costs[column].to_numpy() for column in ("fixed_cost", "place_cost", "travel_value")})
    return out


def _province_minutes(instance, placements: pd.DataFrame, cases: list[str]) -> pd.Series:
    """Person-minutes per province (and case): those of its municipalities, in the instance's order, added up."""
    muni = instance.municipalities
    minutes = _person_minutes(placements, ["municipality", *cases])
    if not cases:
        minutes = minutes.reindex(muni.index, fill_value=0.0)
    at = minutes.index.get_level_values
    return minutes.groupby([at("municipality").map(muni["province"]), *(at(c) for c in cases)]).sum()


def unmet_penalty(policy, municipalities: pd.DataFrame, groups: pd.DataFrame | None = None) -> float:
    """The penalty of the places left unmet: M sum_i unmet_i, or with demand groups sum_g M_g unmet_g (from ``groups``,
    groups.csv, in a snapshot; from the rows of municipalities.csv over periods)."""
    rows = municipalities if groups is None else groups
    if "group" not in rows:
        return policy.unmet_penalty * float(rows["unmet"].sum())
    return float(sum(policy.penalty_of(g) * u for g, u in zip(rows["group"], rows["unmet"])))


def compute_kpis(
    sites: pd.DataFrame,
    placements: pd.DataFrame,
    municipalities: pd.DataFrame,
    penalty: float,
    budget: float | None,
) -> dict:
    """The KPIs of summary.json, from the tables; ``penalty`` is the money of the places left unmet (:func:`unmet_penalty`)."""
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
        "unmet_penalty": penalty,
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


def _person_minutes(placements: pd.DataFrame, keys: list[str]) -> pd.Series:
    return (placements["placed"] * placements["travel_minutes"]).groupby([placements[k] for k in keys]).sum()


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return (num.astype(float) / den.where(den != 0)).astype(float)


def versions() -> dict:
    """Versions of Python, this package, its main libraries and HiGHS, for the summary."""
    out = {"python": platform.python_version()}
    for dist in ("reception-allocator", "pyomo", "highspy", "pandas", "networkx", "numpy", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["HiGHS"] = highs_version()
    return out


def state_of(m, s: str, t: str) -> str:
    """closed, open or standby: the state of site ``s`` in period ``t`` in a solved model."""
    if round(m.open_site[s, t].value or 0) == 1:
        return "open"
    if s in m.data.standby_cost and round(m.standby_site[s, t].value or 0) == 1:
        return "standby"
    return "closed"


def site_events(m, s: str) -> dict[str, str]:
    """period -> opening, closing or extension, derived from the states of ``s`` in ``m``."""
    d = m.data
    events = {}
    before = d.initial[s]
    for t in d.periods:
        now = int(state_of(m, s, t) != "closed")
        if now and not before:
            events[t] = "opening"
        elif before and not now:
            events[t] = "closing"
        elif now and s in d.extension and d.extension[s][0] == t:
            events[t] = "extension"
        before = now
    return events


def extract_horizon(
    instance, policy, parts, result, plan: str, scenario: str, options=None, timings=None
) -> HorizonSolution:
    """Tables, KPIs and summary of the plan in ``parts``, made under ``policy``. Only call with a result that has a plan."""
    if not result.has_plan:
        raise ValueError(f"no plan to extract: the solve ended with status {result.status.value}")
    weights = policy.weights_for([w for m in parts for w in m.data.scenarios])
    events = pd.concat([events_table(m) for m in parts], ignore_index=True)
    placements = pd.concat([placements_table(m) for m in parts], ignore_index=True)
    timeline = pd.concat([timeline_table(instance, m, placements) for m in parts], ignore_index=True)
    municipalities = pd.concat([part_municipalities(instance, m, placements) for m in parts], ignore_index=True)
    periods = pd.concat(
        [periods_table(instance, m, timeline, municipalities, placements, events) for m in parts], ignore_index=True
    )
    provinces = provinces_table(instance, timeline, municipalities, placements)
    scenarios = scenarios_table(instance, parts, periods, weights)
    kpis = horizon_kpis(scenarios, periods, weights, policy.risk)
    written_minutes(placements)
    summary = {
        **outcome(result),
        "plan": plan,
        "scenario": scenario,
        "scenarios": list(weights),
        "weights": weights,
        "periods": [
            {
                "period": t,
                "start": instance.horizon.periods.at[t, "start"],
                "years": float(instance.horizon.periods.at[t, "years"]),
            }
            for t in parts[0].data.periods
        ],
        "groups": _groups(instance),
        **_housing(instance, policy, list(weights)),
        "kpis": kpis,
        "policy": policy.to_dict(),
        **run_summary(instance, options),
        "blocks": result.blocks,
        **provenance(result, timings),
    }
    return HorizonSolution(summary, timeline, events, placements, municipalities, periods, scenarios, provinces)


def _groups(instance) -> list[dict]:
    """The demand groups of the instance, in its order (none without groups)."""
    groups = instance.groups
    if groups is None:
        return []
    return [{"group": g, "name": groups.name(g), "target": str(groups.table.at[g, "target"])} for g in groups.ids]


def _housing(instance, policy, scenarios: list[str]) -> dict:
    """``{"housing": ...}``: the status holders of the housing task per period and scenario, in reception (the task
    and the backlog), housed, and the backlog left; extra_places against housing_rate = 1. Empty without a group of
    the housing task."""
    flows = housing_flows(instance, policy, scenarios)
    if not flows:
        return {}
    g = instance.groups.housing
    rows = []
    for (t, w), by_municipality in flows.items():
        f = by_municipality.values()
        task, housed, before = (sum(getattr(x, k) for x in f) for k in ("task", "housed", "backlog_before"))
        rows.append(
            {
                "period": t,
                "scenario": w,
                "task": task,
                "in_reception": task + before,
                "housed": housed,
                "backlog": before + task - housed,
                "extra_places": before,
            }
        )
    return {
        "housing": {
            "group": g,
            "name": instance.groups.name(g),
            "rate": policy.housing_rate,
            "rate_by_province": dict(policy.housing_rate_by_province),
            "periods": rows,
        }
    }


def period_load(m, t: str, w: str) -> dict[str, float]:
    """People placed per site in period ``t`` under ``w`` in a solved model (sites holding nobody left out)."""
    load: dict[str, float] = defaultdict(float)
    for a, var in m.placed.items():
        if a[-2:] == (t, w):
            load[a[1]] += amount(m.policy, var.value)
    return {s: q for s, q in load.items() if q > 0}


def events_table(m) -> pd.DataFrame:
    """Openings, closings and extensions per scenario, with their one-off cost."""
    d = m.data
    rows = []
    for s in m.SITES:
        for t, event in site_events(m, s).items():
            cost = {"opening": d.opening_cost[s], "closing": d.closing_cost[(s, t)]}.get(event)
            if event == "extension":
                cost = d.extension[s][1]
            rows += [(w, t, s, event, cost) for w in d.scenarios]
    table = pd.DataFrame(rows, columns=["scenario", "period", "site", "event", "cost"])
    order = {t: k for k, t in enumerate(d.periods)}
    table = table.sort_values(
        ["scenario", "period", "site"], key=lambda c: c.map(order) if c.name == "period" else c, kind="stable"
    )
    return _with_site_columns(table.reset_index(drop=True), m, HORIZON_COLUMNS["events"])


def _with_site_columns(table: pd.DataFrame, m, columns: list[str]) -> pd.DataFrame:
    instance_sites = m.site_table
    for column in ("name", "province", "kind", "status"):
        if column in columns:
            table[column] = table["site"].map(instance_sites[column]) if len(table) else pd.Series(dtype=str)
    return table[columns]


def timeline_table(instance, m, placements: pd.DataFrame) -> pd.DataFrame:
    """Site x period x scenario: state, event, places, and the person-moves out of the site at the start of the
    period, max(0, places in t−1 − places in t) (in the first period from the load before the window, if known)."""
    d = m.data
    mine = placements[placements["scenario"].isin(d.scenarios)]
    load = mine.groupby(["site", "period", "scenario"])["placed"].sum().to_dict()
    rows = []
    for s in m.SITES:
        events = site_events(m, s)
        for t in d.periods:
            state = state_of(m, s, t)
            for w in d.scenarios:
                now = load.get((s, t, w), 0.0)
                before = d.previous_load.get(s, 0.0) if m.previous[t] is None else load.get((s, m.previous[t], w), 0.0)
                rows.append((s, t, w, state, events.get(t, ""), now, max(before - now, 0.0), d.capacity[s]))
    table = pd.DataFrame(rows, columns=["site", "period", "scenario", "state", "event", "placed", "moves", "capacity"])
    return _with_site_columns(table, m, HORIZON_COLUMNS["timeline"])


def part_municipalities(instance, m, placements: pd.DataFrame) -> pd.DataFrame:
    """The rows of municipalities.csv of one part of a plan over periods: every demand unit and case of the solved
    model ``m``, period by period, with its demand and emergency places."""
    d = m.data
    demand, emergency = {}, {}
    for t in d.periods:
        for w in d.scenarios:
            for u, v in d.demand[(t, w)].items():
                c = (*key(u), t, w)
                demand[c] = v
                emergency[c] = amount(m.policy, m.emergency[c].value) if c in m.emergency else 0.0
    return municipalities_table(instance, demand, placements[placements["scenario"].isin(d.scenarios)], emergency)


def registration(instance, t: str, occupancy: float) -> tuple[int, float]:
    """Nights of period ``t`` with the registration centre above its limit, and the person-nights above it."""
    reg = instance.horizon.registration
    if reg is None:
        return 0, 0.0
    nights = round(365.25 * float(instance.horizon.periods.at[t, "years"]))
    above = max(occupancy - reg.limit, 0.0)
    return (nights if above > 0 else 0), above * nights


def periods_table(instance, m, timeline, municipalities, placements, events) -> pd.DataFrame:
    """Period x scenario: need, placed, emergency, unmet, sites, events, moves and the money spent (undiscounted)."""
    d, policy = m.data, m.policy
    reg = instance.horizon.registration
    rows = []
    for t in d.periods:
        for w in d.scenarios:
            tl = timeline[(timeline["period"] == t) & (timeline["scenario"] == w)]
            mu = municipalities[(municipalities["period"] == t) & (municipalities["scenario"] == w)]
            pl = placements[(placements["period"] == t) & (placements["scenario"] == w)]
            ev = events[(events["period"] == t) & (events["scenario"] == w)]
            is_open, standby = tl["state"] == "open", tl["state"] == "standby"
            fixed = d.span[t] * sum(d.fixed_cost[s] for s in tl.loc[is_open, "site"])
            standby_cost = d.span[t] * sum(d.standby_cost.get(s, 0.0) for s in tl.loc[standby, "site"])
            emergency_cost = d.span[t] * sum(
                v * d.emergency_cost.get((d.province_of[i], t), 0.0)
                for i, v in zip(mu["municipality"], mu["emergency"])
                if v > 0
            )
            event_cost, place_cost = float(ev["cost"].sum()), float(pl["place_cost"].sum())
            moves = float(tl["moves"].sum())
            move_cost = d.move_cost * moves
            occupancy = float(mu["unmet"].sum()) + (
                float(pl.loc[pl["site"] == reg.site, "placed"].sum()) if reg else 0.0
            )
            nights, person_nights = registration(instance, t, occupancy)
            rows.append(
                {
                    "period": t,
                    "scenario": w,
                    "years": d.years[t],
                    "need": float(mu["demand"].sum()),
                    "placed": float(mu["placed"].sum()),
                    "emergency": float(mu["emergency"].sum()),
                    "unmet": float(mu["unmet"].sum()),
                    "open_sites": int(is_open.sum()),
                    "standby_sites": int(standby.sum()),
                    "open_capacity": float(tl.loc[is_open, "capacity"].sum()),
                    "openings": int((ev["event"] == "opening").sum()),
                    "closings": int((ev["event"] == "closing").sum()),
                    "extensions": int((ev["event"] == "extension").sum()),
                    "moves": moves,
                    "fixed_cost": fixed,
                    "standby_cost": standby_cost,
                    "event_cost": event_cost,
                    "place_cost": place_cost,
                    "emergency_cost": emergency_cost,
                    "move_cost": move_cost,
                    "total_cost": fixed + standby_cost + event_cost + place_cost + emergency_cost + move_cost,
                    "travel_value": float(pl["travel_value"].sum()),
                    "unmet_penalty": d.span[t] * unmet_penalty(policy, mu),
                    "registration_occupancy": occupancy if reg else math.nan,
                    "nights_above_limit": nights,
                    "person_nights_above_limit": person_nights,
                }
            )
    return pd.DataFrame(rows, columns=HORIZON_COLUMNS["periods"])


def scenarios_table(instance, parts, periods: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Per scenario: totals over the periods (money undiscounted) and the objective (discounted, as the model counts it)."""
    reg = instance.horizon.registration
    rows = []
    for m in parts:
        d = m.data
        discount = {t: d.discount[t] for t in d.periods}
        for w in d.scenarios:
            p = periods[periods["scenario"] == w]
            site_part = p["fixed_cost"] + p["standby_cost"] + p["event_cost"]
            scenario_part = (
                p["place_cost"] + p["emergency_cost"] + p["move_cost"] + p["travel_value"] + p["unmet_penalty"]
            )
            factor = p["period"].map(discount)
            nights = int(p["nights_above_limit"].sum())
            rows.append(
                {
                    "scenario": w,
                    "weight": weights[w],
                    "need": float(p["need"].sum()),
                    "placed": float(p["placed"].sum()),
                    "emergency": float(p["emergency"].sum()),
                    "unmet": float(p["unmet"].sum()),
                    "openings": int(p["openings"].sum()),
                    "closings": int(p["closings"].sum()),
                    "extensions": int(p["extensions"].sum()),
                    "moves": float(p["moves"].sum()),
                    "site_cost": float(site_part.sum()),
                    "place_cost": float(p["place_cost"].sum()),
                    "emergency_cost": float(p["emergency_cost"].sum()),
                    "move_cost": float(p["move_cost"].sum()),
                    "total_cost": float(p["total_cost"].sum()),
                    "travel_value": float(p["travel_value"].sum()),
                    "unmet_penalty": float(p["unmet_penalty"].sum()),
                    "objective": float((factor * (site_part + scenario_part)).sum()),
                    "nights_above_limit": nights,
                    "registration_penalty": min(reg.penalty_cap, reg.penalty_per_night * nights) if reg else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=HORIZON_COLUMNS["scenarios"])


def horizon_kpis(scenarios: pd.DataFrame, periods: pd.DataFrame, weights: dict[str, float], risk) -> dict:
    """The plan's KPIs: weighted over the scenarios, and the worst scenario's cost."""
    weight = scenarios["scenario"].map(weights)

    def expected(column: str) -> float:
        return float((weight * scenarios[column]).sum())

    return {
        "risk": Risk(risk).value,
        "expected_total_cost": expected("total_cost"),
        "worst_total_cost": float(scenarios["total_cost"].max()),
        "expected_site_cost": expected("site_cost"),
        "expected_place_cost": expected("place_cost"),
        "expected_emergency_cost": expected("emergency_cost"),
        "expected_move_cost": expected("move_cost"),
        "expected_travel_value": expected("travel_value"),
        "expected_unmet_penalty": expected("unmet_penalty"),
        "expected_emergency_place_periods": expected("emergency"),
        "expected_unmet_place_periods": expected("unmet"),
        "openings": {row.scenario: int(row.openings) for row in scenarios.itertuples()},
        "closings": {row.scenario: int(row.closings) for row in scenarios.itertuples()},
        "extensions": {row.scenario: int(row.extensions) for row in scenarios.itertuples()},
        "moves": {row.scenario: float(row.moves) for row in scenarios.itertuples()},
        "max_open_sites": int(periods["open_sites"].max()) if len(periods) else 0,
        "nights_above_limit": {row.scenario: int(row.nights_above_limit) for row in scenarios.itertuples()},
    }
