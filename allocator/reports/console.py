"""Readable console summaries of a solution."""

from __future__ import annotations

import textwrap

from ..core import fmt
from ..core.fmt import minutes, money, percent, places, status_text, table
from ..results.solution import Solution

# One table of status words for every command (core.fmt); kept here under their old names.
STATUS_TEXT, STATUS_WORD = fmt.STATUS_TEXT, fmt.STATUS_WORD


def format_summary(solution: Solution) -> str:
    """Status, the objective and its terms, costs, places and travel, then the table by province and the time of each phase."""
    s = solution.summary
    k = s["kpis"]
    cur = s["instance"].get("currency", "EUR")
    policy = s.get("policy") or {}
    each = (
        "at the penalties of their groups (unmet_penalty_by_group)"
        if policy.get("unmet_penalty_by_group")
        else f"x {money(policy.get('unmet_penalty'), cur)}"
    )
    unmet_term = money(k["unmet_penalty"], cur) + (f" ({places(k['unmet'])} places {each})" if k["unmet"] else "")
    lines = [
        instance_line(s, period_words(s)),
        status_line(s),
        f"Objective  {money(s['objective'], cur)} = cost {money(k['total_cost'], cur)} + travel value {money(k['travel_value'], cur)} + unmet penalty {unmet_term}",
        f"Bound      {money(s['bound'], cur)}   {gap_words(s, cur)}",
        f"Cost       {money(k['total_cost'], cur)} = fixed {money(k['fixed_cost'], cur)} + places {money(k['place_cost'], cur)}",
        f"Places     {places_line(solution)};  open sites {k['open_sites']} ({k['open_large_sites']} large, {k['open_regular_sites']} regular{transit_words(solution)})",
        f"Travel     mean {minutes(k['mean_travel_minutes'])}, max {minutes(k['max_travel_minutes'])} per placed person",
    ]
    if k.get("budget") is not None:
        lines.append(f"Budget     {money(k['budget'], cur)}, used {percent(k['budget_used'])}")
    lines += operator_lines(solution)
    idle = idle_line(solution, cur)
    if idle:
        lines.append(idle)
    lines += scope_lines(s, cur)
    lines += check_lines(s, "every constraint, table and the objective")
    lines += unmet_lines(solution)
    lines += ["", _province_lines(solution, cur)]
    if solution.national_groups:
        lines.append(targets_note(solution))
    shared = [b for b in s.get("block_gaps") or [] if len(b["provinces"]) > 1]
    for b in shared:
        lines.append(
            f"Gap of the block shared by {len(b['provinces'])} provinces (one solve: a national rule couples them): {money(b['absolute_gap'], cur)}"
        )
    if solution.groups is not None:
        lines += ["", format_groups(solution.groups)]
    lines += time_lines(s, ("load", "build", "heuristic", "handoff", "solve", "extract", "check", "write"))
    return "\n".join(lines)


# The lines every console summary shares, a snapshot's and a plan's over several periods.


def instance_line(summary: dict, after_name: str = "", before_costs: str = "") -> str:
    """The instance, the policy and what the costs are counted per."""
    inst = summary["instance"]
    return (
        f"Instance   {inst['name']}{after_name}  (policy: {summary['policy']['name']}; {before_costs}"
        f"costs per {inst.get('planning_period', 'planning period')})"
    )


def status_line(summary: dict) -> str:
    """The status in words, with the solver's message."""
    return f"Status     {status_text(summary['status'])}" + (
        f" ({summary['message']})" if summary.get("message") else ""
    )


def gap_words(summary: dict, cur: str) -> str:
    """The relative gap and, in money, the absolute one."""
    return f"gap {percent(summary['gap'])} ({money(summary['absolute_gap'], cur)})"


def check_lines(summary: dict, what: str) -> list[str]:
    """The outcome of the independent check, when it ran; ``what`` names what it recomputes."""
    check = summary.get("check")
    if check is None:
        return []
    if check["passed"]:
        return [f"Check      passed (independent recomputation of {what})"]
    return [f"Check      FAILED: {len(check['violations'])} violations"]


def time_lines(summary: dict, phases: tuple[str, ...]) -> list[str]:
    """The seconds of each phase that ran, in the order of ``phases``."""
    t = summary.get("timings") or {}
    shown = [f"{name} {t[name]:.2f}s" for name in phases if name in t]
    return ["", "Time       " + ", ".join(shown)] if shown else []


def transit_words(solution: Solution) -> str:
    """ ", N transit" when the instance has transit sites (status holders waiting near their home municipality)."""
    sites = solution.sites
    transit = sites[sites["kind"] == "transit"]
    return f", {int((transit['open_site'] > 0).sum())} transit" if len(transit) else ""


