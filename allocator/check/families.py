"""One check per constraint family of models/README.md, named like the model's builders.

Each check reads the Context (the solution's tables and what was recomputed from them) and adds
one violation per broken row to the report, named as the model names the row.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..core.errors import Problem, SolutionError
from ..data.policy import LargeSiteRule
from .tables import OBJECTIVE_EUROS, ROUNDED, close
from .travel import nearer_regular_sites, network, regular_access

ABS_TOL = 1e-6  # places
REL_TOL = 1e-7  # money, relative to the objective
# "merged": provincial plans assembled into one (allocator merge) whose optimality as a whole is not claimed.
PLAN_STATUSES = ("optimal", "time_limit", "error", "merged")


def check_instance(ctx, report) -> None:
    """The solution was made for this version of the instance (same fingerprint)."""
    fingerprint = (ctx.solution.summary.get("instance") or {}).get("fingerprint")
    if fingerprint != ctx.instance.fingerprint:
        report.add(
            "instance",
            f"the solution was made for another version of the instance (fingerprint {str(fingerprint)[:12]} vs {ctx.instance.fingerprint[:12]})",
        )


def check_rows(ctx) -> None:
    """Every site, municipality and province of the instance has its row, and no table names an id the instance lacks.

    A folder that fails this does not describe a plan of this instance: SolutionError naming file and row.
    """
    inst = ctx.instance
    problems: list[Problem] = []
    for label, table, column, known in (
        ("sites.csv", ctx.solution.sites, "site", inst.sites.index),
        ("municipalities.csv", ctx.solution.municipalities, "municipality", inst.municipalities.index),
        ("provinces.csv", ctx.solution.provinces, "province", inst.provinces.index),
        ("placements.csv", ctx.placements, "site", inst.sites.index),
        ("placements.csv", ctx.placements, "municipality", inst.municipalities.index),
    ):
        known = set(known)
        for k, value in enumerate(table[column]):
            if value not in known:
                problems.append(
                    Problem(label, f"unknown {column} (not in the instance)", row=k + 2, column=column, value=value)
                )
        if label != "placements.csv":
            for missing in sorted(known - set(table[column])):
                problems.append(Problem(label, f"the instance's {column} has no row", column=column, value=missing))
    problems += _group_rows(ctx)
    if problems:
        raise SolutionError(problems)


def _group_rows(ctx) -> list[Problem]:
    """With demand groups: placements.csv has a group column naming known groups, and groups.csv exists."""
    if not ctx.grouped:
        return []
    pl = ctx.placements
    if "group" not in pl or ctx.solution.groups is None:
        return [
            Problem(
                "placements.csv",
                "the instance has demand groups: a group column and groups.csv are needed",
                column="group",
            )
        ]
    known = set(ctx.instance.groups.ids)
    return [
        Problem("placements.csv", "unknown group (not in the instance)", row=k + 2, column="group", value=g)
        for k, g in enumerate(pl["group"])
        if g not in known
    ]


def placed_name(row) -> str:
    """placed[i,s] or placed[i,s,g], as the model names the variable of a placement row."""
    group = getattr(row, "group", None)
    return (
        f"placed[{row.municipality},{row.site}]" if group is None else f"placed[{row.municipality},{row.site},{group}]"
    )


def check_domains(ctx, report) -> None:
    """open_site in {0,1}; placed >= 0, whole unless whole_places = false, each arc listed once."""
    for s, value in ctx.sites["open_site"].items():
        if value not in (0, 1):
            report.add(f"open_site[{s}]", f"must be 0 or 1, is {value}")
    pl = ctx.placements
    for row in pl.itertuples():
        if row.placed < -ABS_TOL:
            report.add(placed_name(row), f"negative ({row.placed})")
        if ctx.policy.whole_places and abs(row.placed - round(row.placed)) > ABS_TOL:
            report.add(placed_name(row), f"not a whole number of places ({row.placed})")
    key = ["municipality", "site", "group"] if ctx.grouped else ["municipality", "site"]
    for row in pl[pl.duplicated(key)].itertuples():
        report.add(placed_name(row), "listed twice in placements.csv")


def check_demand_balance(ctx, report) -> None:
    """demand_balance[i] (or [i,g]): placed + unmet = demand, placed <= demand, and the tables state both truly."""
    for unit, d in ctx.demand.items():
        got = ctx.placed_at(unit)
        if got > d + ABS_TOL:
            name = unit if isinstance(unit, str) else ",".join(unit)
            report.add(f"demand_balance[{name}]", f"placed {got:g} exceeds demand {d}")
    totals: dict[str, float] = defaultdict(float)
    for unit, d in ctx.demand.items():
        totals[unit if isinstance(unit, str) else unit[0]] += d
    mt = ctx.municipalities
    placed = ctx.placements.groupby("municipality")["placed"].sum()
    for i in ctx.instance.municipalities.index:
        d, got = totals[i], float(placed.get(i, 0.0))
        if abs(float(mt.at[i, "demand"]) - d) > ABS_TOL:
            report.add(
                f"demand_balance[{i}]", f"municipalities.csv says demand {mt.at[i, 'demand']:g}, the instance gives {d}"
            )
        if abs(float(mt.at[i, "unmet"]) - (d - got)) > ABS_TOL:
            report.add(f"demand_balance[{i}]", f"unmet {mt.at[i, 'unmet']:g} is not demand {d} minus placed {got:g}")


def check_site_capacity(ctx, report) -> None:
    """site_capacity[s]: the places at s are at most C_s when open, none when closed; sites.csv states them truly."""
    sites, st = ctx.instance.sites, ctx.sites
    for s in sites.index:
        load = float(ctx.placed_by_site.get(s, 0.0))
        is_open = int(st.at[s, "open_site"]) == 1
        cap = int(sites.at[s, "capacity"])
        if load > (cap if is_open else 0) + ABS_TOL:
            report.add(
                f"site_capacity[{s}]",
                f"holds {load:g} places, allowed {cap if is_open else 0} ({'open' if is_open else 'closed'})",
            )
        if abs(float(st.at[s, "placed"]) - load) > ABS_TOL:
            report.add(f"sites.csv[{s}]", f"placed column says {st.at[s, 'placed']:g}, placements add up to {load:g}")


def check_group_capacity(ctx, report) -> None:
    """group_capacity[s,g]: the places of group g at s are at most C_sg (groups only; C_sg from site_groups.csv)."""
    if not ctx.grouped:
        return
    load = ctx.placements.groupby(["site", "group"])["placed"].sum()
    for (s, g), q in load.items():
        cap = ctx.site_groups.get((s, g), (None, None))[0]
        if cap is not None and q > cap + ABS_TOL:
            report.add(f"group_capacity[{s},{g}]", f"holds {q:g} places of group {g}, allowed {cap}")


def check_groups_table(ctx, report) -> None:
    """groups.csv states each province's demand, placed and unmet per group as the placements and the instance give them."""
    if not ctx.grouped:
        return
    muni = ctx.instance.municipalities
    demand: dict[tuple[str, str], float] = defaultdict(float)
    for (i, g), d in ctx.demand.items():
        demand[(muni.at[i, "province"], g)] += d
    pl = ctx.placements
    placed = pl.groupby([pl["municipality"].map(muni["province"]), pl["group"]])["placed"].sum()
    table = ctx.solution.groups
    claimed = {(r.province, r.group): r for r in table.itertuples()}
    for p in ctx.instance.provinces.index:
        for g in ctx.instance.groups.ids:
            row = claimed.get((p, g))
            if row is None:
                report.add(f"groups.csv[{p},{g}]", "row missing")
                continue
            want = {"demand": demand[(p, g)], "placed": float(placed.get((p, g), 0.0))}
            want["unmet"] = want["demand"] - want["placed"]
            for column, value in want.items():
                if abs(float(getattr(row, column)) - value) > ABS_TOL:
                    report.add(
                        f"groups.csv[{p},{g}]", f"{column} says {getattr(row, column):g}, the plan gives {value:g}"
                    )


