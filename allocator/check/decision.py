"""The independent check of an allocation decision, from its tables, the plans and the instance (no model, no solver).

The decided plan in the standard tables is checked like any solution (``check_solution``, over
the decision's scope); then one check per row family of the decision model (models/README.md,
"The allocation decision"): committed places kept, plans that were complete left untouched, sites
opened only where the decision opens them, capacities and minimum sizes of committed plus added
places, places counted only where they exist, demand, travel limits, the large-site rule, the
budget and the decision's cost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from ..data.plans import ALL, Plan, read_plans
from ..data.policy import LargeSiteRule, load_policy_dict, site_fixings
from ..data.province import scoped_instance, task_scope
from .checker import CheckReport, check_solution
from .context import ABS_TOL, REL_TOL
from .plans import check_plan
from .travel import placement_minutes


class _View:
    """What every check of a decision needs, recomputed once."""

    def __init__(self, decision, instance, policy, plan):
        # The decision answers for the provinces' task: the groups with a provincial target and their sites.
        task = scoped_instance(instance, task_scope(instance))
        self.decision, self.instance, self.policy, self.plan = decision, task, policy, plan
        verdicts = check_plan(plan, instance, policy, provinces=list(instance.provinces.index))
        self.decided = {v.province for v in verdicts if not v.complete}
        self.verdicts = {v.province: v for v in verdicts}
        sites = decision.sites
        self.load = defaultdict(float)  # (site, group) -> committed + added
        for r in sites.itertuples():
            if r.group:
                self.load[(r.site, r.group)] += r.committed + r.added
        self.site_load = defaultdict(float)
        for (s, _), q in self.load.items():
            self.site_load[s] += q
        self.new = set(sites.loc[sites["new"] == 1, "site"])
        fixed = site_fixings(task, policy)
        self.open_anyway = {s for s, f in fixed.items() if f.value == 1 and s in task.sites.index}
        self.committed_sites = set(plan.commitments["site"])
        self.takes = _takes(task)
        pl = decision.placements
        self.placements = pl if "group" in pl else pl.assign(group=ALL)

    def province_of_site(self, s: str) -> str:
        return self.instance.sites.at[s, "province"]

    def open_sites(self, province: str) -> set:
        sites = self.instance.sites
        own = set(sites.index[sites["province"] == province])
        return own & (self.new | self.open_anyway | self.committed_sites)


def _takes(instance) -> dict:
    sites = instance.sites
    if instance.groups is None:
        return {
            (s, ALL): (int(c), float(p)) for s, c, p in zip(sites.index, sites["capacity"], sites["cost_per_place"])
        }
    e = instance.groups.eligible
    return {(s, g): (int(c), float(p)) for s, g, c, p in zip(e["site"], e["group"], e["capacity"], e["cost_per_place"])}


def check_decision_folder(decision, instance, submitted: Path) -> CheckReport:
    """:func:`check_decision` of a decision read from its folder, under the policy its summary.json states and
    with the plans as it kept them (``submitted``: its submitted_plans.csv)."""
    policy = load_policy_dict(decision.summary.get("policy") or {})
    if decision.submitted.empty:
        plan = Plan(decision.submitted.assign(file="", row=0), {})
    else:
        plan = read_plans([submitted], instance)
        files = dict(zip(decision.submitted["province"], decision.submitted["source"]))
        plan = Plan(plan.commitments.assign(file=plan.commitments["province"].map(files)), files)
    report = check_decision(decision, instance, policy, plan)
    report.policy = policy.name
    return report


def spare_places(decision) -> dict[str, float]:
    """Per site, the places the decision keeps or adds (decision_sites.csv) beyond those placed (placements.csv)."""
    kept = decision.sites.groupby("site")[["committed", "added"]].sum().sum(axis=1)
    placed = decision.placements.groupby("site")["placed"].sum()
    spare = {s: q - float(placed.get(s, 0.0)) for s, q in kept.items()}
    return {s: q for s, q in spare.items() if q > ABS_TOL}


def check_decision(decision, instance, policy, plan) -> CheckReport:
    """Every violation of the decided plan (as a solution) and of the decision's rules, recomputed from its tables."""
    report = check_solution(decision.solution, instance, policy, spare_places(decision))
    if (decision.summary.get("instance") or {}).get("fingerprint") != instance.fingerprint:
        report.add("instance", "the decision was made for another version of the instance")
    view = _View(decision, instance, policy, plan)
    for check in (
        check_commitments_kept,
        check_untouched,
        check_new_sites,
        check_site_capacity,
        check_site_min_size,
        check_place_supply,
        check_demand_balance,
        check_arcs,
        check_large_site_per_province,
        check_budget_limit,
        check_decision_cost,
    ):
        check(view, report)
    return report


