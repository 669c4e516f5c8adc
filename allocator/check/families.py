"""One check per constraint family of models/README.md, named like the model's builders, for every shape of plan.

Each check reads the Context (the plan's tables keyed by case and what was recomputed from them) and
adds one violation per broken row to the report, named as the model names the row: a snapshot's
rows as site_capacity[s], a plan over periods as site_capacity[s,t,ω]; the rows of the site plan
(its states, fixings and the large-site rule) carry the period in the index and the scenario after
the message.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..data.operators import operator_variants
from ..data.policy import LargeSiteRule
from .context import ABS_TOL, REL_TOL, SPENT, at, municipality, site_plan_at
from .tables import OBJECTIVE_EUROS, ROUNDED, close
from .travel import nearer_regular_sites, network, regular_access


def check_instance(solution, instance, report) -> bool:
    """The solution was made for this version of the instance (same fingerprint)."""
    fingerprint = (solution.summary.get("instance") or {}).get("fingerprint")
    if fingerprint == instance.fingerprint:
        return True
    report.add(
        "instance",
        f"the solution was made for another version of the instance (fingerprint {str(fingerprint)[:12]} vs {instance.fingerprint[:12]})",
    )
    return False


def unit_label(unit) -> str:
    """A demand unit as an index shows it: i, or i,g."""
    return unit if isinstance(unit, str) else ",".join(unit)


def placed_name(unit, site: str, case: tuple = ()) -> str:
    """placed[i,s] or placed[i,s,g], over periods followed by t,ω: as the model names the variable."""
    if isinstance(unit, str):
        return f"placed[{unit},{site}{at(case)}]"
    return f"placed[{unit[0]},{site},{unit[1]}{at(case)}]"


def bracket(case: tuple) -> str:
    """The index of a row the model has once per case: none in a snapshot, [t,ω] over periods."""
    return f"[{','.join(case)}]" if case else ""


def check_domains(ctx, report) -> None:
    """Each site in one of the shape's states (open_site 0 or 1; closed, open or standby over periods, standby only
    with a standby cost); placed >= 0, whole unless whole_places = false, each arc listed once per case."""
    words = ctx.state_words
    allowed = ", ".join(words[:-1]) + f" or {words[-1]}"
    for (s, c), state in ctx.state.items():
        t, note = site_plan_at(c)
        if state not in ctx.states:
            report.add(f"{ctx.state_row}[{s}{t}]", f"must be {allowed}, is {state!r}{note}")
        elif state == "standby" and ctx.life(s, "standby_cost") is None:
            report.add(f"{ctx.state_row}[{s}{t}]", f"on standby without a standby cost{note}")
    for u, s, c, q in zip(ctx.units, ctx.placements["site"], ctx.row_cases, ctx.placements["placed"]):
        if q < -ABS_TOL:
            report.add(placed_name(u, s, c), f"negative ({q})")
        if ctx.policy.whole_places and abs(q - round(q)) > ABS_TOL:
            report.add(placed_name(u, s, c), f"not a whole number of places ({q})")
    for u, s, c in ctx.twice:
        report.add(placed_name(u, s, c), "listed twice in placements.csv")


def check_demand_balance(ctx, report) -> None:
    """demand_balance[i] (or [i,g]; over periods [i,t,ω] or [i,g,t,ω]): placed + emergency + unmet = demand,
    placed + emergency <= demand; the rows of municipalities.csv (per municipality in a snapshot, per unit over
    periods) state demand, placed and unmet truly."""
    for c in ctx.cases:
        for u, d in ctx.demand[c].items():
            got, extra = ctx.unit_placed.get((u, c), 0.0), ctx.emergency.get((u, c), 0.0)
            if got + extra > d + ABS_TOL or extra < -ABS_TOL:
                what = f"placed {got:g} and emergency {extra:g} exceed" if extra else f"placed {got:g} exceeds"
                report.add(f"demand_balance[{unit_label(u)}{at(c)}]", f"{what} demand {d}")
    _balance_rows(ctx, report)


def _balance_rows(ctx, report) -> None:
    """municipalities.csv's demand, placed and unmet against the demand and the placements, and no row missing."""
    key = (lambda u: u) if ctx.by_unit else municipality
    demand = _by_row(key, ((u, c, d) for c, units in ctx.demand.items() for u, d in units.items()))
    placed = _by_row(key, ((u, c, q) for (u, c), q in ctx.unit_placed.items()))
    emergency = _by_row(key, ((u, c, q) for (u, c), q in ctx.emergency.items()))
    listed = set()
    for k, c, row in ctx.balance_rows:
        listed.add((k, c))
        name = f"demand_balance[{unit_label(k)}{at(c)}]"
        if (k, c) not in demand:
            report.add(name, "not a municipality, period and scenario of the plan")
            continue
        d, got, extra = demand[(k, c)], placed[(k, c)], emergency[(k, c)]
        if abs(float(row.demand) - d) > ABS_TOL:
            report.add(name, f"municipalities.csv says demand {row.demand:g}, the instance gives {d:g}")
        if abs(float(row.placed) - got) > ABS_TOL:
            report.add(name, f"municipalities.csv says placed {row.placed:g}, the placements give {got:g}")
        if abs(float(row.unmet) - (d - got - extra)) > ABS_TOL:
            less = f" and emergency {extra:g}" if extra else ""
            report.add(name, f"unmet {row.unmet:g} is not demand {d:g} minus placed {got:g}{less}")
    missing = set(demand) - listed
    if missing:
        report.add("municipalities", f"{len(missing)} rows missing, e.g. {sorted(missing)[:3]}")


