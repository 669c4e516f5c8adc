"""Readable console summaries of a plan over several periods: the plan, a compact timeline per
province, and the comparisons with the myopic baseline and with the plan for one scenario."""

from __future__ import annotations

import pandas as pd

from ..core.fmt import amount, money, percent, places, signed, table
from ..results.solution import HorizonSolution
from .console import check_lines, gap_words, instance_line, status_line, time_lines


def shown_scenario(solution: HorizonSolution) -> str:
    """The scenario whose timeline is shown: the one planned for, else mid, else the first."""
    scenarios = solution.summary["scenarios"]
    return "mid" if "mid" in scenarios else scenarios[0]


def format_horizon_summary(solution: HorizonSolution) -> str:
    """Status, objective, money and events, the timeline per province, the comparisons, and the time of each phase."""
    s = solution.summary
    cur = s["instance"].get("currency", "EUR")
    periods = [p["period"] for p in s["periods"]]
    weights = ", ".join(f"{w} {percent(v)}" for w, v in s["weights"].items())
    many = len(s["scenarios"]) > 1
    plan = {
        "integrated": "one site plan for every scenario" if many else "planned over the whole horizon",
        "myopic": "myopic: each period planned for itself" + (", per scenario" if many else ""),
    }
    lines = [
        instance_line(s, before_costs=f"{len(periods)} periods {periods[0]} … {periods[-1]}; "),
        f"Plan       {s['scenario']}: {plan.get(s['plan'], s['plan'])}; scenarios {weights}; risk {s['kpis']['risk']}"
        + (f"; discount {percent(s['policy']['discount_rate'])} a year" if s["policy"].get("discount_rate") else ""),
        status_line(s),
        f"Objective  {money(s['objective'], cur)}   bound {money(s['bound'], cur)}   {gap_words(s, cur)}",
    ]
    lines += _scenario_lines(solution, cur)
    lines += check_lines(s, "every rule, every event and the objective")
    shown = shown_scenario(solution)
    lines += [
        "",
        f"Timeline ({shown}): sites open per period, s = on standby, + opened, - closed",
        format_timeline(solution, shown),
    ]
    if s.get("groups"):
        lines += [
            "",
            f"Groups ({shown}): placed of the need per period, with the places unmet",
            format_group_periods(solution, shown),
        ]
    if housing_shown(s):
        lines += ["", housing_title(s, shown), format_housing(solution, shown)]
    lines += transit_lines(solution, shown)
    if s.get("baseline"):
        baseline = s["baseline"]
        lines += [
            "",
            f"Baseline   not compared: {baseline.get('status', '').replace('_', ' ')}"
            + (f" ({baseline['message']})" if baseline.get("message") else "")
            + "; a longer --time-limit gives the baselines their share",
        ]
    if solution.comparison is not None:
        lines += [
            "",
            "Looking ahead against the myopic baseline",
            format_comparison(solution.comparison, cur),
        ]
    if solution.robustness is not None and len(solution.robustness):
        lines += ["", format_robustness(solution, cur)]
    lines += time_lines(s, ("load", "build", "heuristic", "handoff", "solve", "extract", "check", "baseline", "write"))
    return "\n".join(lines)


def _scenario_lines(solution: HorizonSolution, cur: str) -> list[str]:
    rows = []
    for r in solution.scenarios.itertuples():
        rows.append(
            [
                r.scenario,
                money(r.total_cost, "").strip(),
                money(r.site_cost, "").strip(),
                money(r.place_cost, "").strip(),
                money(r.emergency_cost, "").strip(),
                str(r.openings),
                str(r.closings),
                places(r.moves),
                str(r.extensions),
                places(r.emergency),
                places(r.unmet),
                str(r.nights_above_limit),
            ]
        )
    header = [
        "Scenario",
        f"Cost {cur}",
        "sites",
        "places",
        "emergency",
        "Openings",
        "Closings",
        "Moves",
        "Extensions",
        "Emergency place-periods",
        "Unmet place-periods",
        "Nights > limit",
    ]
    return ["", table(header, rows, "l" + "r" * (len(header) - 1), total=False)]


