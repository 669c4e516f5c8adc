"""Readable console summaries of a solution."""

from __future__ import annotations

import math

from .solution import Solution

STATUS_TEXT = {
    "optimal": "optimal",
    "time_limit": "time limit reached: best plan found, not proven optimal",
    "time_limit_no_plan": "time limit reached before any plan was found",
    "infeasible": "infeasible: no plan satisfies every hard rule",
    "unbounded": "unbounded",
    "interrupted": "interrupted",
    "error": "error",
}


def money(value: float | None, currency: str = "EUR") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1e9:
        return f"{currency} {value / 1e9:,.3f} bn"
    if abs(value) >= 1e6:
        return f"{currency} {value / 1e6:,.1f} M"
    return f"{currency} {value:,.0f}"


def places(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def table(headers: list[str], rows: list[list[str]], align: str, total: bool = True) -> str:
    """Plain-text table; ``align`` has one 'l' or 'r' per column; ``total``: the last row is a total, ruled off."""
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(r) for r in rows]
    return "\n".join([line(headers), rule, *body[:-1], rule, body[-1]] if total and len(rows) > 1 else [line(headers), rule, *body])


def format_summary(solution: Solution) -> str:
    s = solution.summary
    k = s["kpis"]
    cur = s["instance"].get("currency", "EUR")
    lines = [
        f"Instance   {s['instance']['name']}  (policy: {s['policy']['name']}; costs per {s['instance'].get('planning_period', 'planning period')})",
        f"Status     {STATUS_TEXT.get(s['status'], s['status'])}" + (f" ({s['message']})" if s.get("message") else ""),
        f"Objective  {money(s['objective'], cur)}   bound {money(s['bound'], cur)}   gap {_pct(s['gap'])} ({money(s['absolute_gap'], cur)})",
        f"Cost       {money(k['total_cost'], cur)} = fixed {money(k['fixed_cost'], cur)} + places {money(k['place_cost'], cur)};  travel valued at {money(k['travel_value'], cur)}",
        f"Places     {places(k['placed'])} placed of {places(k['demand'])}, unmet {places(k['unmet'])};  open sites {k['open_sites']} ({k['open_large_sites']} large, {k['open_regular_sites']} regular)",
        f"Travel     mean {_minutes(k['mean_travel_minutes'])}, max {_minutes(k['max_travel_minutes'])} per placed person",
    ]
    if k.get("budget") is not None:
        lines.append(f"Budget     {money(k['budget'], cur)}, used {_pct(k['budget_used'])}")
    check = s.get("check")
    if check is not None:
        lines.append("Check      passed (independent recomputation of every constraint and the objective)" if check["passed"] else f"Check      FAILED: {len(check['violations'])} violations")
    rows = []
    p = solution.provinces
    for r in p.itertuples():
        rows.append([r.name, places(r.demand), places(r.placed), places(r.unmet), _pct(r.realisation), r.large_site_names or "-", str(r.open_sites), money(r.cost, "").strip()])
    rows.append(["Total", places(p["demand"].sum()), places(p["placed"].sum()), places(p["unmet"].sum()), _pct(p["placed"].sum() / p["demand"].sum() if p["demand"].sum() else float("nan")), "", str(int(p["open_sites"].sum())), money(p["cost"].sum(), "").strip()])
    lines += ["", table(["Province", "Task", "Placed", "Unmet", "Realised", "Large site", "Sites", f"Cost {cur}"], rows, "lrrrrlrr")]
    t = s.get("timings") or {}
    phases = [f"{name} {t[name]:.2f}s" for name in ("load", "build", "heuristic", "handoff", "solve", "extract", "check", "write") if name in t]
    if phases:
        lines += ["", "Time       " + ", ".join(phases)]
    return "\n".join(lines)


def _pct(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.2f}%" if x < 0.9995 or x > 1 else "100%" if x == 1 else f"{100 * x:.2f}%"


def _minutes(x) -> str:
    return "-" if x is None else f"{x:.1f} min"
