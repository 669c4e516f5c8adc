"""The tables of a plan over several periods, from solved horizon models: one function per table.

A plan is given as ``parts``: solved horizon models over all periods, each for some of the
scenarios. The integrated plan is one part (one site plan for every scenario); the myopic
baseline of a band is one part per scenario. Every event is derived from the states; money per
period is undiscounted (money spent), the objective parts are discounted as in the model.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from ..data.housing import housing_flows
from ..data.policy import Risk
from ..model.horizon import key
from .extract import run_summary, versions
from .solution import HORIZON_COLUMNS, HorizonSolution, horizon_columns


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
    municipalities = pd.concat([municipalities_table(instance, m) for m in parts], ignore_index=True)
    periods = pd.concat(
        [periods_table(instance, m, timeline, municipalities, placements, events) for m in parts], ignore_index=True
    )
    provinces = provinces_table(instance, timeline, municipalities)
    scenarios = scenarios_table(instance, parts, periods, weights)
    kpis = horizon_kpis(scenarios, periods, weights, policy.risk)
    summary = {
        "status": result.status.value,
        "message": result.message,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "absolute_gap": result.absolute_gap,
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
        "timings": {k: round(v, 4) for k, v in {**(timings or {}), **result.timings}.items()},
        "versions": versions(),
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


def _amount(m, value: float | None) -> float:
    """Whole places exact, fractional ones cut to 1e-9 so that sums carry no solver noise."""
    value = value or 0.0
    return float(round(value)) if m.policy.whole_places else round(float(value), 9)


def period_load(m, t: str, w: str) -> dict[str, float]:
    """People placed per site in period ``t`` under ``w`` in a solved model (sites holding nobody left out)."""
    load: dict[str, float] = defaultdict(float)
    for a, var in m.placed.items():
        if a[-2:] == (t, w):
            load[a[1]] += _amount(m, var.value)
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


def placements_table(m) -> pd.DataFrame:
    """Every positive placement with its travel time and its money in the period (undiscounted)."""
    d, w = m.data, m.policy.travel_value
    rows = []
    for a, var in m.placed.items():
        q = _amount(m, var.value)
        if q > 0:
            arc, (t, scen) = a[:-2], a[-2:]
            minutes = d.travel_minutes[arc]
            rows.append(
                (*arc, t, scen, q, round(minutes, 4), d.span[t] * d.place_cost(arc) * q, d.span[t] * w * minutes * q)
            )
    names = HORIZON_COLUMNS["placements"]
    if d.groups:
        names = ["municipality", "site", "group", *names[2:]]
    return pd.DataFrame(rows, columns=names)[horizon_columns("placements", bool(d.groups))]


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


def municipalities_table(instance, m) -> pd.DataFrame:
    """Municipality (and group) x period x scenario: demand, placed, emergency places, unmet."""
    d = m.data
    placed = defaultdict(float)
    for a, var in m.placed.items():
        placed[(*key(d.unit(a[:-2])), *a[-2:])] += _amount(m, var.value)
    rows = []
    province = instance.municipalities["province"]
    for t in d.periods:
        for w in d.scenarios:
            for u, demand in d.demand[(t, w)].items():
                c = (*key(u), t, w)
                emergency = _amount(m, m.emergency[c].value) if c in m.emergency else 0.0
                got = placed[c]
                i = c[0]
                rows.append(
                    (i, *c[1:-2], province[i], t, w, demand, got, emergency, max(demand - got - emergency, 0.0))
                )
    names = ["municipality", *(["group"] if d.groups else []), *HORIZON_COLUMNS["municipalities"][1:]]
    return pd.DataFrame(rows, columns=names)[horizon_columns("municipalities", bool(d.groups))]


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
                    "unmet_penalty": d.span[t] * unmet_money(policy, mu),
                    "registration_occupancy": occupancy if reg else math.nan,
                    "nights_above_limit": nights,
                    "person_nights_above_limit": person_nights,
                }
            )
    return pd.DataFrame(rows, columns=HORIZON_COLUMNS["periods"])


def unmet_money(policy, rows: pd.DataFrame) -> float:
    """M times the unmet places of municipalities.csv ``rows``, or sum_g M_g times each group's (unmet_penalty_by_group)."""
    if "group" not in rows:
        return policy.unmet_penalty * float(rows["unmet"].sum())
    return float(sum(policy.penalty_of(g) * u for g, u in zip(rows["group"], rows["unmet"])))


def provinces_table(instance, timeline, municipalities) -> pd.DataFrame:
    """Province x period x scenario: need, placed, emergency, unmet, open sites, the capacity open and on standby, and
    the person-moves out of the province's sites."""
    keys = ["province", "period", "scenario"]
    mu = (
        municipalities.groupby(keys)[["demand", "placed", "emergency", "unmet"]]
        .sum()
        .rename(columns={"demand": "need"})
    )
    tl = (
        timeline.assign(
            open_sites=(timeline["state"] == "open").astype(int),
            open_capacity=timeline["capacity"].where(timeline["state"] == "open", 0),
            standby_capacity=timeline["capacity"].where(timeline["state"] == "standby", 0),
        )
        .groupby(keys)[["open_sites", "open_capacity", "standby_capacity", "moves"]]
        .sum()
    )
    table = mu.join(tl, how="left").fillna(0).reset_index()
    table["name"] = table["province"].map(instance.provinces["name"])
    order = {t: k for k, t in enumerate(instance.horizon.period_ids)}
    table = table.sort_values(
        ["province", "period", "scenario"], key=lambda c: c.map(order) if c.name == "period" else c, kind="stable"
    )
    return table[HORIZON_COLUMNS["provinces"]].reset_index(drop=True)


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