def check_site_min_size(ctx, report) -> None:
    """site_min_size[s]: an open site holds at least m_s places (placed, and any spare places a decision keeps)."""
    sites, st = ctx.instance.sites, ctx.sites
    for s in sites.index:
        load = float(ctx.placed_by_site.get(s, 0.0)) + float(ctx.spare.get(s, 0.0))
        low = int(sites.at[s, "min_size"])
        if int(st.at[s, "open_site"]) == 1 and load < low - ABS_TOL:
            report.add(f"site_min_size[{s}]", f"holds {load:g} places, minimum {low}")


def check_large_site_per_province(ctx, report) -> None:
    """large_site_per_province[p]: the number of open large sites obeys large_site_rule in every province with demand or large sites."""
    rule = LargeSiteRule(ctx.policy.large_site_rule)
    if rule is LargeSiteRule.OFF:
        return
    muni, sites = ctx.instance.municipalities, ctx.instance.sites
    demand: dict[str, int] = defaultdict(int)
    for unit, d in ctx.demand.items():
        demand[muni.at[unit if isinstance(unit, str) else unit[0], "province"]] += d
    large = sites[sites["kind"] == "large"]
    for p in ctx.instance.provinces.index:
        candidates = list(large.index[large["province"] == p])
        if demand.get(p, 0) == 0 and not candidates:
            continue
        count = int(ctx.sites.loc[candidates, "open_site"].sum()) if candidates else 0
        if not rule.allows(count):
            report.add(f"large_site_per_province[{p}]", f"{count} large sites open, rule is '{rule.value}' one")