def format_timeline(solution: HorizonSolution, scenario: str) -> str:
    """One row per province, one column per period: sites open (standby, openings, closings)."""
    tl = solution.timeline[solution.timeline["scenario"] == scenario]
    periods = [p["period"] for p in solution.summary["periods"]]
    names = solution.provinces.drop_duplicates("province").set_index("province")["name"]
    rows = []
    for p, name in names.items():
        group = tl[tl["province"] == p]
        cells = [name]
        for t in periods:
            g = group[group["period"] == t]
            cell = str(int((g["state"] == "open").sum()))
            standby = int((g["state"] == "standby").sum())
            opened, closed = int((g["event"] == "opening").sum()), int((g["event"] == "closing").sum())
            cell += (
                (f" s{standby}" if standby else "")
                + (f" +{opened}" if opened else "")
                + (f" -{closed}" if closed else "")
            )
            cells.append(cell)
        rows.append(cells)
    return table(["Province", *periods], rows, "l" + "r" * len(periods), total=False)


def format_comparison(comparison: pd.DataFrame, cur: str) -> str:
    """Per scenario: the plan made for it alone against the myopic plan reacting to it (and the band plan, if any)."""
    band = "band" in set(comparison["plan"])
    rows = []
    for scenario, group in comparison.groupby("scenario", sort=False):
        g = group.set_index("plan")
        a, b = g.loc["integrated"], g.loc["myopic"]
        row = [
            scenario,
            money(a["total_cost"], "").strip(),
            money(b["total_cost"], "").strip(),
            signed(b["total_cost"] - a["total_cost"]),
            f"{int(a['openings'])} / {int(b['openings'])}",
            f"{int(a['closings'])} / {int(b['closings'])}",
            f"{places(a['moves'])} / {places(b['moves'])}",
            f"{places(a['emergency_place_periods'])} / {places(b['emergency_place_periods'])}",
            f"{places(a['unmet_place_periods'])} / {places(b['unmet_place_periods'])}",
        ]
        if band:
            row.append(money(g.loc["band", "total_cost"], "").strip())
        rows.append(row)
    header = [
        "Scenario",
        f"Integrated {cur}",
        f"Myopic {cur}",
        "Myopic - integrated",
        "Openings",
        "Closings",
        "Moves",
        "Emergency place-periods",
        "Unmet place-periods",
    ] + ([f"Band plan {cur}"] if band else [])
    note = (
        "(integrated: the plan made for the scenario over the whole horizon; myopic: each period planned for itself as the"
        " scenario unfolds; pairs are integrated / myopic; money spent, without the travel value; moves: people who"
        " leave a site whose load falls"
        + ("; band plan: the one plan for every scenario, in that scenario)" if band else ")")
    )
    return table(header, rows, "l" + "r" * (len(header) - 1), total=False) + "\n" + note


def format_robustness(solution: HorizonSolution, cur: str) -> str:
    """The band plan against the plan for one scenario alone, both evaluated in every scenario."""
    r = solution.robustness
    info = solution.summary.get("robustness") or {}
    ref = info.get("reference", "mid")
    rows = [
        [
            row.scenario,
            percent(row.weight),
            amount(row.band_plan),
            amount(getattr(row, f"{ref}_plan")),
            signed(row.difference),
        ]
        for row in r.itertuples()
    ]
    text = table(
        ["Scenario", "Weight", f"Band plan {cur}", f"{ref.capitalize()}-only plan {cur}", "Band - " + ref],
        rows,
        "lrrrr",
        total=False,
    )
    lines = [
        f"The band plan against the plan for {ref} alone (objective, each plan's sites fixed, placements re-solved per scenario)",
        text,
        f"Price of robustness  {money(info.get('price_of_robustness'), cur)} if {ref} happens; "
        f"{money(info.get('expected_difference'), cur)} in expectation",
        f"Regret               of the {ref}-only plan if {info.get('worst', 'high')} happens: {money(info.get('regret'), cur)}"
        f" (its cost there minus that of the plan made for {info.get('worst', 'high')} alone)",
    ]
    return "\n".join([*lines[:2], "", *lines[2:]])


REASONS = {
    "also alone": "as many as the half-year planned alone from the same sites leaves: what earlier steps left open (and the prices) cannot place them",
    "look-ahead": "chosen for the half-years ahead (the half-year planned alone from the same sites leaves {forced})",
    "time limit": "left by a solve stopped at its time limit (the half-year planned alone from the same sites leaves {forced})",
    "unknown": "not proven how many earlier steps force (the half-year planned alone was not solved to the end)",
}