def _by_row(key, entries) -> dict:
    """Sums of (unit, case, value) per row of municipalities.csv: (key(unit), case)."""
    out = defaultdict(float)
    for u, c, v in entries:
        out[(key(u), c)] += v
    return out


def check_site_capacity(ctx, report) -> None:
    """site_capacity[s] (over periods [s,t,ω]): the places at s are at most C_s when open, none otherwise; the site
    table (sites.csv, timeline.csv) states them truly."""
    sites = ctx.instance.sites
    for (s, c), state in ctx.state.items():
        load = ctx.load.get((s, c), 0.0)
        allowed = int(sites.at[s, "capacity"]) if state == "open" else 0
        if load > allowed + ABS_TOL:
            report.add(f"site_capacity[{s}{at(c)}]", f"holds {load:g} places, allowed {allowed} ({state})")
        claimed = ctx.claimed_load[(s, c)]
        if abs(claimed - load) > ABS_TOL:
            report.add(
                f"{ctx.site_table}[{s}{at(c)}]", f"placed column says {claimed:g}, placements add up to {load:g}"
            )


def check_group_capacity(ctx, report) -> None:
    """group_capacity[s,g] (over periods [s,g,t,ω]): the places of group g at s are at most C_sg (site_groups.csv)."""
    if not ctx.grouped:
        return
    load = defaultdict(float)
    for ((_i, g), s, c), q in ctx.placed.items():
        load[(s, g, c)] += q
    for (s, g, c), q in load.items():
        cap = ctx.site_groups.get((s, g), (None, None))[0]
        if cap is not None and q > cap + ABS_TOL:
            report.add(f"group_capacity[{s},{g}{at(c)}]", f"holds {q:g} places of group {g}, allowed {cap}")


def check_site_min_size(ctx, report) -> None:
    """site_min_size[s] (over periods [s,t,ω]): an open site holds at least m_s places (placed, and any spare places a
    decision keeps)."""
    sites = ctx.instance.sites
    for (s, c), state in ctx.state.items():
        load = ctx.load.get((s, c), 0.0) + float(ctx.spare.get(s, 0.0))
        low = int(sites.at[s, "min_size"])
        if state == "open" and load < low - ABS_TOL:
            report.add(f"site_min_size[{s}{at(c)}]", f"holds {load:g} places, minimum {low}")


def check_large_site_per_province(ctx, report) -> None:
    """large_site_per_province[p] (over periods [p,t]): the number of open large sites obeys large_site_rule in every
    province with demand or large sites, over the large sites that may be open (earliest_open)."""
    rule = LargeSiteRule(ctx.policy.large_site_rule)
    if rule is LargeSiteRule.OFF:
        return
    sites, province_of = ctx.instance.sites, ctx.instance.municipalities["province"]
    large = {
        p: list(sites.index[(sites["kind"] == "large") & (sites["province"] == p)])
        for p in ctx.instance.provinces.index
    }
    for c in ctx.cases:
        demand = defaultdict(int)
        for u, d in ctx.demand[c].items():
            demand[province_of[municipality(u)]] += d
        for p, own in large.items():
            available = [s for s in own if _may_open(ctx, s, c)]
            if not available and (own or not demand[p]):
                continue
            count = sum(ctx.state[(s, c)] == "open" for s in available)
            if not rule.allows(count):
                t, note = site_plan_at(c)
                report.add(
                    f"large_site_per_province[{p}{t}]", f"{count} large sites open, rule is '{rule.value}' one{note}"
                )