def check_commitments_kept(view, report) -> None:
    """Every committed place is in the decision, at its site, for its group."""
    plan = view.plan.commitments.groupby(["site", "group"])["places"].sum()
    stated = view.decision.sites.groupby(["site", "group"])["committed"].sum()
    for (s, g), q in plan.items():
        if abs(float(stated.get((s, g), 0.0)) - q) > ABS_TOL:
            report.add(
                f"committed[{s},{g}]", f"the plan commits {q:g} places, the decision keeps {stated.get((s, g), 0):g}"
            )


def check_untouched(view, report) -> None:
    """Provinces with a complete plan get nothing added and no site opened."""
    sites = view.decision.sites
    for p in set(view.instance.provinces.index) - view.decided:
        own = sites[sites["province"] == p]
        if float(own["added"].sum()) > ABS_TOL or int(own["new"].sum()) > 0:
            report.add(f"province[{p}]", "its plan is complete, yet the decision adds places or opens sites there")


def check_new_sites(view, report) -> None:
    """A site the decision opens (``new``) is neither open in any case (existing, forced) nor committed by a plan,
    holds places, or is the one large site its province needs under the large-site rule."""
    kind = view.instance.sites["kind"]
    for s in sorted(view.new):
        if s in view.open_anyway or s in view.committed_sites:
            report.add(
                f"decision_sites.csv[{s}]", "marked new, but the site is open in any case or committed by a plan"
            )
        elif view.site_load.get(s, 0.0) <= ABS_TOL:
            p = view.province_of_site(s)
            others = [t for t in view.open_sites(p) if t != s and kind[t] == "large"]
            if kind[s] != "large" or others or not LargeSiteRule(view.policy.large_site_rule).needs_one:
                report.add(f"decision_sites.csv[{s}]", "marked new, but the decision places nobody there")


def check_site_capacity(view, report) -> None:
    """site_capacity and group_capacity: committed plus added places within C_s and C_sg; only groups a site takes."""
    for (s, g), q in view.load.items():
        if (s, g) not in view.takes:
            report.add(f"added[{s},{g}]", f"site {s} does not take group {g}")
        elif q > view.takes[(s, g)][0] + ABS_TOL:
            report.add(f"group_capacity[{s},{g}]", f"{q:g} places, at most {view.takes[(s, g)][0]}")
    capacity = view.instance.sites["capacity"]
    for s, q in view.site_load.items():
        if q > capacity[s] + ABS_TOL:
            report.add(f"site_capacity[{s}]", f"{q:g} places, at most {capacity[s]}")


def check_site_min_size(view, report) -> None:
    """site_min_size: every open site of a decided province holds at least m_s places (committed plus added)."""
    low = view.instance.sites["min_size"]
    for p in view.decided:
        for s in view.open_sites(p):
            if view.site_load.get(s, 0.0) < low[s] - ABS_TOL:
                report.add(f"site_min_size[{s}]", f"{view.site_load.get(s, 0.0):g} places, minimum {low[s]}")


def check_place_supply(view, report) -> None:
    """place_supply: the places counted for municipalities at a site exist there (committed or added)."""
    pl = view.placements
    counted = pl.groupby(["site", "group"])["placed"].sum()
    for (s, g), q in counted.items():
        if q > view.load.get((s, g), 0.0) + ABS_TOL:
            report.add(f"place_supply[{s},{g}]", f"{q:g} places counted, {view.load.get((s, g), 0.0):g} exist")


def _demand(instance) -> dict:
    if instance.groups is None:
        return {(i, ALL): int(d) for i, d in instance.municipalities["demand"].items()}
    out = {}
    for g in instance.groups.province_groups:
        out.update({(i, g): int(d) for i, d in instance.groups.demand[g].items()})
    return out


def check_demand_balance(view, report) -> None:
    """demand_balance: no municipality gets more than its demand per group; groups.csv states placed and unmet truly."""
    demand = _demand(view.instance)
    pl = view.placements
    placed = pl.groupby(["municipality", "group"])["placed"].sum()
    for (i, g), q in placed.items():
        if q > demand.get((i, g), 0) + ABS_TOL:
            report.add(f"demand_balance[{i},{g}]", f"{q:g} places counted, demand {demand.get((i, g), 0)}")
    muni = view.instance.municipalities
    by_province = placed.groupby(
        [placed.index.get_level_values(0).map(muni["province"]), placed.index.get_level_values(1)]
    ).sum()
    for r in view.decision.groups.itertuples():
        want = float(by_province.get((r.province, r.group), 0.0))
        if abs(r.placed - want) > ABS_TOL or abs(r.unmet - (r.task - want)) > ABS_TOL:
            report.add(
                f"groups.csv[{r.province},{r.group}]",
                f"says placed {r.placed:g}, unmet {r.unmet:g}; the placements give {want:g} of {r.task:g}",
            )