def replay_unmet_lines(replay_table: pd.DataFrame) -> list[str]:
    """Per step that leaves places unmet, why (analysis.backtest.unmet_reason); nothing when none does."""
    lines = []
    for r in replay_table[replay_table["unmet"] > 0].itertuples():
        forced = "-" if pd.isna(r.unmet_forced) else places(r.unmet_forced)
        why = REASONS[r.unmet_reason].format(forced=forced)
        lines.append(f"Unmet    {r.period} {r.plan}: {places(r.unmet)} places, {why}")
    return [*lines, ""] if lines else []


def format_backtest(replay, cur: str = "EUR") -> str:
    """The replay half-year by half-year, both plans side by side, beside the observed number of COA locations."""
    table_ = replay.table
    observed = replay.history.set_index("period")["locations"]
    periods = list(dict.fromkeys(table_["period"]))
    rows = []
    for t in periods:
        row = [t, places(table_.loc[table_["period"] == t, "arrived"].iloc[0])]
        seen = observed.get(t)
        row.append("-" if seen is None or pd.isna(seen) else str(int(seen)))
        for plan in ("rolling", "myopic"):
            r = table_[(table_["period"] == t) & (table_["plan"] == plan)].iloc[0]
            row += [
                str(int(r["open_sites"])) + (f" s{int(r['standby_sites'])}" if r["standby_sites"] else ""),
                f"+{int(r['openings'])} -{int(r['closings'])}",
                places(r["moves"]),
                places(r["emergency"]),
                places(r["unmet"]),
                money(r["total_cost"], "").strip(),
            ]
        rows.append(row)
    header = [
        "Half-year",
        "Arrived",
        "COA locations",
        "Rolling sites",
        "events",
        "moves",
        "emergency",
        "unmet",
        f"cost {cur}",
        "Myopic sites",
        "events",
        "moves",
        "emergency",
        "unmet",
        f"cost {cur}",
    ]
    first, last = periods[0], periods[-1]
    lines = [
        f"Back-test {first} … {last} ({len(periods)} half-years): the rolling plan looks {replay.horizon} half-years ahead with the"
        " forecast known at each date and implements the first; the myopic plan sees each half-year alone.",
        "Both see the need that arrives in the half-year they implement. COA locations: as observed (history.csv), where a figure exists.",
        "",
        table(header, rows, "l" + "r" * (len(header) - 1), total=False),
        "",
        *replay_unmet_lines(table_),
    ]
    for r in replay.totals.itertuples():
        lines.append(
            f"{r.plan.capitalize():8} cost {money(r.total_cost, cur)} (sites {money(r.site_cost, cur)}, places {money(r.place_cost, cur)},"
            f" emergency {money(r.emergency_cost, cur)}"
            + (f", moves {money(r.move_cost, cur)}" if r.move_cost else "")
            + f"); {int(r.openings)} openings, {int(r.closings)} closings,"
            f" {places(r.moves)} moves;"
            f" {places(r.emergency)} emergency and {places(r.unmet)} unmet place-periods; {int(r.fewest_sites)}-{int(r.most_sites)} sites open"
        )
    for plan, statuses in replay.statuses.items():
        counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
        lines.append(f"{plan.capitalize():8} solves: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    lines.append(f"{replay.seconds:.0f} s for {2 * len(periods)} plans")
    return "\n".join(lines)


def format_group_periods(solution: HorizonSolution, scenario: str) -> str:
    """One row per demand group, one column per period: places placed of the need (unmet, and the unmet rate)."""
    mu = solution.municipalities[solution.municipalities["scenario"] == scenario]
    periods = [p["period"] for p in solution.summary["periods"]]
    totals = mu.groupby(["group", "period"])[["demand", "placed", "emergency", "unmet"]].sum()
    rows = []
    for g in solution.summary["groups"]:
        cells = [g["name"] + (" (national)" if g["target"] == "national" else "")]
        for t in periods:
            r = totals.loc[(g["group"], t)] if (g["group"], t) in totals.index else None
            if r is None:
                cells.append("0")
                continue
            cell = f"{places(r['placed'] + r['emergency'])} of {places(r['demand'])}"
            rate = f", {percent(r['unmet'] / r['demand'])}" if r["demand"] else ""
            cells.append(cell + (f" ({places(r['unmet'])} unmet{rate})" if r["unmet"] > 0 else ""))
        rows.append(cells)
    return table(["Group", *periods], rows, "l" + "r" * len(periods), total=False)


def housing_shown(summary: dict) -> bool:
    """Whether the plan leaves status holders of the housing task in reception: some housing rate below 1."""
    h = summary.get("housing")
    return bool(h) and (h["rate"] < 1 or any(r < 1 for r in h["rate_by_province"].values()))


def housing_title(summary: dict, scenario: str) -> str:
    """The heading of the housing table: the group and its rates."""
    h = summary["housing"]
    rates = f"housing_rate {h['rate']:g}" + "".join(f", {p} {r:g}" for p, r in h["rate_by_province"].items())
    return f"{h['name'].capitalize()} ({scenario}, {rates}): in reception, housed and waiting per period"


HOUSING_ROWS = (
    ("in_reception", "in reception (the need)"),
    ("task", "  of which the period's housing task"),
    ("extra_places", "  of which left from earlier periods (extra places against rate 1)"),
    ("housed", "housed during the period"),
    ("backlog", "waiting at its end"),
)


def housing_rows(summary: dict, scenario: str) -> tuple[list[str], list[list[str]]]:
    """The periods and one row per figure of HOUSING_ROWS for ``scenario``."""
    rows = [r for r in summary["housing"]["periods"] if r["scenario"] == scenario]
    return [r["period"] for r in rows], [[label, *(places(r[k]) for r in rows)] for k, label in HOUSING_ROWS]


def format_housing(solution: HorizonSolution, scenario: str) -> str:
    """One row per figure of the status holders (HOUSING_ROWS), one column per period."""
    periods, rows = housing_rows(solution.summary, scenario)
    return table(["Status holders", *periods], rows, "l" + "r" * len(periods), total=False)


def group_periods(solution: HorizonSolution, eligible: pd.DataFrame) -> pd.DataFrame:
    """Per demand group, scenario and period: need, placed, emergency and unmet places, and the places of the sites
    that take the group (``eligible``: site, group, capacity, the instance's groups.eligible) open, and on standby.

    A site that takes several groups counts for each, at its capacity for the group."""
    mu = solution.municipalities
    out = mu.groupby(["group", "scenario", "period"], sort=False)[["demand", "placed", "emergency", "unmet"]].sum()
    out = out.rename(columns={"demand": "need"})
    tl = solution.timeline[["site", "period", "scenario", "state"]].merge(eligible[["site", "group", "capacity"]])
    for state, column in (("open", "open_capacity"), ("standby", "standby_capacity")):
        held = tl[tl["state"] == state].groupby(["group", "scenario", "period"])["capacity"].sum()
        out[column] = held.reindex(out.index, fill_value=0)
    s = solution.summary
    ranks = {
        "group": {g["group"]: k for k, g in enumerate(s["groups"])},
        "scenario": {w: k for k, w in enumerate(s["scenarios"])},
        "period": {p["period"]: k for k, p in enumerate(s["periods"])},
    }
    out = out.reset_index()
    return out.sort_values(list(ranks), key=lambda column: column.map(ranks[column.name])).reset_index(drop=True)


def own_site_groups(eligible: pd.DataFrame, sites) -> list[str]:
    """The groups that only some sites take (the others: every site of the instance ``sites``)."""
    taken = eligible.groupby("group", sort=False)["site"].nunique()
    return [g for g, n in taken.items() if n < len(sites)]


def transit_periods(solution, shown: str) -> pd.DataFrame:
    """Per period (scenario ``shown``): the transit sites open and the status holders they hold, each a place less in
    asylum reception; empty without transit sites."""
    tl = solution.timeline
    transit = tl[(tl["kind"] == "transit") & (tl["scenario"] == shown)]
    return transit.groupby("period", sort=False).agg(
        sites=("state", lambda states: int((states == "open").sum())), placed=("placed", "sum")
    )


def transit_lines(solution, shown: str) -> list[str]:
    """The console's line of the transit sites per period; nothing without transit sites."""
    by_period = transit_periods(solution, shown)
    if by_period.empty:
        return []
    shown_periods = ", ".join(
        f"{t} {places(r.placed)} ({r.sites} open)" for t, r in zip(by_period.index, by_period.itertuples())
    )
    return ["", f"Transit    status holders at transit sites ({shown}): {shown_periods}"]
