"""Explain why a plan is infeasible, or why it leaves demand unmet, in planners' words.

Three sources, each reported as findings that name the rule, the objects and a sentence:

1. Checks before any solve: per province the large-site rule against its candidates (missing,
   forbidden, forced twice, or every candidate's minimum size above the demand within reach),
   sites that must open but cannot fill their minimum size, municipalities that no site may
   serve (which travel limit or province rule cuts them off, and the nearest site), demand groups
   that no site takes, the capacity within reach, and a lower bound on the spend of any plan
   against the budget.
2. An elastic model: the same model with a penalised slack on every hard rule (the large-site
   rule, minimum sizes, budget, mean travel limit, and the fixings of existing, forced and
   forbidden sites). It finds the fewest rules to relax (ties broken by the smallest relative
   amounts), and reports each by its model name with the amount. For an infeasible model the
   slack only restores feasibility; for a feasible model with unmet demand it first places as
   much demand as possible, so the relaxations are what keeps the rest unplaced.
3. HiGHS' irreducible infeasible subset (IIS) of the LP relaxation, when that relaxation is
   itself infeasible: the rows and bounds that cannot hold together.
4. Under a budget, the fewest unmet places any plan within the budget can leave: a proven lower
   bound (the LP relaxation of "minimise unmet places subject to every rule and the budget",
   raised by branch and bound when time is left), set against the unmet places of the plan a
   solve found, with the groups and provinces they fall in (models/README.md, "Unmet places
   under a budget").

The time limit of the options bounds the whole explanation: each solve in it gets the time left.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from scipy.sparse import csc_array

from ..core import fmt
from ..data.instance import Instance
from ..data.policy import LargeSiteRule, Policy, check_policy, site_fixings
from ..model.build import build_model
from ..model.data import model_data
from ..model.elastic import Slack
from ..model.start import greedy_start
from ..results.solution import Solution
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions, Status

RULE_WORDS = {
    LargeSiteRule.EXACTLY: "exactly one",
    LargeSiteRule.AT_LEAST: "at least one",
    LargeSiteRule.AT_MOST: "at most one",
}
FIXED_OPEN_WORDS = {"existing": "existing, kept open", "forced": "forced"}
IIS_SHOWN = 12  # rows and bounds of an IIS listed by name; the rest are counted
HARD_RULES = ("large_site_per_province", "site_min_size", "budget_limit", "mean_travel_limit")
IIS_IRREDUCIBLE_COLUMNS = 3000  # blocks up to this size get an irreducible subset


@dataclass(frozen=True)
class Finding:
    """One reason: the rule (family or policy key), the model constraint, the ids named, a sentence."""

    rule: str
    constraint: str
    objects: tuple[str, ...]
    sentence: str
    source: str  # check | elastic | iis
    effect: str  # infeasible | unmet | note
    amount: float | None = None


@dataclass(frozen=True)
class Explanation:
    """The verdict and the findings that explain it."""

    instance: str
    policy: str
    verdict: str  # infeasible | unmet | feasible | unknown
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def about(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]

    def render(self) -> str:
        head = {
            "infeasible": "no plan can meet every hard rule",
            "unmet": "a plan exists, but hard rules or reach leave demand unmet",
            "feasible": "every hard rule can be met and all demand placed",
            "unknown": "could not be decided within the time limit",
        }[self.verdict]
        lines = [f"Why: {self.instance} under policy '{self.policy}': {head}."]
        sections = (
            ("check", "Found before solving:"),
            (
                "budget",
                'Under the budget (every rule and the budget; models/README.md, "Unmet places under a budget"):',
            ),
            ("elastic", "Elastic model (the fewest hard rules to relax):"),
            ("iis", "Infeasible subset of the LP relaxation (HiGHS IIS):"),
        )
        for source, title in sections:
            items = [f for f in self.findings if f.source == source]
            if items:
                lines += ["", title] + [f"  - {f.sentence}" for f in items]
        if self.notes:
            lines += [""] + [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def explain(
    instance: Instance,
    policy: Policy,
    options: SolveOptions | None = None,
    feasible: bool | None = None,
    plan: Solution | None = None,
) -> Explanation:
    """Findings that explain infeasibility or unmet demand of ``instance`` under ``policy``.

    ``feasible`` may pass on what a solve already found (True: a plan exists, so only unmet
    demand is explained; False: infeasible), saving the elastic feasibility solve. ``plan``: the
    plan that solve found; under a budget its unmet places are set against the fewest any plan
    within the budget can leave. ``options.time_limit`` bounds the whole explanation.
    """
    t0 = time.perf_counter()
    clock = _Clock(options or SolveOptions())
    check_policy(policy, instance)
    data = model_data(instance, policy)
    words = _Words(instance, policy, data)
    findings = presolve_findings(instance, policy, data, words)
    notes: list[str] = []
    # Under a budget the bound comes first: it is what a planner asks of a plan that leaves demand unmet.
    bound = (
        UnmetBound(instance, policy, plan, clock)
        if data.budget is not None and feasible is True and (plan is None or plan.kpis["unmet"] > 0)
        else None
    )

    verdict = "infeasible" if any(f.effect == "infeasible" for f in findings) else None
    if feasible is not True:
        verdict = _feasibility(instance, policy, words, clock, verdict, findings, notes)
    if verdict == "infeasible":
        iis, note = iis_findings(instance, policy, clock.options())
        findings += iis
        if note:
            notes.append(note)
    else:
        verdict = _unmet(instance, policy, words, clock, findings, notes)
        if bound is None and verdict == "unmet" and data.budget is not None:
            bound = UnmetBound(instance, policy, plan, clock)
    if bound is not None:
        bound.search(clock)
        findings += bound.findings(words)
    return Explanation(instance.name, policy.name, verdict, tuple(findings), tuple(notes), time.perf_counter() - t0)


def _feasibility(
    instance: Instance, policy: Policy, words: _Words, clock: _Clock, verdict, findings: list, notes: list
) -> str | None:
    """The elastic model without placing all demand: "infeasible" when some rule must be relaxed for any plan."""
    relaxed, status = elastic_findings(instance, policy, words, clock, place_all=False)
    if status is None:
        notes.append("the elastic model did not finish within the time limit; the checks above may be incomplete")
    elif relaxed:
        findings += relaxed
        return "infeasible"
    elif verdict == "infeasible":
        notes.append("the elastic model found a plan although a check says none exists; please report this instance")
    return verdict


def _unmet(instance: Instance, policy: Policy, words: _Words, clock: _Clock, findings: list, notes: list) -> str:
    """The elastic model placing all demand it can: "unmet", "feasible", or "unknown" without time."""
    relaxed, status = elastic_findings(instance, policy, words, clock, place_all=True)
    if status is None:
        notes.append(
            "the elastic model did not finish within the time limit; the relaxations that would place all demand are not known"
        )
    findings += relaxed
    if any(f.effect == "unmet" for f in findings):
        return "unmet"
    return "unknown" if status is None else "feasible"


class _Clock:
    """The time an explanation has: every solve in it gets what is left of the time limit."""

    def __init__(self, options: SolveOptions):
        self.base = options
        self.end = time.monotonic() + options.time_limit

    def left(self) -> float:
        return max(self.end - time.monotonic(), 0.0)

    def options(self, at_most: float | None = None, **changes) -> SolveOptions:
        """The options with the time left (at most ``at_most`` seconds) as their limit."""
        left = self.left() if at_most is None else min(self.left(), at_most)
        return dataclasses.replace(self.base, time_limit=left, **changes)


# Branch and bound on the fewest unmet places gets at most this long, and only when at least MIN is left
# (its root LP alone takes about 15 s on nl-2024 with a budget).
BOUND_SEARCH_SECONDS = 60.0
BOUND_SEARCH_MIN_SECONDS = 20.0


class UnmetBound:
    """The fewest unmet places of any plan within the budget (models/README.md, "Unmet places under a budget").

    ``lower`` is proven: the optimum of the LP relaxation of "minimise Σ unmet subject to every rule and the
    budget" (rounded up with whole places), raised to the bound of branch and bound on the same problem when
    :meth:`search` has time. ``found`` is the fewest unmet places of a plan within the budget that search
    found; the plan a solve found bounds the least from above as well.
    """

    def __init__(self, instance: Instance, policy: Policy, plan: Solution | None, clock: _Clock):
        t = time.perf_counter()
        self.plan = plan
        self.whole = policy.whole_places
        self.model = build_model(instance, policy)
        self.model.total_cost.deactivate()
        self.model.fewest_unmet = pyo.Objective(expr=pyo.quicksum(self.model.unmet.values()), sense=pyo.minimize)
        self.session = SolveSession(self.model, clock.options())
        relaxed = self.session.relaxation(clock.left())
        self.lower = None if relaxed is None else self._round(relaxed)
        self.method = "the LP relaxation" if relaxed is not None else None
        self.found: float | None = None
        self.short = False  # branch and bound skipped for want of time
        self.seconds = time.perf_counter() - t

    def _round(self, value: float) -> float:
        """Whole places: the least number of places at or above a bound (within HiGHS' tolerance)."""
        return float(math.ceil(value - 1e-6 * max(1.0, abs(value)))) if self.whole else max(value, 0.0)

    @property
    def upper(self) -> float | None:
        """The fewest unmet places of a plan within the budget known: the solve's plan or the search's."""
        known = [
            x for x in (self.found, None if self.plan is None else float(self.plan.kpis["unmet"])) if x is not None
        ]
        return min(known) if known else None

    def search(self, clock: _Clock) -> None:
        """Branch and bound on the fewest unmet places, from the solve's plan, with the time left (capped)."""
        if self.lower is not None and self.lower == self.upper:
            return
        if clock.left() < BOUND_SEARCH_MIN_SECONDS:
            self.short = True
            return
        t = time.perf_counter()
        start = greedy_start(self.model)
        if self.plan is not None:
            start.update(plan_start(self.model, self.plan))
        result = self.session.solve(clock.options(BOUND_SEARCH_SECONDS, gap=0.0), start=start)
        if result.bound is not None and (self.lower is None or self._round(result.bound) > self.lower):
            self.lower, self.method = self._round(result.bound), "branch and bound"
        if result.has_plan:
            self.found = float(result.objective)
        self.seconds += time.perf_counter() - t

    def findings(self, w: _Words) -> list[Finding]:
        """At least N and at most M places unmet (N = M: proven), what this plan leaves, and the plan's unmet
        places by group and by province."""
        demand = float(self.plan.kpis["demand"]) if self.plan is not None else float(sum(w.data.demand.values()))
        low, high = self.lower, self.upper
        mine = None if self.plan is None else float(self.plan.kpis["unmet"])
        if low is None:
            sentence = "no proven bound on the fewest unmet places within the time limit" + (
                f"; this plan leaves {w.places(mine)}" if mine is not None else ""
            )
            return [Finding("budget_limit", "budget_limit", (), sentence, "budget", "note")]
        how = f"proven by {self.method} of the fewest unmet places under every rule and the budget" + (
            "; the time left was too short for branch and bound" if self.short and (high is None or high > low) else ""
        )
        reach = f"no plan within the budget places more than {w.places(demand - low)} of {w.places(demand)} ({how})"
        if high is None:
            sentence = f"at least {w.places(low)} places unmet: {reach}"
        elif high <= low:
            sentence = f"{w.places(low)} places unmet, proven: {reach}, and " + (
                "this plan leaves that many"
                if mine == high
                else "a plan within the budget that leaves that many exists"
            )
        else:
            sentence = f"at least {w.places(low)} and at most {w.places(high)} places unmet: {reach}" + (
                "" if mine == high else f", and a plan within the budget leaves {w.places(high)}"
            )
        if mine is not None and mine > low and (high is None or mine > high or high > low):
            sentence += f"; this plan leaves {w.places(mine)}, {self._excess(mine - (high if mine > high else low), w)}"
        out = [Finding("budget_limit", "budget_limit", (), sentence, "budget", "unmet", low)]
        if self.plan is not None:
            out += [
                Finding("budget_limit", "demand_balance", (), line, "budget", "note") for line in _breakdown(self.plan)
            ]
        return out

    def _excess(self, more: float, w: _Words) -> str:
        if self.plan.status == Status.OPTIMAL:
            return (
                f"{w.places(more)} more: the plan is proven optimal, so placing them within the budget would cost more "
                "than their unmet penalty"
                + (
                    ""
                    if self.upper is not None and self.upper < float(self.plan.kpis["unmet"])
                    else ", or the bound is short of the least"
                )
            )
        return f"up to {w.places(more)} of them may be the plan's, not the budget's: the plan is not proven optimal"


def _breakdown(plan: Solution) -> list[str]:
    """The plan's unmet places by group and by province, each with its rate, highest rate first."""
    lines = []
    if plan.groups is not None:
        by_group = plan.groups.groupby(["group_name", "target"], sort=False)[["demand", "unmet"]].sum().reset_index()
        lines.append("unmet in this plan by group: " + _rates(by_group, "group_name", national=True))
    by_province = plan.provinces[plan.provinces["unmet"] > 0]
    if len(by_province):
        lines.append(("by province: " if lines else "unmet in this plan by province: ") + _rates(by_province, "name"))
    return lines


def _rates(table: pd.DataFrame, label: str, national: bool = False) -> str:
    rate = table["unmet"] / table["demand"].where(table["demand"] > 0)
    order = table.assign(rate=rate.fillna(0.0)).sort_values(["rate", label], ascending=[False, True], kind="stable")
    return "; ".join(
        f"{r[label]}{' (national target)' if national and r.get('target') == 'national' else ''} "
        f"{fmt.places(r['unmet'])} of {fmt.places(r['demand'])} ({fmt.percent(r['rate'])})"
        for _, r in order.iterrows()
    )


def plan_start(model, plan: Solution) -> dict[int, float]:
    """A solution's sites, placements and unmet places as starting values of ``model`` (keyed by id(VarData))."""
    pl = plan.placements
    grouped = "group" in pl
    keys = zip(pl["municipality"], pl["site"], pl["group"]) if grouped else zip(pl["municipality"], pl["site"])
    placed = dict(zip(keys, pl["placed"].astype(float)))
    opened = dict(zip(plan.sites["site"], plan.sites["open_site"].astype(float)))
    start = {id(v): opened.get(s, 0.0) for s, v in model.open_site.items()}
    filled: dict = defaultdict(float)
    for key, v in model.placed.items():
        start[id(v)] = placed.get(key, 0.0)
        filled[(key[0], key[2]) if grouped else key[0]] += start[id(v)]
    for unit, v in model.unmet.items():
        start[id(v)] = max(float(model.data.demand.get(unit, 0)) - filled[unit], 0.0)
    return start


class _Words:
    """Names and phrases for the objects of one instance under one policy."""

    def __init__(self, instance: Instance, policy: Policy, data):
        self.instance, self.policy, self.data = instance, policy, data
        self.sites = instance.sites
        self.muni = instance.municipalities
        self.cur = instance.currency
        self.reach = {s: sum(data.demand[data.unit(a)] for a in arcs) for s, arcs in data.arcs_by_site.items()}
        self.eligible_sites = {u: [a[1] for a in arcs] for u, arcs in data.arcs_by_municipality.items()}
        fixed = site_fixings(instance, policy)
        self.fixed_open = {s: FIXED_OPEN_WORDS[f.reason] for s, f in fixed.items() if f.value == 1}
        self.forbidden = {s for s, f in fixed.items() if f.value == 0}

    def province(self, p: str) -> str:
        return str(self.instance.provinces.at[p, "name"])

    def site(self, s: str) -> str:
        return f"{self.sites.at[s, 'name']} ({s})"

    def municipality(self, i: str) -> str:
        return f"{self.muni.at[i, 'name']} ({i})"

    def within(self, kind: str) -> str:
        """The reach of a site of this kind, as the policy limits it."""
        limits = [self.policy.max_travel_minutes]
        if kind == "regular":
            limits.append(self.policy.max_travel_minutes_regular)
        if kind == "transit":
            limits.append(self.policy.max_travel_minutes_transit)
        limits = [t for t in limits if t is not None]
        parts = [f"within {min(limits):g} minutes"] if limits else []
        if not self.policy.allow_cross_province:
            parts.append("in the province")
        return "the demand " + " ".join(parts) if parts else "all demand that can reach it"

    def places(self, n: float) -> str:
        return fmt.places(n)

    def money(self, x: float) -> str:
        return fmt.money(x, self.cur)


def presolve_findings(instance: Instance, policy: Policy, data, words: _Words | None = None) -> list[Finding]:
    """Findings that need no solve; each is a sufficient reason for infeasibility or unmet demand."""
    w = words or _Words(instance, policy, data)
    found: list[Finding] = []
    found += _large_site_checks(w)
    found += _min_size_checks(w)
    found += _budget_check(w)
    if not data.groups:  # per municipality; with demand groups the elastic model finds these causes
        found += _cut_off_municipalities(w)
        found += _capacity_checks(w)
    else:
        found += _groups_placed_nowhere(w)
    found += _penalty_check(w)
    return found


def _viable(w: _Words, s: str) -> bool:
    """The site could open: not forbidden, and enough demand within reach for its minimum size."""
    return s not in w.forbidden and w.data.min_size[s] <= w.reach.get(s, 0)


def _large_site_checks(w: _Words) -> list[Finding]:
    """Per province: too many large sites fixed open, or none that may open although the rule asks for one."""
    rule = w.policy.large_site_rule
    if rule is LargeSiteRule.OFF:
        return []
    out = []
    for p in w.instance.provinces.index:
        large = w.data.large_by_province[p]
        if w.data.demand_by_province.get(p, 0) == 0 and not large:
            continue
        if rule.caps_at_one:
            out += _too_many_large(w, p, large)
        if rule.needs_one:
            out += _no_large(w, p, large)
    return out


def _too_many_large(w: _Words, p: str, large: list[str]) -> list[Finding]:
    must = [s for s in large if s in w.fixed_open]
    if len(must) <= 1:
        return []
    listed = "; ".join(f"{w.site(s)} ({w.fixed_open[s]})" for s in must)
    need = RULE_WORDS[w.policy.large_site_rule]
    return [
        Finding(
            "large_site_per_province",
            f"large_site_per_province[{p}]",
            (p, *must),
            f"{w.province(p)}: {len(must)} large sites must open ({listed}), but the rule allows {need} large site per province",
            "check",
            "infeasible",
        )
    ]


def _no_large(w: _Words, p: str, large: list[str]) -> list[Finding]:
    name, con, need = w.province(p), f"large_site_per_province[{p}]", RULE_WORDS[w.policy.large_site_rule]
    if not large:
        return [
            Finding(
                "large_site_per_province",
                con,
                (p,),
                f"{name}: the rule requires {need} large site, but the province has no large site in sites.csv",
                "check",
                "infeasible",
            )
        ]
    open_ = [s for s in large if s not in w.forbidden]
    if not open_:
        listed = ", ".join(w.site(s) for s in large)
        return [
            Finding(
                "large_site_per_province",
                con,
                (p, *large),
                f"{name}: every large site is forbidden ({listed}), but the rule requires {need} large site",
                "check",
                "infeasible",
            )
        ]
    if any(_viable(w, s) for s in open_):
        return []
    if len(open_) == 1:
        s = open_[0]
        only = "only candidate" if len(large) == 1 else "only candidate not forbidden"
        sentence = (
            f"{name}: no candidate large site can open: the {only}, {w.site(s)}, has a minimum size "
            f"({w.places(w.data.min_size[s])}) that exceeds {w.within('large')} ({w.places(w.reach.get(s, 0))})"
        )
    else:
        each = "; ".join(f"{w.site(s)}: {w.places(w.data.min_size[s])} > {w.places(w.reach.get(s, 0))}" for s in open_)
        sentence = (
            f"{name}: no candidate large site can open: each one's minimum size exceeds {w.within('large')} ({each})"
        )
    return [
        Finding(
            "large_site_per_province",
            con,
            (p, *open_),
            sentence + f", and the rule requires {need} large site",
            "check",
            "infeasible",
        )
    ]


def _min_size_checks(w: _Words) -> list[Finding]:
    out = []
    for s, why in w.fixed_open.items():
        low, reach = w.data.min_size[s], w.reach.get(s, 0)
        if low > reach:
            kind = w.data.site_kind[s]
            out.append(
                Finding(
                    "site_min_size",
                    f"site_min_size[{s}]",
                    (s, w.data.site_province[s]),
                    f"{w.site(s)} must open ({why}), but its minimum size ({w.places(low)}) exceeds {w.within(kind)} ({w.places(reach)})",
                    "check",
                    "infeasible",
                    float(low - reach),
                )
            )
    return out


def _budget_check(w: _Words) -> list[Finding]:
    """Every plan pays each site that must open at its minimum size, plus per province the cheapest large site the rule requires."""
    budget = w.data.budget
    if budget is None:
        return []
    d = w.data
    entry = {s: d.fixed_cost[s] + d.cost_per_place[s] * d.min_size[s] for s in w.sites.index}
    bound = sum(entry[s] for s in w.fixed_open)
    named = list(w.fixed_open)
    if w.policy.large_site_rule.needs_one:
        demand = w.data.demand_by_province
        for p in w.instance.provinces.index:
            large = d.large_by_province[p]
            if demand.get(p, 0) == 0 or any(s in w.fixed_open for s in large):
                continue
            options = [s for s in large if _viable(w, s)]
            if options:
                cheapest = min(options, key=lambda s: (entry[s], s))
                bound += entry[cheapest]
                named.append(cheapest)
    if bound <= budget * (1 + 1e-9):
        return []
    rules = []
    if w.policy.large_site_rule.needs_one:
        rules.append(f"meets the one-large-site rule ({w.policy.large_site_rule})")
    if any(v == "existing, kept open" for v in w.fixed_open.values()):
        rules.append("keeps the existing sites open")
    if any(v == "forced" for v in w.fixed_open.values()):
        rules.append("opens the forced sites")
    return [
        Finding(
            "budget_limit",
            "budget_limit",
            tuple(named),
            f"budget {w.money(budget)} is below the cheapest plan that {' and '.join(rules)}: at least {w.money(bound)} "
            f"(each of its {len(named)} required sites open at its minimum size)",
            "check",
            "infeasible",
            bound - budget,
        )
    ]


def _cut_off_municipalities(w: _Words) -> list[Finding]:
    out = []
    minutes = w.instance.travel
    site_ids = list(w.sites.index)
    kinds = w.sites["kind"].to_numpy()
    provinces = w.sites["province"].to_numpy()
    T, Treg = w.policy.max_travel_minutes, w.policy.max_travel_minutes_regular
    for row, i in enumerate(w.muni.index):
        d = w.data.demand[i]
        if d == 0:
            continue
        p = w.data.province_of[i]
        arcs = w.eligible_sites.get(i, [])
        if arcs:
            if all(s in w.forbidden for s in arcs):
                listed = ", ".join(w.site(s) for s in arcs)
                out.append(
                    Finding(
                        "forbid_sites",
                        f"demand_balance[{i}]",
                        (i, p, *arcs),
                        f"{w.municipality(i)} ({w.province(p)}): every site within reach is forbidden ({listed}); its {w.places(d)} places stay unmet",
                        "check",
                        "unmet",
                        float(d),
                    )
                )
            continue
        t = minutes[row]
        own = (provinces == p) if not w.policy.allow_cross_province else np.ones(len(site_ids), dtype=bool)
        reachable = np.isfinite(t)
        lead = f"{w.municipality(i)} ({w.province(p)}): no site may take its {w.places(d)} places"
        if not (own & reachable).any():
            nearest = _nearest(t, reachable)
            if nearest is None:
                out.append(
                    Finding(
                        "unreachable",
                        f"demand_balance[{i}]",
                        (i, p),
                        f"{lead}: no site can be reached from it at all; they stay unmet",
                        "check",
                        "unmet",
                        float(d),
                    )
                )
            elif not own.any():
                s = site_ids[nearest]
                out.append(
                    Finding(
                        "allow_cross_province",
                        f"demand_balance[{i}]",
                        (i, p, s),
                        f"{lead}: its province has no site and allow_cross_province = false (the nearest site, {w.site(s)} in {w.province(provinces[nearest])}, is {t[nearest]:.1f} min away); they stay unmet",
                        "check",
                        "unmet",
                        float(d),
                    )
                )
            else:
                s = site_ids[nearest]
                out.append(
                    Finding(
                        "unreachable",
                        f"demand_balance[{i}]",
                        (i, p, s),
                        f"{lead}: no site in its province can be reached from it (the nearest site, {w.site(s)} in {w.province(provinces[nearest])}, is outside the province); they stay unmet",
                        "check",
                        "unmet",
                        float(d),
                    )
                )
            continue
        reasons, rule, named = [], None, [i, p]
        for kind, limit_key, limit in (
            ("large", "max_travel_minutes", T),
            ("regular", "max_travel_minutes_regular", _min_limit(T, Treg)),
        ):
            mask = own & reachable & (kinds == kind)
            k = _nearest(t, mask)
            if k is None:
                continue
            key = (
                limit_key
                if kind == "regular" and Treg is not None and (T is None or Treg < T)
                else "max_travel_minutes"
            )
            reasons.append(
                (
                    t[k],
                    f"the nearest {kind} site, {w.site(site_ids[k])}, is {t[k]:.1f} min away, beyond {key} = {limit:g}",
                    key,
                    site_ids[k],
                )
            )
        reasons.sort()
        rule = reasons[0][2]
        named += [r[3] for r in reasons]
        out.append(
            Finding(
                rule,
                f"demand_balance[{i}]",
                tuple(named),
                f"{lead}: " + "; ".join(r[1] for r in reasons) + "; they stay unmet",
                "check",
                "unmet",
                float(d),
            )
        )
    return out


def _groups_placed_nowhere(w: _Words) -> list[Finding]:
    """Demand groups that no site can take: none takes the group, every one that does is forbidden, or none is within reach."""
    groups, d = w.instance.groups, w.data
    reached = {arc[2] for arc in d.arcs if arc[1] not in w.forbidden}
    out = []
    for g in d.groups:
        demand = sum(v for (_, h), v in d.demand.items() if h == g)
        if demand == 0 or g in reached:
            continue
        takers = list(groups.eligible.loc[groups.eligible["group"] == g, "site"])
        forbidden = [s for s in takers if s in w.forbidden]
        named = forbidden[:8]
        listed = ", ".join(w.site(s) for s in named) + (f" and {len(forbidden) - 8} more" if len(forbidden) > 8 else "")
        if not takers:
            rule, why = "site_groups", "no site takes the group (site_groups.csv, and the group's sites rule)"
        elif len(forbidden) == len(takers):
            rule, why = "forbid_sites", f"every site that takes the group is forbidden ({listed})"
        elif forbidden:
            rule, why = (
                "forbid_sites",
                f"the sites that take the group are forbidden ({listed}) or beyond the travel limits or outside the province of its municipalities",
            )
        else:
            rule, why = (
                "unreachable",
                f"the {len(takers)} sites that take the group are all beyond the travel limits or outside the province of its municipalities",
            )
            named = takers[:8]
        out.append(
            Finding(
                rule,
                f"demand_balance[*,{g}]",
                (g, *named),
                f"{groups.name(g)} ({g}): no site takes its {w.places(demand)} places: {why}; they stay unmet",
                "check",
                "unmet",
                float(demand),
            )
        )
    return out


def _min_limit(a: float | None, b: float | None) -> float | None:
    values = [x for x in (a, b) if x is not None]
    return min(values) if values else None


def _nearest(t: np.ndarray, mask: np.ndarray) -> int | None:
    if not mask.any():
        return None
    candidates = np.flatnonzero(mask)
    return int(candidates[np.argmin(t[candidates])])


def _capacity_checks(w: _Words) -> list[Finding]:
    """Per province (or nationally when placements may cross borders): capacity within reach below the demand within reach."""
    d = w.data
    if w.policy.allow_cross_province:
        groups = {"": list(w.muni.index)}
    else:
        groups = defaultdict(list)
        for i in w.muni.index:
            groups[d.province_of[i]].append(i)
    one_large = w.policy.large_site_rule.caps_at_one
    out = []
    for p, members in groups.items():
        served = [i for i in members if w.eligible_sites.get(i)]
        demand = sum(d.demand[i] for i in served)
        sites = sorted({s for i in served for s in w.eligible_sites[i] if _viable(w, s)})
        room = {s: min(d.capacity[s], w.reach.get(s, 0)) for s in sites}
        regular = sum(v for s, v in room.items() if d.site_kind[s] == "regular")
        large = [v for s, v in room.items() if d.site_kind[s] == "large"]
        usable = regular + ((max(large) if large else 0) if one_large else sum(large))
        if demand == 0 or usable >= demand:
            continue
        where = w.province(p) if p else "The country"
        note = (
            f" (one large site at most under the '{w.policy.large_site_rule}' rule)"
            if one_large and len(large) > 1
            else ""
        )
        out.append(
            Finding(
                "site_capacity",
                "site_capacity",
                ((p,) if p else ()) + tuple(sites),
                f"{where}: the sites that may open within reach hold at most {w.places(usable)} places{note}, below the demand they could serve "
                f"({w.places(demand)}); at least {w.places(demand - usable)} places stay unmet",
                "check",
                "unmet",
                float(demand - usable),
            )
        )
    return out


def _penalty_check(w: _Words) -> list[Finding]:
    """The penalty per unmet place below the cheapest place: leaving demand unmet is the cheaper plan. With
    unmet_penalty_by_group, each group's M_g against the cheapest place of that group."""
    d, pol = w.data, w.policy
    if not d.arcs:
        return []
    cheapest: dict = {}
    for a in d.arcs:
        g = a[2] if len(a) == 3 and pol.unmet_penalty_by_group else None
        cheapest[g] = min(cheapest.get(g, math.inf), d.place_cost(a) + pol.travel_value * d.travel_minutes[a])
    own = dict(pol.unmet_penalty_by_group)
    out = []
    for g, least in cheapest.items():
        penalty = pol.penalty_of(g)
        if penalty >= least:
            continue
        key = "unmet_penalty_by_group" if g in own else "unmet_penalty"
        whose = "" if g is None else f" for group {g}"
        out.append(
            Finding(
                key,
                "unmet_penalty_total",
                () if g is None else (g,),
                f"{key} ({w.money(penalty)} per place{whose}) is below the cheapest place ({w.money(least)} with its travel value): leaving demand unmet costs less than placing it",
                "check",
                "unmet",
            )
        )
    return out


# --- the elastic model -----------------------------------------------------------------------


def elastic_findings(
    instance: Instance, policy: Policy, words: _Words, clock: _Clock, place_all: bool
) -> tuple[list[Finding], Status | None]:
    """The fewest relaxations of hard rules that give a plan (``place_all``: that place the most demand).

    The budget is left out of the elastic model, which then splits by province like an ordinary
    solve; it is weighed on its own against the least spend of a plan under the other rules
    (:func:`budget_findings`). Returns the relaxations as findings and the elastic solve's status
    (None if it ran out of time).
    """
    budget = words.data.budget
    relaxed, status = _elastic(
        instance, policy.with_(budget=math.inf) if budget is not None else policy, words, clock.options(), place_all
    )
    if budget is not None and status is not None and not any(f.effect != "note" for f in relaxed):
        relaxed = [f for f in relaxed if f.effect != "note"] + budget_findings(
            instance, policy, words, clock.options(), place_all
        )
        if place_all and any(f.rule == "budget_limit" for f in relaxed):
            relaxed.insert(
                0,
                Finding(
                    "demand_balance",
                    "demand_balance",
                    (),
                    "placing all demand that can be placed needs 1 relaxation:",
                    "elastic",
                    "note",
                ),
            )
    return relaxed, status


# Per place left unplaced while the least spend is sought: far above any cost of placing one.
LEAST_SPEND_PENALTY = 1e9


def budget_findings(
    instance: Instance, policy: Policy, words: _Words, options: SolveOptions, place_all: bool
) -> list[Finding]:
    """The least spend of a plan under every rule but the budget (placing all demand that can be placed, with
    ``place_all``), solved like an ordinary plan (by province) and stated with its proof: a finding when the
    budget is below it."""
    budget = words.data.budget
    spend_policy = policy.with_(
        budget=math.inf, travel_value=0.0, unmet_penalty=LEAST_SPEND_PENALTY if place_all else 0.0
    )
    model = build_model(instance, spend_policy)
    result = SolveSession(model, options).solve(start=greedy_start(model))
    if not result.has_plan:
        return []
    spend = float(pyo.value(model.fixed_cost_total + model.place_cost_total))
    if spend <= budget * (1 + 1e-9):
        return []
    what = "places all demand that can be placed" if place_all else "meets the other hard rules"
    if result.status is Status.OPTIMAL:
        sentence = (
            f"relax budget_limit: budget {words.money(budget)} is below the least spend of a plan that {what}: "
            f"{words.money(spend)} (proven optimal within a gap of {options.gap:g}), {words.money(spend - budget)} more"
        )
    else:  # an unproven plan shows what suffices, not what is needed
        sentence = (
            f"relax budget_limit: the cheapest plan found within the time limit that {what} spends "
            f"{words.money(spend)}, {words.money(spend - budget)} above the budget of {words.money(budget)} (not proven "
            "the least: a cheaper one may exist)"
        )
    return [
        Finding(
            "budget_limit",
            "budget_limit",
            (),
            sentence,
            "elastic",
            "unmet" if place_all else "infeasible",
            spend - budget,
        )
    ]


def _elastic(
    instance: Instance, policy: Policy, words: _Words, options: SolveOptions, place_all: bool
) -> tuple[list[Finding], Status | None]:
    m = build_model(instance, policy, elastic=True)
    elastic = m.elastic
    slacks = elastic.slacks
    n = len(slacks)
    eps = 1.0 / (n + 1)  # the relative amounts together weigh less than one relaxation
    terms = [elastic.used[k] + eps * elastic.amounts[k] / slacks[k].upper for k in range(n)]
    if place_all:
        # Places first: one place outweighs every relaxation together.
        terms.append((n + 1) * pyo.quicksum(m.unmet.values()))
    m.total_cost.deactivate()
    m.elastic_objective = pyo.Objective(expr=pyo.quicksum(terms) if terms else 0, sense=pyo.minimize)
    result = SolveSession(m, dataclasses.replace(options, gap=0.0)).solve()
    if not result.has_plan:
        if result.status in (Status.TIME_LIMIT_NO_PLAN, Status.INTERRUPTED):
            return [], None
        raise RuntimeError(f"the elastic model has no plan ({result.status.value}: {result.message})")
    out = []
    for slack, amount, used in zip(slacks, elastic.amounts, elastic.used):
        if round(pyo.value(used)) == 1 and pyo.value(amount) > 1e-7:
            out.append(_relaxation_finding(m, slack, float(pyo.value(amount)), words, place_all))
    if place_all:
        unmet = sum(float(pyo.value(v)) for v in m.unmet.values())
        if out:
            out.insert(
                0,
                Finding(
                    "demand_balance",
                    "demand_balance",
                    (),
                    f"placing all demand that can be placed needs {len(out)} relaxation{'s' if len(out) > 1 else ''}:",
                    "elastic",
                    "note",
                ),
            )
        if unmet > 1e-6:
            out.append(
                Finding(
                    "demand_balance",
                    "demand_balance",
                    tuple(u if isinstance(u, str) else ",".join(u) for u, v in m.unmet.items() if pyo.value(v) > 1e-6),
                    f"even with every rule relaxed, {words.places(round(unmet, 6))} places stay unmet: no open site can reach them or there is no room (see the checks above)",
                    "elastic",
                    "unmet",
                    unmet,
                )
            )
    status = result.status if result.status is Status.OPTIMAL else None
    return out, status


def _relaxation_finding(m, sl: Slack, amount: float, w: _Words, place_all: bool) -> Finding:
    d, pol = m.data, w.policy
    effect = "unmet" if place_all else "infeasible"
    if sl.family in ("large_below", "large_above"):
        p = sl.key
        con = f"large_site_per_province[{p}]"
        opened = [s for s in d.large_by_province[p] if round(pyo.value(m.open_site[s])) == 1]
        need = RULE_WORDS[pol.large_site_rule]
        if sl.family == "large_below":
            text = f"relax {con}: {w.province(p)} gets no large site although the rule ({pol.large_site_rule}) requires {need}"
        else:
            text = f"relax {con}: {w.province(p)} needs {len(opened)} large sites open ({', '.join(w.site(s) for s in opened)}) although the rule ({pol.large_site_rule}) allows {need}"
        return Finding("large_site_per_province", con, (p, *opened), text, "elastic", effect, amount)
    if sl.family == "site_min_size":
        s = sl.key
        low = d.min_size[s]
        new = low - amount
        return Finding(
            "site_min_size",
            f"site_min_size[{s}]",
            (s, d.site_province[s]),
            f"relax site_min_size[{s}]: {w.site(s)} in {w.province(d.site_province[s])} must accept {w.places(round(new, 6))} places instead of its minimum size {w.places(low)} (by {w.places(round(amount, 6))})",
            "elastic",
            effect,
            amount,
        )
    if sl.family == "fair_share":
        p = sl.key
        band = pol.fair_share_band
        return Finding(
            "fair_share_band",
            f"fair_share[{p}]",
            (p,),
            f"relax fair_share[{p}]: {w.province(p)} cannot keep {1 - band:.0%} of its share of the places placed nationally "
            f"(fair_share_band {band:g}): the rules that place people elsewhere leave it too few",
            "elastic",
            effect,
            amount,
        )
    if sl.family == "mean_travel_limit":
        placed = sum(float(pyo.value(v)) for v in m.placed.values())
        limit = pol.mean_travel_limit_minutes
        mean = limit + amount / placed if placed else limit
        busy = [s for s in m.SITES if round(pyo.value(m.open_site[s])) == 1]
        return Finding(
            "mean_travel_limit",
            "mean_travel_limit",
            tuple(busy),
            f"relax mean_travel_limit: the plan needs a mean travel of {mean:.1f} min per placed person, above the limit of {limit:g} min "
            f"({amount:,.0f} place-minutes over it; sites that must fill their minimum size: {', '.join(w.site(s) for s in busy) or 'none'})",
            "elastic",
            effect,
            amount,
        )
    s = sl.key
    p = d.site_province[s]
    if sl.detail == "forbid_sites":
        text = f"relax open_site[{s}] (forbid_sites): open the forbidden site {w.site(s)} in {w.province(p)}"
    elif sl.detail == "force_sites":
        text = f"relax open_site[{s}] (force_sites): do not force {w.site(s)} in {w.province(p)} open"
    else:
        text = f"relax open_site[{s}] (keep_existing_open): close the existing site {w.site(s)} in {w.province(p)}"
    return Finding(sl.detail, f"open_site[{s}]", (s, p), text, "elastic", effect, amount)


# --- HiGHS' irreducible infeasible subset ---------------------------------------------------


def iis_findings(instance: Instance, policy: Policy, options: SolveOptions) -> tuple[list[Finding], str]:
    """The IIS of the LP relaxation of each independent block whose relaxation is infeasible."""
    import highspy

    from ..solve.highs import block_highs, make_blocks
    from ..solve.schedule import Deadline

    model = build_model(instance, policy)
    try:
        compiled = LinearStandardFormCompiler().write(model, mixed_form=True)
    except InfeasibleConstraintException as exc:
        return [], f"no IIS needed: {exc} (it cannot hold whatever the plan)"
    if not len(compiled.columns):
        return [], ""
    A = csc_array(compiled.A)
    found = []
    for block in make_blocks(compiled, decompose=True):
        h = block_highs(
            block,
            options,
            Deadline.fixed(time.monotonic() + options.time_limit),
            np.zeros(len(block.cost), dtype=np.int32),
        )
        h.setOptionValue("output_flag", False)
        # Reducing to an irreducible set takes minutes on the whole national LP (a budget couples
        # every province), so large blocks get HiGHS' quick subset from the LP, not reduced.
        reduce = len(block.cost) <= IIS_IRREDUCIBLE_COLUMNS
        strategy = int(highspy.IisStrategy.kIisStrategyFromLp) | (
            int(highspy.IisStrategy.kIisStrategyIrreducible) if reduce else 0
        )
        h.setOptionValue("iis_strategy", strategy)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
            continue
        status, iis = h.getIis()
        if status != highspy.HighsStatus.kOk or not iis.valid_ or not (len(iis.row_index_) or len(iis.col_index_)):
            continue
        block_rows = np.flatnonzero(np.diff(A[:, block.columns].tocsr().indptr) > 0)
        rows = sorted({compiled.rows[int(block_rows[r])][0].name for r in iis.row_index_}, key=_rule_first)
        columns = sorted({compiled.columns[int(block.columns[c])].name for c in iis.col_index_})
        decisions = [c for c in columns if c.startswith("open_site[")]
        others = len(columns) - len(decisions)
        bounds = ", ".join(
            x
            for x in (
                _shorten(decisions),
                f"{others} placement and unmet bound{'s' if others != 1 else ''}" if others else "",
            )
            if x
        )
        what = (
            "an irreducible infeasible subset" if reduce else "an infeasible subset (not reduced: the block is large)"
        )
        text = f"{what}: {len(rows)} constraint{'s' if len(rows) != 1 else ''} ({_shorten(rows)}) with the bounds of {bounds or 'no variable'}"
        families = sorted({name.split("[")[0] for name in rows})
        found.append(Finding("iis", "; ".join(families), tuple(rows + decisions), text, "iis", "infeasible"))
    if not found:
        return (
            [],
            "the LP relaxation is feasible: the conflict lies in the yes/no site decisions, so HiGHS has no IIS to show",
        )
    return found, ""


def _rule_first(name: str) -> tuple:
    """The policy's hard rules before the structural rows (balance, links, capacity)."""
    family = name.split("[")[0]
    return (HARD_RULES.index(family) if family in HARD_RULES else len(HARD_RULES), name)


def _shorten(names: list[str]) -> str:
    if len(names) <= IIS_SHOWN:
        return ", ".join(names)
    return ", ".join(names[:IIS_SHOWN]) + f", and {len(names) - IIS_SHOWN} more"