def _may_open(ctx, s: str, c: tuple) -> bool:
    """The site may be in service in the case: from its earliest period on (always in a snapshot)."""
    earliest = ctx.life(s, "earliest_open")
    return earliest is None or ctx.position(earliest) <= ctx.position(c[0])


def check_operator_choice(ctx, report) -> None:
    """operator_choice[l] (over periods [l,t]): one operator runs a site: at most one of its variants
    (site_operators.csv) open, or on standby."""
    for location, sites in operator_variants(ctx.instance).items():
        for c in ctx.cases:
            running = [s for s in sites if ctx.state.get((s, c), "closed") != "closed"]
            if len(running) > 1:
                t, note = site_plan_at(c)
                report.add(
                    f"operator_choice[{location}{t}]", f"{len(running)} operators run it: {', '.join(running)}{note}"
                )


def check_fixings(ctx, report) -> None:
    """open_site: existing sites open (keep_existing_open; over periods until their contract end), forced sites open
    (from their earliest period), forbidden sites closed."""
    sites, policy = ctx.instance.sites, ctx.policy
    for (s, c), state in ctx.state.items():
        t, note = site_plan_at(c)
        end = ctx.life(s, "contract_end")
        if (
            policy.keep_existing_open
            and sites.at[s, "status"] == "existing"
            and (end is None or ctx.position(c[0]) <= ctx.position(end))
            and state != "open"
        ):
            until = " before its contract end" if end is not None else ""
            report.add(f"open_site[{s}{t}]", f"existing site {state}{until} while keep_existing_open = true{note}")
        if s in policy.force_sites and _may_open(ctx, s, c) and state != "open":
            report.add(f"open_site[{s}{t}]", f"forced site is {state}{note}")
        if s in policy.forbid_sites and state != "closed":
            report.add(f"open_site[{s}{t}]", f"forbidden site is {state}{note}")


def check_arcs(ctx, report) -> None:
    """Every arc used in any case is eligible: reachable, travel time as claimed, within the travel limits, in the
    province, among the nearest regular sites, and a site that takes the group."""
    instance, policy = ctx.instance, ctx.policy
    farthest: dict[str, tuple[float, str]] = {}
    seen = set()
    for row, u, t in zip(ctx.placements.itertuples(), ctx.units, ctx.minutes):
        if (u, row.site) in seen:
            continue
        seen.add((u, row.site))
        for message in _arc_violations(instance, policy, row, t) + _group_violations(ctx, row, t):
            report.add(placed_name(u, row.site), message)
        regular = instance.sites.at[row.site, "kind"] == "regular"
        if (
            regular
            and policy.nearest_regular_sites is not None
            and math.isfinite(t)
            and t > farthest.get(row.municipality, (-1.0, ""))[0]
        ):
            farthest[row.municipality] = (t, row.site)
    if not farthest:
        return
    # Only each municipality's farthest regular site can break nearest_regular_sites: nearer ones have fewer sites in front.
    adjacency = network(instance) if instance.travel_mode == "network" else None
    access = regular_access(instance)
    for i, (t, site) in sorted(farthest.items()):
        nearer = nearer_regular_sites(instance, policy, adjacency, access, i, t)
        if nearer >= policy.nearest_regular_sites:
            report.add(
                f"placed[{i},{site}]",
                f"{nearer} eligible regular sites are nearer, nearest_regular_sites = {policy.nearest_regular_sites}",
            )


def _arc_violations(instance, policy, row, t: float) -> list[str]:
    """What is wrong with one placement's arc, given its recomputed travel time ``t``."""
    if math.isinf(t):
        return ["the site cannot be reached from the municipality"]
    out = []
    if abs(t - row.travel_minutes) > 1e-3 * max(1.0, t):
        out.append(f"travel_minutes says {row.travel_minutes:g}, recomputed {t:.4f}")
    if policy.max_travel_minutes is not None and t > policy.max_travel_minutes + 1e-6:
        out.append(f"travel {t:.1f} min exceeds max_travel_minutes {policy.max_travel_minutes:g}")
    kind = instance.sites.at[row.site, "kind"]
    for own, key in (("regular", "max_travel_minutes_regular"), ("transit", "max_travel_minutes_transit")):
        limit = getattr(policy, key)
        if kind == own and limit is not None and t > limit + 1e-6:
            out.append(f"travel {t:.1f} min exceeds {key} {limit:g}")
    if (
        not policy.allow_cross_province
        and instance.municipalities.at[row.municipality, "province"] != instance.sites.at[row.site, "province"]
    ):
        out.append("crosses a province border while allow_cross_province = false")
    return out


