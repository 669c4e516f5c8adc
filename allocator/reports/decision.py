"""An allocation decision in readable form: a console summary, and per province a text a ministry could attach to a letter."""

from __future__ import annotations

from ..core.fmt import amount, places, table
from .console import scope_lines


def letters(decision) -> dict[str, str]:
    """The readable summary of every province, keyed by province code."""
    return {p: letter(decision, p) for p in decision.provinces["province"]}


def letter(decision, province: str) -> str:
    """The decision for one province as markdown: shortfalls, places to realise and where, what stays, the cost."""
    row = decision.provinces.set_index("province").loc[province]
    cur = decision.summary["instance"].get("currency", "EUR")
    period = decision.summary["instance"].get("planning_period", "planning period")
    lines = [f"# Allocation decision: {row['name']} ({province})", ""]
    plan = f"plan submitted: {row['plan']}; plan {row['status']}" if row["plan"] else "no plan submitted"
    lines += [f"Instance {decision.summary['instance']['name']}; {plan}.", ""]
    if row["status"] == "complete":
        lines.append(
            f"The plan of {row['name']} meets its task for every group and keeps every rule: this decision changes nothing in {row['name']}."
        )
        return "\n".join(lines) + "\n"
    lines += ["## Task and shortfall", "", _group_table(decision, province), ""]
    lines += ["## Places to realise", ""]
    lines += _assignments(decision, province) or ["None."]
    lines += ["", "## What stays as planned", ""]
    lines += _kept(decision, province)
    lines += ["", f"## Cost ({cur} per {period})", ""]
    lines += _cost(decision, province, row, cur)
    return "\n".join(lines) + "\n"


def _group_table(decision, province: str) -> str:
    g = decision.groups[decision.groups["province"] == province]
    header = ["Group", "Task", "Committed", "Within reach", "Short", "Added", "Unmet"]
    rows = [
        [r.group_name, *(places(v) for v in (r.task, r.committed, r.within_reach, r.short, r.added, r.unmet))]
        for r in g.itertuples()
    ]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _assignments(decision, province: str) -> list[str]:
    """Per municipality that must realise places, per site: new, existing or committed, and the places per group."""
    sites = decision.sites[(decision.sites["province"] == province) & (decision.sites["added"] > 0)]
    names = dict(zip(decision.groups["group"], decision.groups["group_name"]))
    committed = set(decision.submitted["site"])
    fixing = dict(zip(decision.solution.sites["site"], decision.solution.sites["fixing"]))
    out = []
    for (m, who), part in sites.groupby(["municipality", "municipality_name"], sort=True):
        out.append(f"- {who} ({m}), {places(part['added'].sum())} places:")
        for site, rows in part.groupby("site", sort=False):
            if rows["new"].iloc[0]:
                where = "a new location"
            elif site in committed:
                where = "added to a committed location"
            elif fixing.get(site) == "existing":
                where = "added to an existing location"
            else:
                where = f"added to a location open in any case ({fixing.get(site) or 'fixed'})"
            what = ", ".join(f"{places(q)} {names.get(g, g)}" for q, g in zip(rows["added"], rows["group"]))
            out.append(f"  - {rows['name'].iloc[0]} [{site}], {where}: {what}")
    return out


def _kept(decision, province: str) -> list[str]:
    sites = decision.sites[(decision.sites["province"] == province) & (decision.sites["committed"] > 0)]
    if sites.empty:
        return ["The province committed no places."]
    names = dict(zip(decision.groups["group"], decision.groups["group_name"]))
    out = []
    for site, rows in sites.groupby("site", sort=False):
        what = ", ".join(f"{places(q)} {names.get(g, g)}" for q, g in zip(rows["committed"], rows["group"]))
        out.append(f"- {rows['name'].iloc[0]} [{site}]: {what}")
    return [*out, "", "No committed place moves."]


def _cost(decision, province: str, row, cur: str) -> list[str]:
    sites = decision.sites[decision.sites["province"] == province]
    opened = sites[sites["new"] == 1]["site"].nunique()
    return [
        f"- locations opened by this decision: {opened}, fixed cost {cur} {amount(sites['fixed_cost'].sum())}",
        f"- places added: {places(row['added'])}, cost {cur} {amount(sites['place_cost'].sum())}",
        f"- decision cost (with travel valued and any unmet place penalised): {cur} {amount(row['decision_cost'])}",
        f"- cost of what stays as it is (the plan's commitments and the sites open in any case): {cur} {amount(row['committed_cost'])}",
        f"- places still unmet after this decision: {places(row['unmet'])}",
    ]


def format_decision(decision) -> str:
    """Console summary: status, cost, and a row per province (plan, shortfall, places added, new sites, cost)."""
    s = decision.summary
    cur = s["instance"].get("currency", "EUR")
    p = decision.provinces
    rows = [
        [
            r.name,
            r.status,
            places(r.task),
            places(r.committed),
            places(r.short),
            places(r.added),
            str(r.new_sites),
            places(r.unmet),
            amount(r.decision_cost),
        ]
        for r in p.itertuples()
    ]
    rows.append(
        [
            "Total",
            "",
            *(places(p[c].sum()) for c in ("task", "committed", "short", "added")),
            str(int(p["new_sites"].sum())),
            places(p["unmet"].sum()),
            amount(p["decision_cost"].sum()),
        ]
    )
    check = s.get("check") or {}
    d = s["decision"]
    lines = [
        f"Decision   {s['instance']['name']}  (policy: {s['policy']['name']}; plans: {', '.join(d['plans'].values()) or 'none'})",
        f"Status     {s['status']}" + (f" ({s['message']})" if s.get("message") else ""),
        f"Cost       decision {cur} {amount(d['cost'])}; what stays as it is (the plans' commitments and the sites open in any case) {cur} {amount(d['committed_cost'])}",
        *[line for line in scope_lines(s, cur) if not line.startswith("Plan ")],
        *(
            [
                f"Spare      {places(d['spare_places'])} places kept or added serve nobody within reach (cost {cur} "
                f"{amount(d['spare_cost'])}): in decision_sites.csv, not in the solution tables"
            ]
            if d.get("spare_places")
            else []
        ),
        "Check      passed (independent recomputation of the decided plan, every rule and the decision's cost)"
        if check.get("passed")
        else f"Check      FAILED: {len(check.get('violations', []))} violations",
        "",
        table(
            ["Province", "Plan", "Task", "Committed", "Short", "Added", "New sites", "Unmet", f"Cost {cur}"],
            rows,
            "llrrrrrrr",
        ),
    ]
    return "\n".join(lines)
