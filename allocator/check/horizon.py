"""The independent check of a plan over several periods, from its solution folder and the instance alone.

Like the static checker it owes nothing to the model or the solver: the need is split over the
municipalities with exact arithmetic of its own, every event is derived again from the states,
each new family of models/README.md ("Plans over several periods") is re-evaluated by one check
named like its builder, travel times are recomputed with the checker's own Dijkstra, and the
objective is recomputed from the instance's prices.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from types import SimpleNamespace

import pandas as pd

from ..data.policy import LargeSiteRule, Risk, load_policy_dict
from .checker import CheckReport
from .context import site_groups
from .demand import scaled_demand, with_backlog
from .families import ABS_TOL, REL_TOL, check_arcs, share_message, task_shares, task_units
from .operators import check_horizon_operator_choice
from .travel import placement_minutes


@dataclass
class HorizonContext:
    """The plan under check, indexed for the checks, and the figures recomputed from it."""

    solution: object
    instance: object
    policy: object
    periods: list[str]
    scenarios: list[str]
    weights: dict[str, float]
    offset: dict[str, float]
    span: dict[str, float]  # years / years per planning period
    demand: dict[tuple[str, str], dict] = field(default_factory=dict)  # (t, ω) -> unit -> places
    state: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (scenario, site, period)
    events: dict[tuple[str, str, str], str] = field(default_factory=dict)  # derived: (scenario, site, period) -> event
    placed: dict[tuple, float] = field(default_factory=dict)  # (u, s, t, ω); u: i, or (i, g) with demand groups
    emergency: dict[tuple, float] = field(default_factory=dict)  # (u, t, ω)
    minutes: dict[tuple[str, str], float] = field(default_factory=dict)  # recomputed travel time per arc used
    moves: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (scenario, site, period): recomputed

    def life(self, s: str, column: str):
        value = self.instance.horizon.lifecycle.at[s, column]
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    def position(self, t: str | None) -> int | None:
        return None if t is None else self.periods.index(t)

    @property
    def grouped(self) -> bool:
        return self.instance.groups is not None


def muni(unit) -> str:
    """The municipality of a demand unit: i, or (i, g)."""
    return unit if isinstance(unit, str) else unit[0]


def label(*parts) -> str:
    """Indices as a row name shows them: a unit (i, g) as i,g."""
    return ",".join(",".join(p) if isinstance(p, tuple) else str(p) for p in parts)


def check_horizon_solution(solution, instance, policy=None) -> CheckReport:
    """Every violation of the horizon's rules by the plan in ``solution`` (a HorizonSolution)."""
    report = CheckReport()
    summary = solution.summary
    if policy is None:
        policy = load_policy_dict(summary.get("policy") or {})
    report.policy = policy.name
    fingerprint = (summary.get("instance") or {}).get("fingerprint")
    if fingerprint != instance.fingerprint:
        report.add(
            "instance",
            f"the solution was made for another version of the instance (fingerprint {str(fingerprint)[:12]} vs {instance.fingerprint[:12]})",
        )
        return report
    if instance.horizon is None:
        report.add("instance", "the instance has no periods")
        return report
    ctx = _context(solution, instance, policy, report)
    if ctx is None:
        return report
    for check in CHECKS:
        check(ctx, report)
    return report


def _context(solution, instance, policy, report) -> HorizonContext | None:
    h = instance.horizon
    scenarios = list(solution.summary.get("scenarios") or [])
    unknown = [w for w in scenarios if w not in h.scenarios]
    if not scenarios or unknown:
        report.add("scenarios", f"summary.json names no scenario of the instance: {unknown or scenarios}")
        return None
    periods = list(h.periods.index)
    per_year = 1.0 / h.years_per_planning_period
    ctx = HorizonContext(
        solution=solution,
        instance=instance,
        policy=policy,
        periods=periods,
        scenarios=scenarios,
        weights=_weights(policy, scenarios),
        offset={t: float(h.periods.at[t, "offset"]) for t in periods},
        span={t: float(h.periods.at[t, "years"]) * per_year for t in periods},
    )
    units = {(t, w): _case_units(instance, t, w) for t in periods for w in scenarios}
    housing = None if instance.groups is None else instance.groups.housing
    need = with_backlog(units, housing, instance.municipalities["province"], policy.housing_rate_of, periods)
    ctx.demand = {case: scaled_demand(u, policy.demand_scale) for case, u in need.items()}
    if not _read_rows(ctx, report):
        return None
    ctx.events = {
        (w, s, t): e for w in scenarios for s in instance.sites.index for t, e in _derived_events(ctx, w, s).items()
    }
    ctx.moves = _moves(ctx)
    return ctx