def check_arcs(view, report) -> None:
    """Travel times as claimed and within the limits (the policy's and the group's), inside the province."""
    pl, instance, policy = view.placements, view.instance, view.policy
    minutes = placement_minutes(instance, pl) if len(pl) else []
    for row, t in zip(pl.itertuples(), minutes):
        name = f"placed[{row.municipality},{row.site},{row.group}]"
        kind = instance.sites.at[row.site, "kind"]
        own_kind = {"regular": policy.max_travel_minutes_regular, "transit": policy.max_travel_minutes_transit}
        limits = [policy.max_travel_minutes, own_kind.get(kind)]
        if instance.groups is not None and row.group in instance.groups.table.index:
            own = instance.groups.table.at[row.group, "max_travel_minutes"]
            limits.append(None if math.isnan(own) else own)
        if math.isinf(t) or abs(t - row.travel_minutes) > 1e-3 * max(1.0, t):
            report.add(name, f"travel_minutes says {row.travel_minutes:g}, recomputed {t:.4f}")
        elif any(limit is not None and t > limit + 1e-6 for limit in limits):
            report.add(name, f"travel {t:.1f} min exceeds a travel limit")
        if instance.municipalities.at[row.municipality, "province"] != view.province_of_site(row.site):
            report.add(name, "crosses a province border")


def check_large_site_per_province(view, report) -> None:
    """large_site_per_province: the open large sites of every decided province obey the rule."""
    rule = LargeSiteRule(view.policy.large_site_rule)
    if rule is LargeSiteRule.OFF:
        return
    kind = view.instance.sites["kind"]
    for p in view.decided:
        count = sum(1 for s in view.open_sites(p) if kind[s] == "large")
        if not rule.allows(count):
            report.add(f"large_site_per_province[{p}]", f"{count} large sites open, rule is '{rule.value}' one")


def _spend(view) -> tuple[float, float]:
    """(the cost of what the decision keeps: every plan's commitments and the sites open in any case; the
    decision's fixed and place cost), at the instance's prices."""
    sites = view.instance.sites
    committed = sum(float(sites.at[s, "fixed_cost"]) for s in view.committed_sites | view.open_anyway)
    for r in view.plan.commitments.groupby(["site", "group"])["places"].sum().items():
        (s, g), q = r
        committed += q * view.takes.get((s, g), (0, float(sites.at[s, "cost_per_place"])))[1]
    d = view.decision.sites
    spend = sum(float(sites.at[s, "fixed_cost"]) for s in view.new)
    spend += sum(r.added * view.takes.get((r.site, r.group), (0, 0.0))[1] for r in d.itertuples())
    return committed, spend


def check_budget_limit(view, report) -> None:
    """budget_limit: every plan's committed cost plus the decision's spend within the budget."""
    budget = view.policy.effective_budget(view.instance.budget)
    if budget is None:
        return
    committed, spend = _spend(view)
    if committed + spend > budget + REL_TOL * max(1.0, budget):
        report.add("budget_limit", f"cost {committed + spend:,.0f} exceeds budget {budget:,.0f}")


def check_decision_cost(view, report) -> None:
    """decision_cost: the claimed cost equals the one recomputed from the tables at the instance's prices, and so
    does the cost of what it keeps."""
    committed, spend = _spend(view)
    pl = view.placements
    minutes = placement_minutes(view.instance, pl) if len(pl) else []
    decided = pl["municipality"].map(view.instance.municipalities["province"]).isin(view.decided)
    travel = sum(q * t for q, t, keep in zip(pl["placed"], minutes, decided) if keep and math.isfinite(t))
    decided_groups = view.decision.groups[view.decision.groups["province"].isin(view.decided)]
    penalty = sum(
        view.policy.penalty_of(g) * float(u) for g, u in zip(decided_groups["group"], decided_groups["unmet"])
    )
    cost = spend + view.policy.travel_value * travel + penalty
    stated = view.decision.summary.get("decision") or {}
    for key, value, name in ((("cost", cost, "decision_cost")), ("committed_cost", committed, "committed_cost")):
        claimed = stated.get(key)
        if claimed is None or abs(claimed - value) > REL_TOL * max(1.0, abs(value)) + 1e-6:
            report.add(name, f"the decision claims {claimed}, recomputed {value:.6f}")
