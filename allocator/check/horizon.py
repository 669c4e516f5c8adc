"""A plan over several periods read as the checker's cases (t, ω), and the checks of its life cycle.

The need is split over the municipalities with exact arithmetic of the checker's own, every event
is derived again from the states, and each family that only a plan over periods has (models/README.md,
"Plans over several periods") is re-evaluated by one check named like its builder; the families it
shares with a snapshot are checked by families.py over its cases.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

from ..data.policy import load_policy_dict
from . import families
from .checker import CheckReport, run
from .context import ABS_TOL, Context, municipality, site_groups
from .demand import scaled_demand, split, with_backlog


def check_horizon_solution(solution, instance, policy=None) -> CheckReport:
    """Every violation of the horizon's rules by the plan in ``solution`` (a HorizonSolution)."""
    report = CheckReport()
    if policy is None:
        policy = load_policy_dict(solution.summary.get("policy") or {})
    report.policy = policy.name
    if not families.check_instance(solution, instance, report):
        return report
    if instance.horizon is None:
        report.add("instance", "the instance has no periods")
        return report
    ctx = read_horizon(solution, instance, policy, report)
    return report if ctx is None else run(ctx, LIFE_CYCLE, report)


# What periods.csv states per period and scenario, each recomputed (check_kpis).
PERIOD_FIGURES = (
    "need",
    "placed",
    "emergency",
    "unmet",
    "open_sites",
    "moves",
    "fixed_cost",
    "standby_cost",
    "event_cost",
    "place_cost",
    "emergency_cost",
    "move_cost",
    "total_cost",
    "travel_value",
    "unmet_penalty",
)


def read_horizon(solution, instance, policy, report) -> Context | None:
    """The context of a plan over periods, or None (with the reason in ``report``) when its tables do not
    describe a plan of the instance's periods and scenarios."""
    h = instance.horizon
    summary = solution.summary
    scenarios = list(summary.get("scenarios") or [])
    unknown = [w for w in scenarios if w not in h.scenarios]
    if not scenarios or unknown:
        report.add("scenarios", f"summary.json names no scenario of the instance: {unknown or scenarios}")
        return None
    periods = list(h.periods.index)
    if not _known_rows(solution, instance, periods, scenarios, report):
        return None
    cases = [(t, w) for w in scenarios for t in periods]
    per_year = 1.0 / h.years_per_planning_period
    span = {(t, w): float(h.periods.at[t, "years"]) * per_year for t, w in cases}
    yearly = policy.effective_budget(instance.budget)
    tl, pl = solution.timeline, solution.placements
    ctx = Context(
        solution=solution,
        instance=instance,
        policy=policy,
        cases=cases,
        demand=_need(instance, policy, cases, periods),
        state={(s, (t, w)): state for s, t, w, state in zip(tl["site"], tl["period"], tl["scenario"], tl["state"])},
        placements=pl,
        row_cases=list(zip(pl["period"], pl["scenario"])),
        site_table="timeline.csv",
        claimed_load={
            (s, (t, w)): float(q) for s, t, w, q in zip(tl["site"], tl["period"], tl["scenario"], tl["placed"])
        },
        balance_rows=[],
        claimed_figures={(r["period"], r["scenario"]): r for r in solution.periods.to_dict("records")},
        figure_keys=PERIOD_FIGURES + (("person_nights_above_limit",) if h.registration is not None else ()),
        states=("closed", "open", "standby"),
        state_row="site_state",
        state_words=("closed", "open", "standby"),
        by_unit=True,
        periods=periods,
        scenarios=scenarios,
        span=span,
        discount={(t, w): (1 + policy.discount_rate) ** (-float(h.periods.at[t, "offset"])) for t, w in cases},
        weights=_weights(policy, scenarios),
        budgets={c: _budget(h.periods.at[c[0], "budget"], yearly, span[c]) for c in cases},
        site_groups=site_groups(instance),
    )
    mu = solution.municipalities
    ctx.balance_rows = [(ctx.unit(r), (r.period, r.scenario), r) for r in mu.itertuples()]
    ctx.emergency = {(u, c): float(r.emergency) for u, c, r in ctx.balance_rows}
    ctx.events = {
        (s, (t, w)): e for w in scenarios for s in instance.sites.index for t, e in _derived_events(ctx, w, s).items()
    }
    ctx.moves = _moves(ctx)
    return ctx