def check_fixings(ctx, report) -> None:
    """Existing sites open (keep_existing_open), forced sites open, forbidden sites closed."""
    sites, st, policy = ctx.instance.sites, ctx.sites, ctx.policy
    if policy.keep_existing_open:
        for s in sites.index[sites["status"] == "existing"]:
            if int(st.at[s, "open_site"]) != 1:
                report.add(f"open_site[{s}]", "existing site closed while keep_existing_open = true")
    for s in policy.force_sites:
        if s in st.index and int(st.at[s, "open_site"]) != 1:
            report.add(f"open_site[{s}]", "forced site is not open")
    for s in policy.forbid_sites:
        if s in st.index and int(st.at[s, "open_site"]) != 0:
            report.add(f"open_site[{s}]", "forbidden site is open")


def check_arcs(ctx, report) -> None:
    """Every placement uses an eligible arc: reachable, travel time as claimed, within the travel limits, in the province, among the nearest regular sites."""
    instance, policy = ctx.instance, ctx.policy
    farthest: dict[str, tuple[float, str]] = {}
    for row, t in zip(ctx.placements.itertuples(), ctx.minutes):
        for message in _arc_violations(instance, policy, row, t) + _group_violations(ctx, row, t):
            report.add(placed_name(row), message)
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
    regular = instance.sites.at[row.site, "kind"] == "regular"
    if abs(t - row.travel_minutes) > 1e-3 * max(1.0, t):
        out.append(f"travel_minutes says {row.travel_minutes:g}, recomputed {t:.4f}")
    if policy.max_travel_minutes is not None and t > policy.max_travel_minutes + 1e-6:
        out.append(f"travel {t:.1f} min exceeds max_travel_minutes {policy.max_travel_minutes:g}")
    if regular and policy.max_travel_minutes_regular is not None and t > policy.max_travel_minutes_regular + 1e-6:
        out.append(f"travel {t:.1f} min exceeds max_travel_minutes_regular {policy.max_travel_minutes_regular:g}")
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
    """mean_travel_limit: total person-minutes at most T_mean times the places placed."""
    limit = ctx.policy.mean_travel_limit_minutes
    placed = float(ctx.placements["placed"].sum())
    if limit is not None and ctx.person_minutes > limit * placed + 1e-6 * max(1.0, ctx.person_minutes):
        report.add("mean_travel_limit", f"mean travel {ctx.person_minutes / placed:.2f} min exceeds {limit:g}")


def check_budget_limit(ctx, report) -> None:
    """budget_limit: fixed cost plus place cost, at the instance's prices, within the budget."""
    budget = ctx.budget
    spend = ctx.fixed_cost + ctx.place_cost
    if budget is not None and spend > budget + REL_TOL * max(1.0, budget):
        report.add("budget_limit", f"cost {spend:,.0f} exceeds budget {budget:,.0f}")


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


def task_units(instance, demand: dict, placed) -> list[tuple[str, float, float]]:
    """(province, demand, placed) per demand unit of the provinces' task: every municipality, or the units of
    the groups with target province; ``placed(unit)`` gives a unit's places."""
    province = instance.municipalities["province"]
    task_groups = set(instance.groups.province_groups) if instance.groups is not None else set()
    return [
        (province[u if isinstance(u, str) else u[0]], d, placed(u))
        for u, d in demand.items()
        if isinstance(u, str) or u[1] in task_groups
    ]