def operator_lines(solution: Solution) -> list[str]:
    """The open sites and their places by operator, for an instance whose sites may be run by several."""
    sites = solution.sites
    if "operator" not in sites:
        return []
    open_sites = sites[sites["open_site"] > 0]
    by = open_sites.groupby("operator", sort=True).agg(sites=("site", "size"), placed=("placed", "sum"))
    shown = "; ".join(f"{r.Index} {r.sites} open ({places(r.placed)} places)" for r in by.itertuples())
    return [f"Operators  {shown or 'no site open'}"]


def period_words(summary: dict) -> str:
    """ ", period t (scenario ω)" for a plan of one period of an instance with periods, else nothing."""
    at = summary["instance"].get("period")
    return f", period {at['period']} (scenario {at['scenario']})" if at else ""


def unmet_lines(solution: Solution) -> list[str]:
    """Who stays unplaced: the unmet rate (unmet / demand) per group and per province, highest first; nothing when
    every place is placed."""
    if not solution.kpis.get("unmet"):
        return []
    parts = []
    if solution.groups is not None:
        by_group = solution.groups.groupby("group", sort=False).agg(
            name=("group_name", "first"), demand=("demand", "sum"), unmet=("unmet", "sum")
        )
        parts.append(("by group", by_group))
    parts.append(("by province", solution.provinces.set_index("province")[["name", "demand", "unmet"]]))
    lines = []
    for label, rows in parts:
        rows = rows[rows["demand"] > 0].assign(rate=lambda r: r["unmet"] / r["demand"])
        shown = ", ".join(
            f"{r.name} {percent(r.rate)} ({places(r.unmet)})"
            for r in rows.sort_values("rate", ascending=False, kind="stable").itertuples()
        )
        lines += textwrap.wrap(f"Unmet      rate {label}: {shown}", width=120, subsequent_indent=" " * 11)
    return lines


def scope_lines(summary: dict, cur: str) -> list[str]:
    """What a plan of part of an instance answers for (``Plan``) and what lies outside it (``Outside``)."""
    scope = summary.get("scope")
    legacy = summary.get("province")
    if not isinstance(scope, dict):
        if isinstance(legacy, dict):
            return [
                f"Plan       provincial plan for {legacy['name']} ({legacy['province']}): its municipalities and sites, {percent(legacy['share'])} of the task"
            ]
        return []
    names = scope.get("names") or {}
    share = percent(scope.get("share"))
    merged = summary.get("merged")
    if isinstance(merged, dict):
        what = f"merged plans of {_listing(names)}: {share} of the task"
        gaps = merged.get("gaps") or []
        if gaps:
            what += f"; {len(gaps)} {'province has' if len(gaps) == 1 else 'provinces have'} no plan and {'is' if len(gaps) == 1 else 'are'} left out"
    elif isinstance(summary.get("decision"), dict):
        what = "the allocation decision: every province's plan kept, its shortfall closed"
    elif len(names) == 1:
        what = f"provincial plan for {_listing(names)}: its municipalities, the groups of its task and the sites that take them, {share} of the task"
    else:
        what = f"plan of {_listing(names)}: {share} of the task"
    lines = [f"Plan       {what}"]
    outside = scope.get("outside") or {}
    groups = outside.get("groups") or {}
    for g in groups.values():
        lines.append(
            f"Outside    {g['name']} ({g['target']} target): {places(g['demand'])} places in these provinces, planned nationally"
        )
    if outside.get("sites"):
        existing = outside.get("existing_sites", 0)
        lines.append(
            f"           {outside['sites']} sites that take only {'this group' if len(groups) == 1 else 'these groups'}"
            + (
                f", {existing} of them existing (fixed cost {money(outside['existing_fixed_cost'], cur)})"
                if existing
                else ""
            )
            + ": outside this plan, costs included"
        )
    return lines


def _listing(names: dict) -> str:
    shown = [f"{n} ({p})" for p, n in names.items()]
    return ", ".join(shown) if len(shown) <= 4 else ", ".join(shown[:3]) + f" and {len(shown) - 3} more provinces"


def places_line(solution: Solution) -> str:
    """Placed of demand and unmet; with national groups, the task and the national groups apart as well."""
    k = solution.kpis
    line = f"{places(k['placed'])} placed of {places(k['demand'])}"
    if not solution.national_groups:
        return f"{line}, unmet {places(k['unmet'])}"
    t = solution.by_target().sum()
    return (
        f"{line} (task {places(t['task'])} + national groups {places(t['national'])}), "
        f"unmet {places(k['unmet'])} (task {places(t['task_unmet'])}, national groups {places(t['national_unmet'])})"
    )