def _group_violations(ctx, row, t: float) -> list[str]:
    """A group's arc: the site takes the group, and the trip keeps to the group's own travel limit."""
    if not ctx.grouped:
        return []
    groups = ctx.instance.groups
    out = []
    if (row.site, row.group) not in ctx.site_groups:
        out.append(f"site {row.site} does not take group {row.group} ({groups.name(row.group)})")
    limit = groups.table.at[row.group, "max_travel_minutes"]
    if not math.isnan(limit) and math.isfinite(t) and t > limit + 1e-6:
        out.append(f"travel {t:.1f} min exceeds the max_travel_minutes {limit:g} of group {row.group}")
    return out


def check_mean_travel_limit(ctx, report) -> None:
    """mean_travel_limit (over periods [t,ω]): person-minutes at most T_mean times the places placed."""
    limit = ctx.policy.mean_travel_limit_minutes
    if limit is None:
        return
    for c in ctx.cases:
        pm, placed = ctx.money[c]["person_minutes"], ctx.money[c]["placed"]
        if pm > limit * placed + 1e-6 * max(1.0, pm):
            report.add(f"mean_travel_limit{bracket(c)}", f"mean travel {pm / placed:.2f} min exceeds {limit:g}")


def check_budget_limit(ctx, report) -> None:
    """budget_limit (over periods [t,ω]): the money spent, at the instance's prices, within the budget (over periods
    the period's own, else the yearly one for the period's years)."""
    for c in ctx.cases:
        budget = ctx.budgets[c]
        spend = sum(ctx.money[c][k] for k in SPENT)
        if budget is not None and spend > budget + REL_TOL * max(1.0, budget):
            report.add(f"budget_limit{bracket(c)}", f"cost {spend:,.0f} exceeds budget {budget:,.0f}")


def task_shares(units, band: float) -> list[tuple[str, float, float, float, float, float]]:
    """(p, placed_p, least, task_p, task, placed nationally) per province with a task where placed_p falls below the least its share
    allows, (1 - b) (task_p / task) sum placed, from (province, demand, placed) per demand unit of the task."""
    task_of: dict[str, float] = defaultdict(float)
    placed_of: dict[str, float] = defaultdict(float)
    for p, demand, placed in units:
        task_of[p] += demand
        placed_of[p] += placed
    task, total = sum(task_of.values()), sum(placed_of.values())
    out = []
    for p, task_p in task_of.items():
        least = (1 - band) * task_p / task * total if task else 0.0
        if task_p > 0 and placed_of[p] < least - ABS_TOL * max(1.0, total):
            out.append((p, placed_of[p], least, task_p, task, total))
    return out


def check_fair_share(ctx, report) -> None:
    """fair_share[p] (over periods [p,t,ω]): each province with a task places at least (1 - b) times its share of the
    places placed nationally (policy fair_share_band b); the task: every municipality, or the groups with target
    province."""
    band = ctx.policy.fair_share_band
    if band is None:
        return
    province = ctx.instance.municipalities["province"]
    task_groups = set(ctx.instance.groups.province_groups) if ctx.grouped else set()
    for c in ctx.cases:
        units = [
            (province[municipality(u)], d, ctx.unit_placed.get((u, c), 0.0))
            for u, d in ctx.demand[c].items()
            if isinstance(u, str) or u[1] in task_groups
        ]
        for p, got, least, task_p, task, total in task_shares(units, band):
            report.add(
                f"fair_share[{p}{at(c)}]",
                f"places {got:g} of its task {task_p:g}, below {least:.4f} = (1 - {band:g}) x {task_p:g}/{task:g} "
                f"of the {total:g} placed nationally",
            )