def check_fair_share(ctx, report) -> None:
    """fair_share[p]: each province with a task places at least (1 - b) times its share of the places placed
    nationally (policy fair_share_band b)."""
    band = ctx.policy.fair_share_band
    if band is None:
        return
    for p, got, least, task_p, task, total in task_shares(task_units(ctx.instance, ctx.demand, ctx.placed_at), band):
        report.add(f"fair_share[{p}]", share_message(got, least, band, task_p, task, total))


def share_message(got: float, least: float, band: float, task_p: float, task: float, total: float) -> str:
    """What a broken fair_share row says: the places of the province and the least its share allows."""
    return (
        f"places {got:g} of its task {task_p:g}, below {least:.4f} = (1 - {band:g}) x {task_p:g}/{task:g} "
        f"of the {total:g} placed nationally"
    )


def check_objective(ctx, report) -> None:
    """total_cost: the claimed objective is the recomputed one to the euro; bound, absolute and relative gap agree with it."""
    summary = ctx.solution.summary
    claimed = summary.get("objective")
    if claimed is None or abs(claimed - ctx.objective) > OBJECTIVE_EUROS:
        report.add("total_cost", f"solution claims {claimed}, recomputed {ctx.objective:.6f}")
        return
    bound = summary.get("bound")
    if bound is None:
        return
    if bound > claimed + REL_TOL * max(1.0, abs(claimed)):
        report.add("bound", f"bound {bound} above the objective {claimed}")
    if not close(summary.get("absolute_gap"), max(claimed - bound, 0.0)):
        report.add(
            "absolute_gap",
            f"summary says {summary.get('absolute_gap')}, objective minus bound is {max(claimed - bound, 0.0)}",
        )
    gap = 0.0 if claimed == bound else max(claimed - bound, 0.0) / max(abs(claimed), 1e-9)
    if not close(summary.get("gap"), gap, 1e-9):
        report.add("gap", f"summary says {summary.get('gap')}, recomputed {gap:.6g}")


def check_status(ctx, report) -> None:
    """status: a folder holds a plan (optimal, time_limit, or error for a plan that failed its check); optimal means within the requested gap."""
    summary = ctx.solution.summary
    status = summary.get("status")
    if status not in PLAN_STATUSES:
        report.add("status", f"{status!r} is not the status of a plan ({', '.join(PLAN_STATUSES)})")
        return
    requested = (summary.get("options") or {}).get("gap")
    gap = summary.get("gap")
    if status == "optimal" and isinstance(requested, (int, float)) and (gap is None or gap > requested + 1e-12):
        report.add("status", f"optimal, but the gap {gap} exceeds the requested gap {requested:g}")


def check_kpis(ctx, report) -> None:
    """Every KPI in summary.json against the one recomputed from the tables and the instance's prices."""
    sites = ctx.instance.sites
    opened = ctx.sites.index[ctx.sites["open_site"] == 1]
    kinds = sites.loc[[s for s in opened if s in sites.index], "kind"]
    placed = float(ctx.placements["placed"].sum())
    finite = [t for t in ctx.minutes if math.isfinite(t)]
    spend = ctx.fixed_cost + ctx.place_cost
    recomputed = {
        "total_cost": spend,
        "fixed_cost": ctx.fixed_cost,
        "place_cost": ctx.place_cost,
        "travel_value": ctx.policy.travel_value * ctx.person_minutes,
        "unmet_penalty": ctx.unmet_penalty,
        "demand": float(sum(ctx.demand.values())),
        "placed": placed,
        "unmet": ctx.unmet,
        "open_sites": int(len(opened)),
        "open_large_sites": int((kinds == "large").sum()),
        "open_regular_sites": int((kinds == "regular").sum()),
        "mean_travel_minutes": ctx.person_minutes / placed if placed else None,
        "max_travel_minutes": max(finite) if finite else None,
        "budget": ctx.budget,
        "budget_used": spend / ctx.budget if ctx.budget else None,
    }
    tolerance = {
        "mean_travel_minutes": ROUNDED["mean_travel_minutes"],
        "budget_used": 5e-7 + 1e-12,
        "max_travel_minutes": 5e-5 + 1e-9,
    }
    claimed = ctx.solution.summary.get("kpis") or {}
    for key, b in recomputed.items():
        a = claimed.get(key)
        if not close(a, b, tolerance.get(key)):
            report.add(f"kpis.{key}", f"summary says {a}, tables give {b}")