FIXING_WHY = {"existing": "existing, kept open by keep_existing_open", "forced": "forced open"}


def idle_line(solution: Solution, cur: str) -> str | None:
    """Open sites that hold no place but cost money (e.g. existing sites of groups a provincial plan leaves out)."""
    sites = solution.sites
    idle = sites[(sites["open_site"] == 1) & (sites["placed"] == 0) & (sites["fixed_cost"] > 0)]
    if not len(idle):
        return None
    why = ", ".join(
        f"{n} {FIXING_WHY.get(fixing, 'opened by the plan')}" for fixing, n in idle["fixing"].value_counts().items()
    )
    return f"Idle       {len(idle)} open sites hold no place ({why}): {money(idle['fixed_cost'].sum(), cur)} of the fixed cost"


def targets_note(solution: Solution) -> str:
    """What Task, National and Demand mean in the province tables of a plan with national groups."""
    text = (
        f"Task: the province's own groups ({', '.join(solution.task_groups)}); National: its part of the groups with a "
        f"national target ({', '.join(solution.national_groups)}); Demand = Task + National. Placed, unmet, realised "
        "and cost count every group."
    )
    return textwrap.fill(text, width=120)


def _province_lines(solution: Solution, cur: str) -> str:
    """Task (and national groups), placed, unmet, realisation, large site, sites, cost and the absolute gap of each province."""
    gaps: dict[str, float] = {}  # a province's blocks (one per set of groups that share sites) added up
    for b in solution.summary.get("block_gaps") or []:
        if len(b["provinces"]) == 1 and b["absolute_gap"] is not None:
            gaps[b["provinces"][0]] = gaps.get(b["provinces"][0], 0.0) + b["absolute_gap"]
    national = bool(solution.national_groups)
    split = solution.by_target()
    rows = []
    p = solution.provinces
    for r in p.itertuples():
        gap = (
            money(gaps[r.province], "").strip()
            if r.province in gaps
            else ("shared" if solution.summary.get("block_gaps") else "-")
        )
        demand = [places(split.at[r.province, "task"])]
        if national:
            demand += [places(split.at[r.province, "national"]), places(r.demand)]
        rows.append(
            [
                r.name,
                *demand,
                places(r.placed),
                places(r.unmet),
                percent(r.realisation),
                r.large_site_names or "-",
                str(r.open_sites),
                money(r.cost, "").strip(),
                gap,
            ]
        )
    total_demand = p["demand"].sum()
    demand = [places(split["task"].sum())]
    if national:
        demand += [places(split["national"].sum()), places(total_demand)]
    rows.append(
        [
            "Total",
            *demand,
            places(p["placed"].sum()),
            places(p["unmet"].sum()),
            percent(p["placed"].sum() / total_demand if total_demand else float("nan")),
            "",
            str(int(p["open_sites"].sum())),
            money(p["cost"].sum(), "").strip(),
            money(solution.summary.get("absolute_gap"), "").strip(),
        ]
    )
    demand = ["Task", "National", "Demand"] if national else ["Task"]
    headers = ["Province", *demand, "Placed", "Unmet", "Realised", "Large site", "Sites", f"Cost {cur}", f"Gap {cur}"]
    return table(headers, rows, "l" + "r" * len(demand) + "rrrlrrr")


def format_groups(groups) -> str:
    """Demand (the task of a group, or the province's share of a national target), placed and unmet by province and group, with the national totals."""
    rows = []
    for r in groups.itertuples():
        label = r.group_name + (" (national target)" if r.target == "national" else "")
        rows.append([r.name, label, places(r.demand), places(r.placed), places(r.unmet), percent(r.realisation)])
    for _, part in groups.groupby("group", sort=False):
        demand, placed = part["demand"].sum(), part["placed"].sum()
        label = part["group_name"].iloc[0] + (" (national target)" if part["target"].iloc[0] == "national" else "")
        share = placed / demand if demand else float("nan")
        rows.append(["Total", label, places(demand), places(placed), places(part["unmet"].sum()), percent(share)])
    body = table(["Province", "Group", "Demand", "Placed", "Unmet", "Realised"], rows, "llrrrr", total=False)
    lines = body.split("\n")
    rule = lines[1]
    return "\n".join(
        [*lines[: len(lines) - groups["group"].nunique()], rule, *lines[len(lines) - groups["group"].nunique() :]]
    )
