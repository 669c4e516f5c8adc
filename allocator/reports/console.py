"""Readable console summaries of a solution."""

from __future__ import annotations

from ..core.fmt import minutes, money, percent, places, table
from ..results.solution import Solution
from ..solve.options import Status

STATUS_TEXT = {
    Status.OPTIMAL: "optimal",
    Status.TIME_LIMIT: "time limit reached: best plan found, not proven optimal",
    Status.TIME_LIMIT_NO_PLAN: "time limit reached before any plan was found",
    Status.INFEASIBLE: "infeasible: no plan satisfies every hard rule",
    Status.UNBOUNDED: "unbounded",
    Status.INTERRUPTED: "interrupted",
    Status.ERROR: "error",
}


def format_summary(solution: Solution) -> str:
    """Status, objective, costs, places and travel, then the table by province and the time of each phase."""
    s = solution.summary
    k = s["kpis"]
    cur = s["instance"].get("currency", "EUR")
    lines = [
        f"Instance   {s['instance']['name']}  (policy: {s['policy']['name']}; costs per {s['instance'].get('planning_period', 'planning period')})",
        f"Status     {STATUS_TEXT.get(s['status'], s['status'])}" + (f" ({s['message']})" if s.get("message") else ""),
        f"Objective  {money(s['objective'], cur)}   bound {money(s['bound'], cur)}   gap {percent(s['gap'])} ({money(s['absolute_gap'], cur)})",
        f"Cost       {money(k['total_cost'], cur)} = fixed {money(k['fixed_cost'], cur)} + places {money(k['place_cost'], cur)};  travel valued at {money(k['travel_value'], cur)}",
        f"Places     {places(k['placed'])} placed of {places(k['demand'])}, unmet {places(k['unmet'])};  open sites {k['open_sites']} ({k['open_large_sites']} large, {k['open_regular_sites']} regular)",
        f"Travel     mean {minutes(k['mean_travel_minutes'])}, max {minutes(k['max_travel_minutes'])} per placed person",
    ]
    if k.get("budget") is not None:
        lines.append(f"Budget     {money(k['budget'], cur)}, used {percent(k['budget_used'])}")
    check = s.get("check")
    if check is not None:
        lines.append(
            "Check      passed (independent recomputation of every constraint and the objective)"
            if check["passed"]
            else f"Check      FAILED: {len(check['violations'])} violations"
        )
    rows = []
    p = solution.provinces
    for r in p.itertuples():
        rows.append(
            [
                r.name,
                places(r.demand),
                places(r.placed),
                places(r.unmet),
                percent(r.realisation),
                r.large_site_names or "-",
                str(r.open_sites),
                money(r.cost, "").strip(),
            ]
        )
    rows.append(
        [
            "Total",
            places(p["demand"].sum()),
            places(p["placed"].sum()),
            places(p["unmet"].sum()),
            percent(p["placed"].sum() / p["demand"].sum() if p["demand"].sum() else float("nan")),
            "",
            str(int(p["open_sites"].sum())),
            money(p["cost"].sum(), "").strip(),
        ]
    )
    lines += [
        "",
        table(
            ["Province", "Task", "Placed", "Unmet", "Realised", "Large site", "Sites", f"Cost {cur}"], rows, "lrrrrlrr"
        ),
    ]
    t = s.get("timings") or {}
    phases = [
        f"{name} {t[name]:.2f}s"
        for name in ("load", "build", "heuristic", "handoff", "solve", "extract", "check", "write")
        if name in t
    ]
    if phases:
        lines += ["", "Time       " + ", ".join(phases)]
    return "\n".join(lines)
