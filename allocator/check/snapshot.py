"""A snapshot's solution folder read as the one case () of the checker's tables."""

from __future__ import annotations

from collections import defaultdict

from ..core.errors import Problem, SolutionError
from . import tables
from .context import ABS_TOL, Context, site_groups
from .demand import scaled_demand

# "merged": provincial plans assembled into one (allocator merge) whose optimality as a whole is not claimed.
PLAN_STATUSES = ("optimal", "time_limit", "error", "merged")

# What summary.json's KPIs state, each recomputed (check_kpis).
KPIS = (
    "total_cost",
    "fixed_cost",
    "place_cost",
    "travel_value",
    "unmet_penalty",
    "demand",
    "placed",
    "unmet",
    "open_sites",
    "open_large_sites",
    "open_regular_sites",
    "mean_travel_minutes",
    "max_travel_minutes",
    "budget",
    "budget_used",
)


def read_snapshot(solution, instance, policy, spare: dict) -> Context:
    """The context of a snapshot's plan. Raises SolutionError when the folder does not describe a plan of this
    instance (unknown or missing rows)."""
    check_rows(solution, instance)
    sites = solution.sites.set_index("site")
    mt = solution.municipalities.set_index("municipality")
    case = ()
    return Context(
        solution=solution,
        instance=instance,
        policy=policy,
        cases=[case],
        demand={case: unit_demand(instance, policy.demand_scale)},
        state={(s, case): {1: "open", 0: "closed"}.get(v, v) for s, v in sites["open_site"].items()},
        placements=solution.placements,
        row_cases=[case] * len(solution.placements),
        site_table="sites.csv",
        claimed_load={(s, case): float(q) for s, q in sites["placed"].items()},
        balance_rows=[(i, case, r) for i, r in zip(mt.index, mt.itertuples())],
        claimed_figures={case: solution.summary.get("kpis") or {}},
        figure_keys=KPIS,
        span={case: 1.0},
        discount={case: 1.0},
        weights={None: 1.0},
        budgets={case: policy.effective_budget(instance.budget)},
        spare=dict(spare),
        site_groups=site_groups(instance),
        sites=sites,
        municipalities=mt,
    )


def check_rows(solution, instance) -> None:
    """Every site, municipality and province of the instance has its row, and no table names an id the instance lacks.

    A folder that fails this does not describe a plan of this instance: SolutionError naming file and row.
    """
    problems: list[Problem] = []
    for label, table, column, known in (
        ("sites.csv", solution.sites, "site", instance.sites.index),
        ("municipalities.csv", solution.municipalities, "municipality", instance.municipalities.index),
        ("provinces.csv", solution.provinces, "province", instance.provinces.index),
        ("placements.csv", solution.placements, "site", instance.sites.index),
        ("placements.csv", solution.placements, "municipality", instance.municipalities.index),
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
    problems += _group_rows(solution, instance)
    if problems:
        raise SolutionError(problems)


def _group_rows(solution, instance) -> list[Problem]:
    """With demand groups: placements.csv has a group column naming known groups, and groups.csv exists."""
    if instance.groups is None:
        return []
    pl = solution.placements
    if "group" not in pl or solution.groups is None:
        return [
            Problem(
                "placements.csv",
                "the instance has demand groups: a group column and groups.csv are needed",
                column="group",
            )
        ]
    known = set(instance.groups.ids)
    return [
        Problem("placements.csv", "unknown group (not in the instance)", row=k + 2, column="group", value=g)
        for k, g in enumerate(pl["group"])
        if g not in known
    ]


def unit_demand(instance, scale: float) -> dict:
    """Demand per unit as the policy scales it: per municipality, or per municipality and group (each group on its own)."""
    muni = instance.municipalities
    if instance.groups is None:
        return scaled_demand({i: int(d) for i, d in muni["demand"].items()}, scale)
    out = {}
    for g in instance.groups.ids:
        own = scaled_demand({i: int(d) for i, d in instance.groups.demand[g].items()}, scale)
        out.update({(i, g): d for i, d in own.items()})
    return out


def check_groups_table(ctx, report) -> None:
    """groups.csv states each province's demand, placed and unmet per group as the placements and the instance give them."""
    if not ctx.grouped:
        return
    muni = ctx.instance.municipalities
    demand: dict[tuple[str, str], float] = defaultdict(float)
    for (i, g), d in ctx.demand[()].items():
        demand[(muni.at[i, "province"], g)] += d
    pl = ctx.placements
    placed = pl.groupby([pl["municipality"].map(muni["province"]), pl["group"]])["placed"].sum()
    claimed = {(r.province, r.group): r for r in ctx.solution.groups.itertuples()}
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


# What only a snapshot's folder states, after the shared families (families.SHARED) in the order reported.
SNAPSHOT = (
    check_groups_table,
    check_status,
    tables.check_placements_table,
    tables.check_sites_table,
    tables.check_municipalities_table,
    tables.check_provinces_table,
)