def _need(instance, policy, cases: list[tuple], periods: list[str]) -> dict[tuple, dict]:
    """Demand per case and unit: the need split exactly, with the status holders' backlog (housing_rate), scaled."""
    units = {(t, w): _case_units(instance, t, w) for t, w in cases}
    housing = None if instance.groups is None else instance.groups.housing
    need = with_backlog(units, housing, instance.municipalities["province"], policy.housing_rate_of, periods)
    return {c: scaled_demand(need[c], policy.demand_scale) for c in cases}


def _budget(given: float, yearly: float | None, span: float) -> float | None:
    """A period's budget: its own (periods.csv), else the yearly one for the period's years."""
    if not math.isnan(given):
        return float(given)
    return None if yearly is None else yearly * span


def _known_rows(solution, instance, periods: list[str], scenarios: list[str], report) -> bool:
    """The timeline has one row per site, period and scenario; placements name known ids."""
    sites, muni = instance.sites, instance.municipalities
    tl = solution.timeline
    keys = list(zip(tl["scenario"], tl["site"], tl["period"]))
    wanted = {(w, s, t) for w in scenarios for s in sites.index for t in periods}
    if len(keys) != len(set(keys)) or set(keys) != wanted:
        missing, extra = sorted(wanted - set(keys))[:3], sorted(set(keys) - wanted)[:3]
        report.add(
            "timeline",
            f"expected one row per site, period and scenario; missing e.g. {missing}, unexpected e.g. {extra}",
        )
        return False
    pl = solution.placements
    if instance.groups is not None and ("group" not in pl or "group" not in solution.municipalities):
        report.add(
            "placements", "the instance has demand groups: placements.csv and municipalities.csv need a group column"
        )
        return False
    unknown = sorted(
        (set(pl["site"]) - set(sites.index))
        | (set(pl["municipality"]) - set(muni.index))
        | (set(pl["period"]) - set(periods))
        | (set(pl["scenario"]) - set(scenarios))
    )
    if unknown:
        report.add("placements", f"unknown ids in placements.csv: {unknown[:5]}")
        return False
    return True


def _moves(ctx) -> dict[tuple, float]:
    """Person-moves out of each site at the start of each period from the second on: max(0, the fall of its load)."""
    load = defaultdict(float)
    for s, c, q in zip(ctx.placements["site"], ctx.row_cases, ctx.placements["placed"]):
        load[(s, c)] += float(q)
    return {
        (s, (t, w)): (max(load[(s, (ctx.periods[k - 1], w))] - load[(s, (t, w))], 0.0) if k else 0.0)
        for w in ctx.scenarios
        for s in ctx.instance.sites.index
        for k, t in enumerate(ctx.periods)
    }


def _weights(policy, scenarios: list[str]) -> dict[str, float]:
    given = dict(policy.scenario_weights)
    raw = {w: given.get(w, 0.0) for w in scenarios} if given else {w: 1.0 for w in scenarios}
    total = sum(raw.values())
    return {w: v / total for w, v in raw.items()}


def _split_need(instance, t: str, w: str) -> dict[str, int]:
    """The need of (t, ω) per municipality: over the provinces by task share, then by the static key."""
    h, muni, provinces = instance.horizon, instance.municipalities, instance.provinces
    rows = h.need[(h.need["period"] == t) & (h.need["scenario"] == w)]
    if rows["province"].isna().all():
        task = provinces["task"] if provinces["task"].notna().all() else muni.groupby("province")["demand"].sum()
        by_province = split(int(rows["need"].iloc[0]), {p: Fraction(int(task.get(p, 0))) for p in provinces.index})
    else:
        by_province = {r.province: int(r.need) for r in rows.itertuples()}
    out: dict[str, int] = {}
    by_demand = h.key == "demand"
    for p, amount in by_province.items():
        members = muni.index[muni["province"] == p]
        key = {
            i: Fraction(int(muni.at[i, "demand"]))
            if by_demand
            else Fraction(int(muni.at[i, "population"])) * Fraction(float(muni.at[i, "weight"]))
            for i in members
        }
        out.update(split(amount, key))
    return {i: out.get(i, 0) for i in muni.index}