def check_objective(ctx, report) -> None:
    """total_cost: the claimed objective is the recomputed one (over periods discounted, and weighted or worst over
    the scenarios); bound, absolute and relative gap agree with it."""
    summary = ctx.solution.summary
    claimed, objective = summary.get("objective"), ctx.objective
    # A snapshot's claim is held to the euro; over periods, to its relative float noise.
    tolerance = REL_TOL * max(1.0, abs(objective)) + 1e-6 if ctx.periods else OBJECTIVE_EUROS
    wrong = claimed is None or abs(claimed - objective) > tolerance
    if wrong:
        report.add("total_cost", f"solution claims {claimed}, recomputed {objective:.6f}")
    bound = summary.get("bound")
    if claimed is None or bound is None:
        return
    if bound > claimed + REL_TOL * max(1.0, abs(claimed)):
        report.add("bound", f"bound {bound} above the objective {claimed}")
    if wrong:
        return  # the gaps follow from a claim already reported as wrong
    if not close(summary.get("absolute_gap"), max(claimed - bound, 0.0)):
        report.add(
            "absolute_gap",
            f"summary says {summary.get('absolute_gap')}, objective minus bound is {max(claimed - bound, 0.0)}",
        )
    gap = 0.0 if claimed == bound else max(claimed - bound, 0.0) / max(abs(claimed), 1e-9)
    if not close(summary.get("gap"), gap, 1e-9):
        report.add("gap", f"summary says {summary.get('gap')}, recomputed {gap:.6g}")


def case_figures(ctx, c: tuple) -> dict:
    """Every figure of a case as recomputed from the tables and the instance's prices."""
    m = ctx.money[c]
    spend = sum(m[k] for k in SPENT)
    placed, budget = m["placed"], ctx.budgets[c]
    out = {
        "total_cost": spend,
        "fixed_cost": m["fixed"],
        "standby_cost": m["standby"],
        "event_cost": m["event"],
        "place_cost": m["place"],
        "emergency_cost": m["emergency"],
        "travel_value": m["travel"],
        "unmet_penalty": m["penalty"],
        "demand": m["demand"],
        "need": m["demand"],
        "placed": placed,
        "emergency": m["emergency_places"],
        "unmet": m["unmet"],
        "open_sites": int(m["open_sites"]),
        "open_large_sites": int(m["open_large_sites"]),
        "open_regular_sites": int(m["open_regular_sites"]),
        "mean_travel_minutes": m["person_minutes"] / placed if placed else None,
        "max_travel_minutes": m.get("longest"),
        "budget": budget,
        "budget_used": spend / budget if budget else None,
        "moves": m["moves"],
        "move_cost": m["move"],
    }
    reg = ctx.instance.horizon.registration if ctx.periods else None
    if reg is not None:
        at_centre = sum(q for (_u, s, cc), q in ctx.placed.items() if s == reg.site and cc == c)
        nights = round(365.25 * float(ctx.instance.horizon.periods.at[c[0], "years"]))
        out["person_nights_above_limit"] = max(at_centre + m["unmet"] - reg.limit, 0.0) * nights
    return out


# Figures stated rounded (the rest within float noise).
FIGURE_TOLERANCE = {
    "mean_travel_minutes": ROUNDED["mean_travel_minutes"],
    "budget_used": 5e-7 + 1e-12,
    "max_travel_minutes": 5e-5 + 1e-9,
}


def check_kpis(ctx, report) -> None:
    """Every figure the plan states per case (a snapshot's KPIs in summary.json, periods.csv's row of each period and
    scenario) against the one recomputed from the tables and the instance's prices."""
    for c in ctx.cases:
        claimed = ctx.claimed_figures.get(c)
        if claimed is None:
            report.add(f"periods.csv{bracket(c)}", "row missing")
            continue
        figures = case_figures(ctx, c)
        for key in ctx.figure_keys:
            a, b = claimed.get(key), figures[key]
            if not close(a, b, FIGURE_TOLERANCE.get(key)):
                row, says = (f"periods.csv{bracket(c)}", key) if c else (f"kpis.{key}", "summary")
                report.add(row, f"{says} says {a}, tables give {b}")


# The families every plan has, in the order reported; a new family adds its builder and its check side by side.
SHARED = (
    check_domains,
    check_demand_balance,
    check_site_capacity,
    check_group_capacity,
    check_site_min_size,
    check_large_site_per_province,
    check_operator_choice,
    check_fixings,
    check_arcs,
    check_mean_travel_limit,
    check_budget_limit,
    check_fair_share,
    check_objective,
    check_kpis,
)