def _moves(ctx) -> dict[tuple[str, str, str], float]:
    """Person-moves out of each site at the start of each period from the second on: max(0, the fall of its load)."""
    load = defaultdict(float)
    for (_u, s, t, w), q in ctx.placed.items():
        load[(w, s, t)] += q
    return {
        (w, s, t): (max(load[(w, s, ctx.periods[k - 1])] - load[(w, s, t)], 0.0) if k else 0.0)
        for w in ctx.scenarios
        for s in ctx.instance.sites.index
        for k, t in enumerate(ctx.periods)
    }


def _weights(policy, scenarios: list[str]) -> dict[str, float]:
    given = dict(policy.scenario_weights)
    raw = {w: given.get(w, 0.0) for w in scenarios} if given else {w: 1.0 for w in scenarios}
    total = sum(raw.values())
    return {w: v / total for w, v in raw.items()}


def _split(total: int, shares: dict[str, Fraction]) -> dict[str, int]:
    """``total`` in proportion to ``shares``, whole numbers by largest remainder (ties to the smaller id)."""
    weight = sum(shares.values(), Fraction(0))
    if weight == 0:
        return {k: 0 for k in shares}
    quota = {k: total * v / weight for k, v in shares.items()}
    out = {k: q.numerator // q.denominator for k, q in quota.items()}
    for k in sorted(quota, key=lambda k: (out[k] - quota[k], k))[: total - sum(out.values())]:
        out[k] += 1
    return out


def _split_need(instance, t: str, w: str) -> dict[str, int]:
    """The need of (t, ω) per municipality: over the provinces by task share, then by the static key."""
    h, muni, provinces = instance.horizon, instance.municipalities, instance.provinces
    rows = h.need[(h.need["period"] == t) & (h.need["scenario"] == w)]
    if rows["province"].isna().all():
        task = provinces["task"] if provinces["task"].notna().all() else muni.groupby("province")["demand"].sum()
        by_province = _split(int(rows["need"].iloc[0]), {p: Fraction(int(task.get(p, 0))) for p in provinces.index})
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
        out.update(_split(amount, key))
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
        split = _split(amount, {g: Fraction(int(groups.demand.at[i, g])) for g in shared})
        for g in groups.ids:
            if g in periodic:
                out[(i, g)] = own.get((i, g), 0)
            elif g in split:
                out[(i, g)] = split[g]
            else:
                out[(i, g)] = int(groups.demand.at[i, g])
    return out


def _read_rows(ctx: HorizonContext, report) -> bool:
    """The timeline has one row per site, period and scenario; placements name known ids."""
    sol, sites, muni = ctx.solution, ctx.instance.sites, ctx.instance.municipalities
    tl = sol.timeline
    keys = list(zip(tl["scenario"], tl["site"], tl["period"]))
    wanted = {(w, s, t) for w in ctx.scenarios for s in sites.index for t in ctx.periods}
    if len(keys) != len(set(keys)) or set(keys) != wanted:
        missing, extra = sorted(wanted - set(keys))[:3], sorted(set(keys) - wanted)[:3]
        report.add(
            "timeline",
            f"expected one row per site, period and scenario; missing e.g. {missing}, unexpected e.g. {extra}",
        )
        return False
    ctx.state = dict(zip(keys, tl["state"]))
    pl = sol.placements
    if ctx.grouped and ("group" not in pl or "group" not in sol.municipalities):
        report.add(
            "placements", "the instance has demand groups: placements.csv and municipalities.csv need a group column"
        )
        return False
    unknown = sorted(
        (set(pl["site"]) - set(sites.index))
        | (set(pl["municipality"]) - set(muni.index))
        | (set(pl["period"]) - set(ctx.periods))
        | (set(pl["scenario"]) - set(ctx.scenarios))
    )
    if unknown:
        report.add("placements", f"unknown ids in placements.csv: {unknown[:5]}")
        return False
    for row in pl.itertuples():
        key = (_unit(ctx, row), row.site, row.period, row.scenario)
        if key in ctx.placed:
            report.add(f"placed[{label(*key)}]", "listed twice in placements.csv")
        ctx.placed[key] = float(row.placed)
    mu = sol.municipalities
    ctx.emergency = {(_unit(ctx, r), r.period, r.scenario): float(r.emergency) for r in mu.itertuples()}
    return True


def _unit(ctx, row):
    return (row.municipality, row.group) if ctx.grouped else row.municipality


def _in_service(ctx, w: str, s: str, k: int) -> int:
    """1 if s is open or on standby in the k-th period under ω (k = -1: before the first period)."""
    if k < 0:
        return int(ctx.instance.sites.at[s, "status"] == "existing")
    return int(ctx.state[(w, s, ctx.periods[k])] != "closed")


def _derived_events(ctx, w: str, s: str) -> dict[str, str]:
    """Events of s under ω from its states: opening, closing, and extension in the period after its contract end."""
    end = ctx.position(ctx.life(s, "contract_end")) if s in ctx.instance.horizon.lifecycle.index else None
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


# ---------------------------------------------------------------- the checks


def check_domains(ctx, report) -> None:
    """States are closed, open or standby (standby only with a standby cost); places whole and >= 0."""
    standby_ok = {s for s in ctx.instance.sites.index if ctx.life(s, "standby_cost") is not None}
    for (w, s, t), state in ctx.state.items():
        if state not in ("closed", "open", "standby"):
            report.add(f"site_state[{s},{t}]", f"state must be closed, open or standby, is {state!r} ({w})")
        elif state == "standby" and s not in standby_ok:
            report.add(f"site_state[{s},{t}]", f"on standby without a standby cost ({w})")
    for key, q in ctx.placed.items():
        if q < -ABS_TOL:
            report.add(f"placed[{label(*key)}]", f"negative ({q})")
        if ctx.policy.whole_places and abs(q - round(q)) > ABS_TOL:
            report.add(f"placed[{label(*key)}]", f"not a whole number of places ({q})")


def check_one_site_plan(ctx, report) -> None:
    """The integrated plan has one site plan for every scenario (sites cannot be built after the fact)."""
    if ctx.solution.summary.get("plan") != "integrated":
        return
    first = ctx.scenarios[0]
    for (w, s, t), state in ctx.state.items():
        if state != ctx.state[(first, s, t)]:
            report.add(
                f"open_site[{s},{t}]",
                f"state {state} under {w} but {ctx.state[(first, s, t)]} under {first}: the band has one site plan",
            )


def check_state_transition(ctx, report) -> None:
    """state_transition, opening_link, closing_link, contract_extension: every event as the states imply, in the timeline and in events.csv."""
    tl = ctx.solution.timeline
    claimed = {(w, s, t): e for w, s, t, e in zip(tl["scenario"], tl["site"], tl["period"], tl["event"]) if e}
    listed = {(r.scenario, r.site, r.period): r.event for r in ctx.solution.events.itertuples()}
    for key in sorted(set(ctx.events) | set(claimed) | set(listed)):
        w, s, t = key
        want = ctx.events.get(key, "")
        for source, got in (("timeline.csv", claimed.get(key, "")), ("events.csv", listed.get(key, ""))):
            if got != want:
                report.add(
                    f"state_transition[{s},{t}]",
                    f"{source} says {got or 'no event'}, the states give {want or 'no event'} ({w})",
                )


def check_lead_time(ctx, report) -> None:
    """lead_time: no site in service before its earliest period."""
    for (w, s, t), state in ctx.state.items():
        earliest = ctx.life(s, "earliest_open")
        if state != "closed" and earliest is not None and ctx.position(t) < ctx.position(earliest):
            report.add(f"lead_time[{s},{t}]", f"{state} before its earliest period {earliest} ({w})")


def check_min_open_duration(ctx, report) -> None:
    """min_open_duration: a site opened at t' is in service in every period starting less than D_s years after t'."""
    for (w, s, t), event in ctx.events.items():
        years = ctx.life(s, "min_open_years")
        if event != "opening" or not years:
            continue
        for t2 in ctx.periods[ctx.position(t) :]:
            if ctx.offset[t2] - ctx.offset[t] < years - 1e-9 and ctx.state[(w, s, t2)] == "closed":
                report.add(
                    f"min_open_duration[{s},{t2}]",
                    f"closed {ctx.offset[t2] - ctx.offset[t]:g} years after opening in {t}, minimum {years:g} ({w})",
                )


def check_horizon_fixings(ctx, report) -> None:
    """Existing sites open until their contract end (keep_existing_open), forced sites open from their earliest period, forbidden ones closed."""
    sites, policy = ctx.instance.sites, ctx.policy
    for (w, s, t), state in ctx.state.items():
        k = ctx.position(t)
        end = ctx.life(s, "contract_end")
        if (
            policy.keep_existing_open
            and sites.at[s, "status"] == "existing"
            and (end is None or k <= ctx.position(end))
            and state != "open"
        ):
            report.add(
                f"open_site[{s},{t}]",
                f"existing site {state} before its contract end while keep_existing_open = true ({w})",
            )
        earliest = ctx.life(s, "earliest_open")
        if s in policy.force_sites and (earliest is None or k >= ctx.position(earliest)) and state != "open":
            report.add(f"open_site[{s},{t}]", f"forced site is {state} ({w})")
        if s in policy.forbid_sites and state != "closed":
            report.add(f"open_site[{s},{t}]", f"forbidden site is {state} ({w})")


def check_large_site_per_province(ctx, report) -> None:
    """large_site_per_province[p,t]: the rule holds in every period in which a large site of p may be open."""
    rule = LargeSiteRule(ctx.policy.large_site_rule)
    if rule is LargeSiteRule.OFF:
        return
    sites = ctx.instance.sites
    province_of = ctx.instance.municipalities["province"]
    for w in ctx.scenarios:
        for k, t in enumerate(ctx.periods):
            demand = defaultdict(int)
            for u, d in ctx.demand[(t, w)].items():
                demand[province_of[muni(u)]] += d
            for p in ctx.instance.provinces.index:
                large = [s for s in sites.index[(sites["kind"] == "large") & (sites["province"] == p)]]
                available = [
                    s
                    for s in large
                    if ctx.life(s, "earliest_open") is None or ctx.position(ctx.life(s, "earliest_open")) <= k
                ]
                if not available and (large or not demand[p]):
                    continue
                count = sum(ctx.state[(w, s, t)] == "open" for s in available)
                if not rule.allows(count):
                    report.add(
                        f"large_site_per_province[{p},{t}]",
                        f"{count} large sites open, rule is '{rule.value}' one ({w})",
                    )


def check_demand_balance(ctx, report) -> None:
    """demand_balance[i,t,ω] (with demand groups [i,g,t,ω]): placed + emergency + unmet = d_itω, as re-derived;
    municipalities.csv states them truly."""
    placed = defaultdict(float)
    for (u, _s, t, w), q in ctx.placed.items():
        placed[(u, t, w)] += q
    listed = set()
    for r in ctx.solution.municipalities.itertuples():
        u = _unit(ctx, r)
        key = (u, r.period, r.scenario)
        listed.add(key)
        d = ctx.demand.get((r.period, r.scenario), {}).get(u)
        name = f"demand_balance[{label(u, r.period, r.scenario)}]"
        if d is None:
            report.add(name, "not a municipality, period and scenario of the plan")
            continue
        got, emergency = placed[key], float(r.emergency)
        if abs(float(r.demand) - d) > ABS_TOL:
            report.add(name, f"municipalities.csv says demand {r.demand:g}, the instance gives {d}")
        if got + emergency > d + ABS_TOL or emergency < -ABS_TOL:
            report.add(name, f"placed {got:g} and emergency {emergency:g} exceed demand {d}")
        if abs(float(r.placed) - got) > ABS_TOL or abs(float(r.unmet) - (d - got - emergency)) > ABS_TOL:
            report.add(
                name, f"placed {r.placed:g} / unmet {r.unmet:g} do not match the placements ({got:g}) and demand {d}"
            )
    wanted = {(u, t, w) for (t, w), dd in ctx.demand.items() for u in dd}
    if wanted - listed:
        report.add(
            "municipalities",
            f"{len(wanted - listed)} municipality/period/scenario rows missing, e.g. {sorted(wanted - listed)[:3]}",
        )


def check_site_capacity(ctx, report) -> None:
    """site_capacity[s,t,ω] and site_min_size[s,t,ω]: places only at open sites, within capacity, at least the
    minimum size; with demand groups group_capacity[s,g,t,ω]: a group's places within its own capacity at the site."""
    sites = ctx.instance.sites
    load = defaultdict(float)
    by_group = defaultdict(float)
    for (u, s, t, w), q in ctx.placed.items():
        load[(w, s, t)] += q
        if not isinstance(u, str):
            by_group[(s, u[1], t, w)] += q
    if ctx.grouped:
        own = {(r.site, r.group): int(r.capacity) for r in ctx.instance.groups.eligible.itertuples()}
        for (s, g, t, w), q in by_group.items():
            if (s, g) in own and q > own[(s, g)] + ABS_TOL:
                report.add(
                    f"group_capacity[{s},{g},{t},{w}]", f"holds {q:g} places of group {g}, allowed {own[(s, g)]}"
                )
    tl = ctx.solution.timeline
    claimed = dict(zip(zip(tl["scenario"], tl["site"], tl["period"]), tl["placed"]))
    for (w, s, t), state in ctx.state.items():
        q = load[(w, s, t)]
        cap, low = int(sites.at[s, "capacity"]), int(sites.at[s, "min_size"])
        allowed = cap if state == "open" else 0
        if q > allowed + ABS_TOL:
            report.add(f"site_capacity[{s},{t},{w}]", f"holds {q:g} places, allowed {allowed} ({state})")
        if state == "open" and q < low - ABS_TOL:
            report.add(f"site_min_size[{s},{t},{w}]", f"holds {q:g} places, minimum {low}")
        if abs(float(claimed[(w, s, t)]) - q) > ABS_TOL:
            report.add(
                f"timeline.csv[{s},{t},{w}]", f"placed column says {claimed[(w, s, t)]:g}, placements add up to {q:g}"
            )


def check_emergency_capacity(ctx, report) -> None:
    """emergency_capacity[p,t,ω]: emergency places within what the province has in the period."""
    table = ctx.instance.horizon.emergency
    province_of = ctx.instance.municipalities["province"]
    total = defaultdict(float)
    for (u, t, w), v in ctx.emergency.items():
        total[(province_of[muni(u)], t, w)] += v
    for (p, t, w), v in total.items():
        cap = int(table.at[(p, t), "capacity"]) if (p, t) in table.index else 0
        if v > cap + ABS_TOL:
            report.add(f"emergency_capacity[{p},{t},{w}]", f"{v:g} emergency places, available {cap}")


def check_horizon_arcs(ctx, report) -> None:
    """Every placement uses an eligible arc (travel recomputed; limits, province, nearest regular sites), as in the static model."""
    pl = ctx.solution.placements
    columns = ["municipality", "site", *(["group"] if ctx.grouped else [])]
    arcs = pl.drop_duplicates(columns)[[*columns, "travel_minutes"]].reset_index(drop=True)
    arcs["placed"] = 1.0
    minutes = placement_minutes(ctx.instance, arcs)
    view = SimpleNamespace(
        instance=ctx.instance,
        policy=ctx.policy,
        placements=arcs,
        minutes=minutes,
        grouped=ctx.grouped,
        site_groups=site_groups(ctx.instance),
    )
    check_arcs(view, report)
    ctx.minutes = dict(zip(zip(arcs["municipality"], arcs["site"]), view.minutes))


def check_mean_travel_limit(ctx, report) -> None:
    """mean_travel_limit[t,ω]: person-minutes at most T_mean times the places placed, in every period and scenario."""
    limit = ctx.policy.mean_travel_limit_minutes
    if limit is None:
        return
    minutes, placed = defaultdict(float), defaultdict(float)
    for (u, s, t, w), q in ctx.placed.items():
        minutes[(t, w)] += q * ctx.minutes.get((muni(u), s), math.inf)
        placed[(t, w)] += q
    for (t, w), pm in minutes.items():
        if pm > limit * placed[(t, w)] + 1e-6 * max(1.0, pm):
            report.add(f"mean_travel_limit[{t},{w}]", f"mean travel {pm / placed[(t, w)]:.2f} min exceeds {limit:g}")


SPENT = ("fixed", "standby", "event", "place", "emergency", "move")  # money spent; the objective adds travel and unmet


def check_fair_share(ctx, report) -> None:
    """fair_share[p,t,ω]: in every period and scenario, each province with a task places at least (1 - b) times its
    share of the places placed nationally (policy fair_share_band b)."""
    band = ctx.policy.fair_share_band
    if band is None:
        return
    placed = defaultdict(float)
    for (u, _s, t, w), q in ctx.placed.items():
        placed[(u, t, w)] += q
    for (t, w), demand in ctx.demand.items():
        units = task_units(ctx.instance, demand, lambda u: placed[(u, t, w)])  # noqa: B023 - used at once
        for p, got, least, task_p, task, total in task_shares(units, band):
            report.add(f"fair_share[{p},{t},{w}]", share_message(got, least, band, task_p, task, total))


def period_money(ctx, w: str) -> dict[str, dict[str, float]]:
    """Per period under ω, from the instance's prices: fixed, standby, event, place, emergency, move, travel and unmet money (undiscounted)."""
    out = {t: defaultdict(float) for t in ctx.periods}
    for s in ctx.instance.sites.index:
        for t in ctx.periods:
            _site_money(ctx, w, s, t, out[t])
            out[t]["moves"] += ctx.moves[(w, s, t)]
    for t in ctx.periods:
        out[t]["move"] = ctx.policy.move_cost * out[t]["moves"]
    _place_money(ctx, w, out)
    return out


def _site_money(ctx, w: str, s: str, t: str, money: dict) -> None:
    sites = ctx.instance.sites
    state = ctx.state[(w, s, t)]
    if state == "open":
        money["fixed"] += ctx.span[t] * float(sites.at[s, "fixed_cost"])
    elif state == "standby":
        money["standby"] += ctx.span[t] * float(ctx.life(s, "standby_cost") or 0.0)
    event = ctx.events.get((w, s, t))
    end = ctx.life(s, "contract_end")
    runs_out = end is not None and sites.at[s, "status"] == "existing" and ctx.position(t) == ctx.position(end) + 1
    cost = {
        "opening": ctx.life(s, "opening_cost"),
        "closing": None if runs_out else ctx.life(s, "closing_cost"),
        "extension": ctx.life(s, "extension_cost"),
    }.get(event)
    money["event"] += float(cost or 0.0)


def _place_money(ctx, w: str, out: dict) -> None:
    sites, h, p = ctx.instance.sites, ctx.instance.horizon, ctx.policy
    province_of = ctx.instance.municipalities["province"]
    placed = defaultdict(float)
    own = site_groups(ctx.instance)
    for (u, s, t, scen), q in ctx.placed.items():
        if scen == w:
            price = float(sites.at[s, "cost_per_place"])
            if not isinstance(u, str) and (s, u[1]) in own:  # a site that does not take the group is reported apart
                price = own[(s, u[1])][1]
            out[t]["place"] += ctx.span[t] * price * q
            out[t]["travel"] += ctx.span[t] * p.travel_value * ctx.minutes.get((muni(u), s), 0.0) * q
            placed[(u, t)] += q
    for (u, t, scen), v in ctx.emergency.items():
        if scen == w and v > 0:
            out[t]["emergency"] += ctx.span[t] * float(h.emergency.at[(province_of[muni(u)], t), "cost_per_place"]) * v
    for t in ctx.periods:
        unmet = {
            u: max(d - placed[(u, t)] - ctx.emergency.get((u, t, w), 0.0), 0.0) for u, d in ctx.demand[(t, w)].items()
        }
        out[t]["unmet"] = sum(unmet.values())
        # M_g of the unit's group (unmet_penalty_by_group), else M
        penalty = sum(p.penalty_of(None if isinstance(u, str) else u[1]) * v for u, v in unmet.items())
        out[t]["unmet_penalty"] = ctx.span[t] * penalty


def check_budget_limit(ctx, report) -> None:
    """budget_limit[t,ω]: money spent in the period within its budget."""
    h = ctx.instance.horizon
    yearly = ctx.policy.effective_budget(ctx.instance.budget)
    for w in ctx.scenarios:
        money = period_money(ctx, w)
        for t in ctx.periods:
            given = h.periods.at[t, "budget"]
            budget = float(given) if not math.isnan(given) else (None if yearly is None else yearly * ctx.span[t])
            spend = sum(money[t][k] for k in SPENT)
            if budget is not None and spend > budget + REL_TOL * max(1.0, budget):
                report.add(f"budget_limit[{t},{w}]", f"money spent {spend:,.0f} exceeds the budget {budget:,.0f}")


def check_objective(ctx, report) -> None:
    """total_cost: the claimed objective equals the one recomputed (discounted, weighted or worst over the scenarios;
    move_cost[ω]: κ per person-move, discounted as an event); the bound is not above it; the per-period KPIs are true."""
    rate = ctx.policy.discount_rate
    by_scenario = {}
    periods = ctx.solution.periods.set_index(["period", "scenario"])
    for w in ctx.scenarios:
        money = period_money(ctx, w)
        total = 0.0
        for t in ctx.periods:
            m = money[t]
            parts = sum(m[k] for k in SPENT) + m["travel"] + m["unmet_penalty"]
            total += (1 + rate) ** (-ctx.offset[t]) * parts
            _check_period_kpis(ctx, report, periods, t, w, m)
        by_scenario[w] = total
    objective = (
        max(by_scenario.values())
        if Risk(ctx.policy.risk) is Risk.WORST
        else sum(ctx.weights[w] * v for w, v in by_scenario.items())
    )
    report.objective = objective
    summary = ctx.solution.summary
    claimed, bound = summary.get("objective"), summary.get("bound")
    scale = max(1.0, abs(objective))
    if claimed is None or abs(claimed - objective) > REL_TOL * scale + 1e-6:
        report.add("total_cost", f"solution claims {claimed}, recomputed {objective:.6f}")
    if bound is not None and claimed is not None and bound > claimed + REL_TOL * scale:
        report.add("bound", f"bound {bound} above the objective {claimed}")


def _check_period_kpis(ctx, report, periods: pd.DataFrame, t: str, w: str, money: dict) -> None:
    row = periods.loc[(t, w)] if (t, w) in periods.index else None
    if row is None:
        report.add(f"periods.csv[{t},{w}]", "row missing")
        return
    spend = sum(money[k] for k in SPENT)
    for column, value in (
        ("total_cost", spend),
        ("unmet", money["unmet"]),
        ("moves", money["moves"]),
        ("move_cost", money["move"]),
    ):
        if abs(float(row[column]) - value) > REL_TOL * max(1.0, abs(value)) + 1e-6:
            report.add(f"periods.csv[{t},{w}]", f"{column} says {row[column]}, recomputed {value}")
    reg = ctx.instance.horizon.registration
    if reg is not None:
        at_centre = sum(q for (_u, s, tt, ww), q in ctx.placed.items() if s == reg.site and tt == t and ww == w)
        above = max(at_centre + money["unmet"] - reg.limit, 0.0)
        nights = round(365.25 * float(ctx.instance.horizon.periods.at[t, "years"]))
        if abs(float(row["person_nights_above_limit"]) - above * nights) > 1e-6 * max(1.0, above * nights):
            report.add(
                f"periods.csv[{t},{w}]",
                f"person_nights_above_limit says {row['person_nights_above_limit']}, recomputed {above * nights}",
            )


def check_move_count(ctx, report) -> None:
    """move_count[s,t,ω]: the person-moves of timeline.csv, periods.csv, provinces.csv and scenarios.csv are those the
    placements give, max(0, places at s in t−1 − places at s in t), from the second period on."""
    sol = ctx.solution
    tl = sol.timeline
    for w, s, t, got in zip(tl["scenario"], tl["site"], tl["period"], tl["moves"]):
        want = ctx.moves[(w, s, t)]
        if abs(float(got) - want) > ABS_TOL:
            report.add(f"move_count[{s},{t},{w}]", f"timeline.csv says {got:g} moves, the placements give {want:g}")
    sites = ctx.instance.sites
    by_province, by_scenario = defaultdict(float), defaultdict(float)
    for (w, s, t), q in ctx.moves.items():
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
    total = defaultdict(float)
    for (w, _s, t), q in ctx.moves.items():
        total[(t, w)] += q
    for (t, w), q in total.items():
        if q > limit + ABS_TOL:
            report.add(f"move_limit[{t},{w}]", f"{q:g} person-moves, at most {limit} allowed")


CHECKS = (
    check_domains,
    check_one_site_plan,
    check_state_transition,
    check_lead_time,
    check_min_open_duration,
    check_horizon_fixings,
    check_large_site_per_province,
    check_horizon_operator_choice,
    check_demand_balance,
    check_site_capacity,
    check_emergency_capacity,
    check_horizon_arcs,
    check_mean_travel_limit,
    check_move_count,
    check_move_limit,
    check_budget_limit,
    check_fair_share,
    check_objective,
)
