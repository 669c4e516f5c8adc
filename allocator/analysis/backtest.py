"""The back-test: replay history half-year by half-year with a rolling plan and with a myopic one.

At the start of each replayed half-year the rolling plan looks ``horizon`` periods ahead with the
forecast known then (the band of instances/nl-2024-horizon/backtest/forecasts.csv) and implements
its first half-year only; the myopic plan sees that half-year alone. Both see the need that
actually arrives in the half-year they implement, start from the existing sites only, and pay
the instance's prices. Lead times and contract ends are counted from the start of the replay. Sites
of groups that need nothing in the replayed years are not replayed (:func:`replayed_sites`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import AllocatorError, InstanceError, Problem
from ..data.backtest import Backtest
from ..data.groups import case_demand
from ..data.horizon import Horizon, split_need
from ..data.instance import Instance
from ..data.policy import Policy
from ..model.horizon import History, build_horizon_model
from ..model.start import greedy_start
from ..results.extract import period_load, site_events, state_of
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions, Status

PLANS = ("rolling", "myopic")


@dataclass
class Replay:
    """Per replayed period and plan: sites, events, places, money; and the totals."""

    table: pd.DataFrame
    totals: pd.DataFrame
    history: pd.DataFrame
    statuses: dict[str, list[str]]
    seconds: float
    horizon: int


def backtest_instance(instance: Instance, data: Backtest) -> Instance:
    """The instance over the back-test's periods: life cycles moved by their offset from the start, emergency capacity
    in every period, and only the sites that take a group with need in the replayed periods (:func:`replayed_sites`)."""
    instance = replayed_sites(instance)
    h = instance.horizon
    by_offset = {round(float(o), 6): t for t, o in data.periods["offset"].items()}

    def moved(period):
        return None if period is None else by_offset.get(round(float(h.periods.at[period, "offset"]), 6))

    life = h.lifecycle[h.lifecycle.index.isin(instance.sites.index)].copy()
    for column in ("earliest_open", "contract_end"):
        life[column] = pd.Series([moved(v) for v in life[column]], index=life.index, dtype=object)
    first = h.period_ids[0]
    rows = {
        (p, t): h.emergency.loc[(p, first)]
        for (p, period) in h.emergency.index
        if period == first
        for t in data.periods.index
    }
    index = pd.MultiIndex.from_tuples(sorted(rows), names=["province", "period"])
    emergency = pd.DataFrame(
        {
            "capacity": [int(rows[k]["capacity"]) for k in index],
            "cost_per_place": [float(rows[k]["cost_per_place"]) for k in index],
        },
        index=index,
    )
    horizon = Horizon(
        data.periods,
        data.scenarios,
        h.need.iloc[0:0],
        {},
        emergency,
        life,
        h.years_per_planning_period,
        h.registration,
        h.key,
    )
    return dataclasses.replace(instance, horizon=horizon)


def replayed_sites(instance: Instance) -> Instance:
    """``instance`` without the sites that take only groups with a need of their own per period (rows with a
    ``period``): those rows name the instance's periods, so these groups need nothing in the replayed ones, and
    their sites would stand empty at a cost that counts against whichever plan keeps them longer."""
    groups = instance.groups
    if groups is None or not groups.periodic_ids:
        return instance
    e = groups.eligible
    needed = set(e.loc[~e["group"].isin(groups.periodic_ids), "site"])
    columns = instance.sites.index.isin(needed)
    if columns.all():
        return instance
    kept = instance.sites.index[columns]
    return dataclasses.replace(
        instance,
        sites=instance.sites[columns],
        travel_times=instance.travel_times.subset(np.ones(len(instance.municipalities), dtype=bool), columns),
        groups=dataclasses.replace(groups, eligible=e[e["site"].isin(kept)].reset_index(drop=True)),
        operators=None if instance.operators is None else instance.operators[instance.operators.index.isin(kept)],
    )


def with_need(instance: Instance, need: dict[tuple[str, str], int]) -> Instance:
    """``instance`` with national need per (period, scenario) split over the municipalities and, with demand
    groups, over the groups as need.csv's is: the province groups without rows per period share it, a group
    with rows per period has none in the replayed periods (its rows name the instance's own periods)."""
    h = instance.horizon
    frame = pd.DataFrame(
        [(t, w, None, n) for (t, w), n in need.items()], columns=["period", "scenario", "province", "need"]
    )
    periods = list(dict.fromkeys(t for t, _ in need))
    scenarios = tuple(dict.fromkeys(w for _, w in need))
    problems: list[Problem] = []
    demand = split_need(
        frame, periods, scenarios, instance.provinces, instance.municipalities, h.key == "demand", problems
    )
    groups = None if instance.groups is None else case_demand(instance.groups, demand, problems)
    if problems:
        raise InstanceError(problems)
    return dataclasses.replace(instance, horizon=dataclasses.replace(h, demand=demand, group_demand=groups))


class BacktestError(AllocatorError):
    """A step of the replay ended without a plan, so the replay cannot go on from it."""


def _solve_step(model, options: SolveOptions):
    """One step from the greedy start; if that ends without a plan, once more from scratch (presolve and
    HiGHS' own heuristics without a start) for the same time."""
    result = SolveSession(model, options).solve(start=greedy_start(model))
    return result if result.has_plan else SolveSession(model, options).solve()


def replay(
    instance: Instance, data: Backtest, policy: Policy, options: SolveOptions, horizon: int = 4, progress=None
) -> Replay:
    """Both plans over the replayed half-years; rows per period, totals per plan."""
    t0 = time.perf_counter()
    base = backtest_instance(instance, data)
    order = list(data.periods.index)
    history = {plan: History() for plan in PLANS}
    statuses = {plan: [] for plan in PLANS}
    rows = []
    for k, made in enumerate(data.replayed):
        window = tuple(order[k : k + horizon])
        for plan in PLANS:
            periods = window if plan == "rolling" else (made,)
            scenarios = data.scenarios if plan == "rolling" else data.scenarios[:1]
            model = step_model(base, data, policy, made, periods, scenarios, history[plan])
            result = _solve_step(model, options)
            statuses[plan].append(result.status.value)
            if not result.has_plan:
                raise BacktestError(
                    f"the {plan} plan for {made} found no plan within twice the time limit of "
                    f"{options.time_limit:g} s ({result.status.value}); give each solve more time with --time-limit"
                )
            row = {
                "period": made,
                "plan": plan,
                "arrived": data.arrived[made],
                **first_period(model, made, scenarios[0]),
            }
            # The myopic step is the half-year planned alone; a rolling step that leaves places unmet is compared
            # with it, from the same history.
            alone = (model, result.status) if plan == "myopic" else None
            if row["unmet"] > 0 and alone is None:
                one = step_model(base, data, policy, made, (made,), scenarios[:1], history[plan])
                solved = _solve_step(one, options)
                alone = (one, solved.status) if solved.has_plan else None
            rows.append({**row, **unmet_reason(row["unmet"], result.status, alone, made, scenarios[0])})
            history[plan] = next_history(
                model, made, scenarios[0], history[plan], float(data.periods.at[made, "offset"])
            )
        if progress:
            done = [r for r in rows if r["period"] == made]
            progress(
                f"[{k + 1}/{len(data.replayed)}] {made}: arrived {data.arrived[made]:,}; "
                + "; ".join(
                    f"{r['plan']} {r['open_sites']} sites, {r['emergency']:,.0f} emergency, {r['unmet']:,.0f} unmet"
                    for r in done
                )
            )
    table = pd.DataFrame(rows)
    return Replay(table, totals(table), observed(data), statuses, time.perf_counter() - t0, horizon)


def step_model(base: Instance, data: Backtest, policy: Policy, made: str, periods, scenarios, before: History):
    """The plan made at the start of ``made`` over ``periods``, from ``before``: the need that arrived in ``made``,
    the forecast known then after it."""
    need = {
        (t, w): data.arrived[made] if t == made else data.forecasts[(made, t, w)] for t in periods for w in scenarios
    }
    return build_horizon_model(with_need(base, need), policy, scenarios, periods, before)


def unmet_reason(unmet: float, status: Status, alone: tuple | None, t: str, w: str) -> dict:
    """Why a step leaves places unmet in the half-year ``t`` it implements. ``alone``: (model, status) of that
    half-year planned alone from the same history with the need that arrived (None: it found no plan).
    ``unmet_forced``: the places that plan leaves unmet too: what the sites, lead times and closings inherited from
    earlier steps (and the policy's prices) leave in any case; the rest the step itself left, stopped at its time
    limit or chosen for the half-years it looks ahead to. Unknown when the half-year alone leaves places unmet
    without being proven optimal."""
    if unmet <= 0:
        return {"unmet_forced": 0.0, "unmet_reason": ""}
    forced = math.nan if alone is None else min(first_period(alone[0], t, w)["unmet"], unmet)
    if alone is None or (forced > 1e-6 and alone[1] is not Status.OPTIMAL):
        return {"unmet_forced": math.nan, "unmet_reason": "unknown"}
    if forced >= unmet - 1e-6:
        reason = "also alone"
    elif status is Status.OPTIMAL:
        reason = "look-ahead"
    else:
        reason = "time limit"
    return {"unmet_forced": forced, "unmet_reason": reason}


def first_period(model, t: str, w: str) -> dict:
    """What a plan does in its first period ``t`` (under scenario ``w``, whose need there is the arrived one)."""
    d = model.data
    states = {s: state_of(model, s, t) for s in model.SITES}
    events = {s: site_events(model, s).get(t) for s in model.SITES}
    span = d.span[t]
    # Arcs are (municipality, site[, group], period, scenario); demand cases (municipality[, group], period, scenario).
    arcs = [(a[:-2], v) for a, v in model.placed.items() if a[-2:] == (t, w)]
    placed = sum(round(v.value or 0) for _, v in arcs)
    place_cost = sum(span * d.place_cost(a) * round(v.value or 0) for a, v in arcs)
    emergency = {c[:-2]: v.value or 0.0 for c, v in model.emergency.items() if c[-2:] == (t, w)}
    unmet = sum(v.value or 0.0 for c, v in model.unmet.items() if c[-2:] == (t, w))
    event_cost = sum(
        d.opening_cost[s] if e == "opening" else d.closing_cost[(s, t)] if e == "closing" else d.extension[s][1]
        for s, e in events.items()
        if e
    )
    fixed = span * sum(d.fixed_cost[s] for s, state in states.items() if state == "open")
    standby = span * sum(d.standby_cost[s] for s, state in states.items() if state == "standby")
    emergency_cost = span * sum(v * d.emergency_cost[(d.province_of[u[0]], t)] for u, v in emergency.items())
    load = period_load(model, t, w)
    moves = sum(max(before - load.get(s, 0.0), 0.0) for s, before in d.previous_load.items())
    move_cost = d.move_cost * moves
    return {
        "open_sites": sum(state == "open" for state in states.values()),
        "standby_sites": sum(state == "standby" for state in states.values()),
        "open_capacity": sum(d.capacity[s] for s, state in states.items() if state == "open"),
        "openings": sum(e == "opening" for e in events.values()),
        "closings": sum(e == "closing" for e in events.values()),
        "moves": moves,
        "placed": float(placed),
        "emergency": round(sum(emergency.values()), 6),
        "unmet": round(unmet, 6),
        "site_cost": fixed + standby + event_cost,
        "place_cost": place_cost,
        "emergency_cost": emergency_cost,
        "move_cost": move_cost,
        "total_cost": fixed + standby + event_cost + place_cost + emergency_cost + move_cost,
    }


def next_history(model, t: str, w: str, before: History, offset: float) -> History:
    """The state a plan leaves after implementing period ``t`` (under ``w``): in service, last openings, extensions
    made, people placed per site."""
    events = {s: site_events(model, s).get(t) for s in model.SITES}
    return History(
        in_service={s: int(state_of(model, s, t) != "closed") for s in model.SITES},
        last_opening={**before.last_opening, **{s: offset for s, e in events.items() if e == "opening"}},
        extended=before.extended | {s for s, e in events.items() if e == "extension"},
        load=period_load(model, t, w),
    )


def totals(table: pd.DataFrame) -> pd.DataFrame:
    """Per plan: money, openings, closings, person-moves, emergency and unmet place-periods, fewest and most sites open."""
    grouped = table.groupby("plan", sort=False)
    out = grouped[
        [
            "total_cost",
            "site_cost",
            "place_cost",
            "emergency_cost",
            "move_cost",
            "openings",
            "closings",
            "moves",
            "emergency",
            "unmet",
        ]
    ].sum()
    out["fewest_sites"] = grouped["open_sites"].min()
    out["most_sites"] = grouped["open_sites"].max()
    return out.reset_index()


def observed(data: Backtest) -> pd.DataFrame:
    """The observed number of COA locations per replayed half-year, where the history has one (the last observation in it)."""
    starts = {t: pd.Timestamp(data.periods.at[t, "start"]) for t in data.replayed}
    order = data.replayed
    rows = []
    for k, t in enumerate(order):
        end = starts[order[k + 1]] if k + 1 < len(order) else starts[t] + pd.DateOffset(months=6)
        seen = [
            (d, n)
            for d, n in zip(data.history["date"], data.history["locations"])
            if _date(d) is not None and starts[t] <= _date(d) < end and not _missing(n)
        ]
        rows.append(
            {"period": t, "locations": int(seen[-1][1]) if seen else None, "date": seen[-1][0] if seen else None}
        )
    return pd.DataFrame(rows)


def _date(text: str):
    try:
        return pd.Timestamp(text if len(text) > 7 else f"{text}-15") if len(text) >= 7 else None
    except ValueError:
        return None


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))