def _case_units(instance, t: str, w: str) -> dict:
    """Demand per unit in (t, ω): the need per municipality, or with demand groups per (municipality, group):
    a group's own rows for the period, the need shared by the province groups without such rows in
    proportion to their group_demand.csv rows, the national groups' rows in every period."""
    need = _split_need(instance, t, w)
    groups = instance.groups
    if groups is None:
        return need
    own: dict[tuple, int] = {}
    table = groups.periodic
    periodic = set() if table is None else set(table["group"])
    if table is not None:
        for r in table.itertuples(index=False):
            if r.period == t and r.scenario in (None, w):
                if r.scenario == w or (r.municipality, r.group) not in own:
                    own[(r.municipality, r.group)] = int(r.demand)
    shared = [g for g in groups.ids if g not in periodic and groups.table.at[g, "target"] == "province"]
    out: dict = {}
    for i, amount in need.items():
        by_group = split(amount, {g: Fraction(int(groups.demand.at[i, g])) for g in shared})
        for g in groups.ids:
            if g in periodic:
                out[(i, g)] = own.get((i, g), 0)
            elif g in by_group:
                out[(i, g)] = by_group[g]
            else:
                out[(i, g)] = int(groups.demand.at[i, g])
    return out


def _in_service(ctx, w: str, s: str, k: int) -> int:
    """1 if s is open or on standby in the k-th period under ω (k = -1: before the first period)."""
    if k < 0:
        return int(ctx.instance.sites.at[s, "status"] == "existing")
    return int(ctx.state[(s, (ctx.periods[k], w))] != "closed")


def _derived_events(ctx, w: str, s: str) -> dict[str, str]:
    """Events of s under ω from its states: opening, closing, and extension in the period after its contract end."""
    end = ctx.position(ctx.life(s, "contract_end"))
    out = {}
    for k, t in enumerate(ctx.periods):
        before, now = _in_service(ctx, w, s, k - 1), _in_service(ctx, w, s, k)
        if now and not before:
            out[t] = "opening"
        elif before and not now:
            out[t] = "closing"
        elif now and end is not None and k == end + 1:
            out[t] = "extension"
    return out


# ---------------------------------------------------------------- the checks of the life cycle


def check_one_site_plan(ctx, report) -> None:
    """The integrated plan has one site plan for every scenario (sites cannot be built after the fact)."""
    if ctx.solution.summary.get("plan") != "integrated":
        return
    first = ctx.scenarios[0]
    for (s, (t, w)), state in ctx.state.items():
        if state != ctx.state[(s, (t, first))]:
            report.add(
                f"open_site[{s},{t}]",
                f"state {state} under {w} but {ctx.state[(s, (t, first))]} under {first}: the band has one site plan",
            )


def check_state_transition(ctx, report) -> None:
    """state_transition, opening_link, closing_link, contract_extension: every event as the states imply, in the timeline and in events.csv."""
    tl = ctx.solution.timeline
    claimed = {(s, (t, w)): e for w, s, t, e in zip(tl["scenario"], tl["site"], tl["period"], tl["event"]) if e}
    listed = {(r.site, (r.period, r.scenario)): r.event for r in ctx.solution.events.itertuples()}
    for key in sorted(set(ctx.events) | set(claimed) | set(listed), key=lambda k: (k[1][1], k[0], k[1][0])):
        s, (t, w) = key
        want = ctx.events.get(key, "")
        for source, got in (("timeline.csv", claimed.get(key, "")), ("events.csv", listed.get(key, ""))):
            if got != want:
                report.add(
                    f"state_transition[{s},{t}]",
                    f"{source} says {got or 'no event'}, the states give {want or 'no event'} ({w})",
                )


def check_lead_time(ctx, report) -> None:
    """lead_time: no site in service before its earliest period."""
    for (s, (t, w)), state in ctx.state.items():
        earliest = ctx.life(s, "earliest_open")
        if state != "closed" and earliest is not None and ctx.position(t) < ctx.position(earliest):
            report.add(f"lead_time[{s},{t}]", f"{state} before its earliest period {earliest} ({w})")


def check_min_open_duration(ctx, report) -> None:
    """min_open_duration: a site opened at t' is in service in every period starting less than D_s years after t'."""
    offset = {t: float(ctx.instance.horizon.periods.at[t, "offset"]) for t in ctx.periods}
    for (s, (t, w)), event in ctx.events.items():
        years = ctx.life(s, "min_open_years")
        if event != "opening" or not years:
            continue
        for t2 in ctx.periods[ctx.position(t) :]:
            if offset[t2] - offset[t] < years - 1e-9 and ctx.state[(s, (t2, w))] == "closed":
                report.add(
                    f"min_open_duration[{s},{t2}]",
                    f"closed {offset[t2] - offset[t]:g} years after opening in {t}, minimum {years:g} ({w})",
                )


def check_emergency_capacity(ctx, report) -> None:
    """emergency_capacity[p,t,ω]: emergency places within what the province has in the period."""
    table = ctx.instance.horizon.emergency
    province_of = ctx.instance.municipalities["province"]
    total = defaultdict(float)
    for (u, (t, w)), v in ctx.emergency.items():
        total[(province_of[municipality(u)], t, w)] += v
    for (p, t, w), v in total.items():
        cap = int(table.at[(p, t), "capacity"]) if (p, t) in table.index else 0
        if v > cap + ABS_TOL:
            report.add(f"emergency_capacity[{p},{t},{w}]", f"{v:g} emergency places, available {cap}")


def check_move_count(ctx, report) -> None:
    """move_count[s,t,ω]: the person-moves of timeline.csv, provinces.csv and scenarios.csv are those the
    placements give, max(0, places at s in t−1 − places at s in t), from the second period on (periods.csv's
    are checked with the other figures of each period)."""
    sol = ctx.solution
    tl = sol.timeline
    for w, s, t, got in zip(tl["scenario"], tl["site"], tl["period"], tl["moves"]):
        want = ctx.moves[(s, (t, w))]
        if abs(float(got) - want) > ABS_TOL:
            report.add(f"move_count[{s},{t},{w}]", f"timeline.csv says {got:g} moves, the placements give {want:g}")
    sites = ctx.instance.sites
    by_province, by_scenario = defaultdict(float), defaultdict(float)
    for (s, (t, w)), q in ctx.moves.items():
        by_province[(sites.at[s, "province"], t, w)] += q
        by_scenario[w] += q
    for r in sol.provinces.itertuples():
        want = by_province[(r.province, r.period, r.scenario)]
        if abs(float(r.moves) - want) > ABS_TOL:
            report.add(
                f"provinces.csv[{r.province},{r.period},{r.scenario}]",
                f"moves says {r.moves:g}, the placements give {want:g}",
            )
    for r in sol.scenarios.itertuples():
        if r.scenario in by_scenario and abs(float(r.moves) - by_scenario[r.scenario]) > ABS_TOL:
            report.add(
                f"scenarios.csv[{r.scenario}]",
                f"moves says {r.moves:g}, the placements give {by_scenario[r.scenario]:g}",
            )


def check_move_limit(ctx, report) -> None:
    """move_limit[t,ω]: at most max_moves_per_period person-moves in every period and scenario."""
    limit = ctx.policy.max_moves_per_period
    if limit is None:
        return
    for t, w in ctx.cases:
        q = ctx.money[(t, w)]["moves"]
        if q > limit + ABS_TOL:
            report.add(f"move_limit[{t},{w}]", f"{q:g} person-moves, at most {limit} allowed")


# The families only a plan over periods has, after the shared ones (families.SHARED) in the order reported.
LIFE_CYCLE = (
    check_one_site_plan,
    check_state_transition,
    check_lead_time,
    check_min_open_duration,
    check_emergency_capacity,
    check_move_count,
    check_move_limit,
)
