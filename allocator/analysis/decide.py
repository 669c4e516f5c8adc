"""The minister's allocation decision: the plans as given, every shortfall closed at least cost (models/README.md).

Chains the plan check (which provinces fall short, by how much), the decision model for those
provinces, the decision's tables, the decided plan as a solution (the standard tables), and the
independent check of both. A decision answers for the provinces' task: every province, the groups
with a provincial target and the sites that take them (its scope); groups with a national target
and the sites that take only them are outside it, costs included.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import pandas as pd

from ..check.decision import check_decision
from ..check.plans import ProvinceVerdict, check_plan
from ..data.plans import ALL, Plan
from ..data.policy import LargeSiteRule, Policy, site_fixings
from ..data.province import scope_record, scoped_instance, task_scope
from ..model.decision import Commitments, build_decision_model
from ..model.start import greedy_start
from ..results.decision import DECISION_TABLES, Decision, submitted_table
from ..results.extract import (
    compute_kpis,
    group_summary,
    groups_table,
    instance_summary,
    municipalities_table,
    provinces_table,
    site_rows,
    unmet_penalty,
    versions,
)
from ..results.solution import GROUP_PLACEMENT_COLUMNS, PLACEMENT_COLUMNS, Solution
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions, SolveResult, Status
from .merge import priced, unit_demand


@dataclass
class DecisionOutcome:
    """What ``decide`` produced. ``decision`` is None when a plan cannot be kept or the model has no plan."""

    verdicts: list[ProvinceVerdict]
    decision: Decision | None
    result: SolveResult | None  # None when every plan is complete (nothing to solve)
    check: object | None

    @property
    def blocked(self) -> list[ProvinceVerdict]:
        """Provinces whose plans break a rule that no decision can mend without moving committed places."""
        return [v for v in self.verdicts if v.blocked]


@dataclass(frozen=True)
class _Committed:
    """One province as the decision keeps it: the sites that stay open (the plan's and those open in any case:
    existing and forced), its committed places, their cost."""

    sites: frozenset[str]
    places: dict  # (site, group) -> places
    cost: float


def decide(instance, policy: Policy, plan: Plan, options: SolveOptions | None = None) -> DecisionOutcome:
    """The allocation decision for ``instance`` given the provinces' ``plan`` (a province without a plan commits nothing)."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    scope = task_scope(instance)
    task = scoped_instance(instance, scope)
    verdicts = check_plan(plan, instance, policy, provinces=list(instance.provinces.index))
    outcome = DecisionOutcome(verdicts, None, None, None)
    if outcome.blocked:
        return outcome
    committed = {p: _committed(task, policy, plan, p) for p in task.provinces.index}
    decided = [v.province for v in verdicts if not v.complete]
    model = None
    if decided:
        model = _model(instance, policy, committed, decided)
        outcome.result = SolveSession(model, options).solve(start=greedy_start(model))
        if not outcome.result.has_plan:
            return outcome
    decision = _tables(task, policy, plan, verdicts, committed, model, outcome.result)
    decision.summary["scope"] = scope_record(instance, scope)
    decision.summary["timings"] = {"decide": round(time.perf_counter() - t0, 4)}
    outcome.decision = decision
    outcome.check = check_decision(decision, instance, policy, plan)
    decision.summary["check"] = {"passed": outcome.check.passed, "violations": outcome.check.violations}
    if not outcome.check.passed:
        decision.summary["status"] = Status.ERROR.value
    return outcome


def _committed(task, policy: Policy, plan: Plan, province: str) -> _Committed:
    rows = plan.of(province)
    places = {k: int(q) for k, q in rows.groupby(["site", "group"], sort=True)["places"].sum().items()}
    sites = set(rows["site"]) | {
        s
        for s, f in site_fixings(task, policy).items()
        if f.value == 1 and s in task.sites.index and task.sites.at[s, "province"] == province
    }
    cost = sum(float(task.sites.at[s, "fixed_cost"]) for s in sites)
    cost += sum(q * _price(task, s, g) for (s, g), q in places.items())
    return _Committed(frozenset(sites), places, cost)


def _price(instance, site: str, group: str) -> float:
    """c_sg, or c_s."""
    if instance.groups is not None:
        e = instance.groups.eligible
        own = e[(e["site"] == site) & (e["group"] == group)]
        if len(own):
            return float(own["cost_per_place"].iloc[0])
    return float(instance.sites.at[site, "cost_per_place"])


def _model(instance, policy: Policy, committed: dict, decided: list[str]):
    """The decision model over the provinces to decide; the budget is what the untouched provinces leave."""
    own = dataclasses.replace(scoped_instance(instance, task_scope(instance, decided)), budget=None)
    budget = policy.effective_budget(instance.budget)
    if budget is not None:
        budget -= sum(c.cost for p, c in committed.items() if p not in decided)
    own_policy = policy.with_(budget=math.inf if budget is None else budget)
    grouped = instance.groups is not None
    places, sites = {}, set()
    for p in decided:
        sites |= committed[p].sites
        places.update({(k if grouped else k[0]): q for k, q in committed[p].places.items()})
    return build_decision_model(own, own_policy, Commitments(places, frozenset(sites)))


def _tables(task, policy, plan, verdicts, committed, model, result) -> Decision:
    """The decision's tables from the solved model (decided provinces) and the plan check (untouched ones), and the
    decided plan as a solution over ``task`` (the decision's scope)."""
    decided = {v.province for v in verdicts if not v.complete}
    values = _values(model) if model is not None else _Values({}, {}, {}, {})
    placements = _placements(task, verdicts, decided, values, policy)
    standing = set().union(*(c.sites for c in committed.values())) if committed else set()
    opened = _opened(task, policy, values, standing)
    sites = _sites(task, committed, values, opened)
    groups = _groups(task, verdicts, placements, sites)
    provinces = _provinces(verdicts, committed, groups, sites, placements, policy, task)
    solution = _solution(task, policy, placements, standing | opened)
    cost = float(provinces["decision_cost"].sum())
    gap = None if result is None else result.absolute_gap
    if result is None:
        gap = 0.0  # nothing to decide: the plans as they are
    objective = solution.summary["objective"]
    spare, spare_cost = _spare(task, sites, placements)
    solution.summary.update(
        {
            "status": (result.status.value if result is not None else Status.OPTIMAL.value),
            "message": result.message if result is not None else "every plan is complete: nothing to decide",
            "bound": None if gap is None else objective - gap,
            "gap": None if gap is None else gap / max(abs(objective), 1e-9),
            "absolute_gap": gap,
            "decision": {
                "cost": cost,
                "committed_cost": float(provinces["committed_cost"].sum()),
                "absolute_gap": gap,
                "decided": sorted(decided),
                "plans": dict(sorted(plan.files.items())),
                "spare_places": spare,
                "spare_cost": spare_cost,
            },
        }
    )
    assigned = _assigned(task, sites)
    return Decision(solution, provinces, groups, sites, assigned, submitted_table(plan, task.groups is not None))


def _spare(task, sites: pd.DataFrame, placements: pd.DataFrame) -> tuple[float, float]:
    """Places the decision keeps or adds that nobody is placed in (a plan's commitments beyond the need within
    reach, a site topped up to its minimum size), and their place cost: not in the solution tables' costs."""
    kept = sites[sites["group"] != ""].groupby(["site", "group"])[["committed", "added"]].sum().sum(axis=1)
    group = placements["group"] if "group" in placements else pd.Series(ALL, index=placements.index)
    placed = placements.groupby([placements["site"], group])["placed"].sum()
    spare = {k: q - float(placed.get(k, 0.0)) for k, q in kept.items()}
    spare = {k: q for k, q in spare.items() if q > 0}
    return float(sum(spare.values())), float(sum(q * _price(task, s, g) for (s, g), q in spare.items()))


def _solution(task, policy: Policy, placements: pd.DataFrame, open_sites: set) -> Solution:
    """The decided plan (committed and added places together) in the standard tables of a solution folder."""
    grouped = task.groups is not None
    columns = [*(GROUP_PLACEMENT_COLUMNS if grouped else PLACEMENT_COLUMNS), "source"]
    placements = priced(task, placements, policy)[columns]
    fixed = site_fixings(task, policy)
    sites = site_rows(
        task,
        [fixed[s].reason if s in fixed else "" for s in task.sites.index],
        [int(s in open_sites) for s in task.sites.index],
        placements,
    )
    demand = unit_demand(task, policy)
    by_municipality: dict[str, float] = {}
    for (i, _), d in demand.items():
        by_municipality[i] = by_municipality.get(i, 0) + d
    municipalities = municipalities_table(task, by_municipality, placements)
    provinces = provinces_table(task, sites, municipalities, placements)
    groups = groups_table(task, demand, placements) if grouped else None
    kpis = compute_kpis(
        sites,
        placements,
        municipalities,
        unmet_penalty(policy, municipalities, groups),
        policy.effective_budget(task.budget),
    )
    placements["travel_minutes"] = placements["travel_minutes"].round(4)
    summary = {
        "status": Status.OPTIMAL.value,
        "message": "",
        "objective": kpis["total_cost"] + kpis["travel_value"] + kpis["unmet_penalty"],
        "kpis": kpis,
        "provinces": {
            r.province: {
                "demand": r.demand,
                "placed": r.placed,
                "unmet": r.unmet,
                "realisation": r.realisation,
                "large_sites": r.large_sites,
            }
            for r in provinces.itertuples()
        },
        **({"groups": group_summary(groups)} if groups is not None else {}),
        "policy": policy.to_dict(),
        "instance": instance_summary(task),
        "versions": versions(),
    }
    return Solution(summary, sites, placements, municipalities, provinces, groups)


@dataclass(frozen=True)
class _Values:
    placed: dict
    added: dict
    open_site: dict
    unmet: dict


def _values(model) -> _Values:
    def whole(v) -> float:
        value = v.value or 0.0
        return float(round(value)) if model.policy.whole_places else round(float(value), 9)

    return _Values(
        {a: whole(v) for a, v in model.placed.items() if whole(v) > 0},
        {k: whole(v) for k, v in model.added.items() if whole(v) > 0},
        {s: int(round(v.value or 0)) for s, v in model.open_site.items()},
        {u: whole(v) for u, v in model.unmet.items()},
    )


def _opened(task, policy: Policy, values: _Values, standing: set) -> set:
    """The sites the decision opens: open in the model, not open anyway, and holding places. An empty one is left
    closed, unless it is the large site the large-site rule asks of its province."""
    load: dict[str, float] = {}
    for k, q in values.added.items():
        s = k if isinstance(k, str) else k[0]
        load[s] = load.get(s, 0.0) + q
    opened = {s for s, o in values.open_site.items() if o and s not in standing}
    held = {s for s in opened if load.get(s, 0.0) > 0}
    if not LargeSiteRule(policy.large_site_rule).needs_one:
        return held
    sites = task.sites
    large = {sites.at[s, "province"] for s in standing | held if sites.at[s, "kind"] == "large"}
    for s in sorted(opened - held):
        if sites.at[s, "kind"] == "large" and sites.at[s, "province"] not in large:
            held.add(s)
            large.add(sites.at[s, "province"])
    return held


def _placements(task, verdicts, decided, values: _Values, policy) -> pd.DataFrame:
    rows = []
    for a, q in values.placed.items():
        i, s = a[0], a[1]
        rows.append((i, s, a[2] if len(a) == 3 else ALL, q, _minutes(task, i, s), "decision"))
    for v in verdicts:
        if v.province not in decided and v.attribution is not None:
            for r in v.attribution.itertuples():
                rows.append(
                    (r.municipality, r.site, r.group, float(r.places), _minutes(task, r.municipality, r.site), "plan")
                )
    table = pd.DataFrame(rows, columns=["municipality", "site", "group", "placed", "travel_minutes", "source"])
    table = table.sort_values(["municipality", "site", "group"], kind="stable").reset_index(drop=True)
    return table if task.groups is not None else table.drop(columns="group")


def _minutes(instance, municipality: str, site: str) -> float:
    return float(
        instance.travel[instance.municipalities.index.get_loc(municipality), instance.sites.index.get_loc(site)]
    )


def _sites(task, committed: dict, values: _Values, opened: set) -> pd.DataFrame:
    """One row per site and group with committed or added places, and one for every other site that stays open or
    opens; a site's fixed cost on its first row when the decision opens it."""
    keep: dict = {}
    for c in committed.values():
        for (s, g), q in c.places.items():
            keep.setdefault((s, g), [0.0, 0.0])[0] += q
    for k, q in values.added.items():
        s, g = (k, ALL) if isinstance(k, str) else k
        keep.setdefault((s, g), [0.0, 0.0])[1] += q
    standing = set().union(*(c.sites for c in committed.values())) if committed else set()
    for s in opened | standing:
        if not any(k[0] == s for k in keep):
            keep[(s, "")] = [0.0, 0.0]
    rows, seen = [], set()
    sites, muni = task.sites, task.municipalities
    for (s, g), (q, added) in sorted(keep.items(), key=lambda kv: (sites.index.get_loc(kv[0][0]), kv[0][1])):
        new = s in opened
        fixed_cost = float(sites.at[s, "fixed_cost"]) if new and s not in seen else 0.0
        seen.add(s)
        price = _price(task, s, g) if g else 0.0
        host = sites.at[s, "municipality"]
        rows.append(
            (
                s,
                sites.at[s, "name"],
                host,
                muni.at[host, "name"],
                sites.at[s, "province"],
                sites.at[s, "kind"],
                g,
                q,
                added,
                int(new),
                fixed_cost,
                added * price,
            )
        )
    return pd.DataFrame(rows, columns=DECISION_TABLES["decision_sites"])


def _group_name(instance, group: str) -> str:
    return "places" if instance.groups is None else instance.groups.name(group)


def _groups(task, verdicts, placements: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    muni = task.municipalities
    group = placements["group"] if "group" in placements else pd.Series(ALL, index=placements.index)
    placed = placements.groupby([placements["municipality"].map(muni["province"]), group])["placed"].sum()
    added = sites.groupby(["province", "group"])["added"].sum()
    rows = []
    for v in verdicts:
        for r in v.groups.itertuples():
            got = float(placed.get((v.province, r.group), 0.0))
            rows.append(
                (
                    v.province,
                    v.name,
                    r.group,
                    r.name,
                    r.task,
                    r.committed,
                    r.covered,
                    r.short,
                    float(added.get((v.province, r.group), 0.0)),
                    got,
                    r.task - got,
                )
            )
    return pd.DataFrame(rows, columns=DECISION_TABLES["decision_groups"])


def _provinces(verdicts, committed, groups, sites, placements, policy, task) -> pd.DataFrame:
    muni = task.municipalities
    travel = (
        (placements["placed"] * placements["travel_minutes"])
        .groupby(placements["municipality"].map(muni["province"]))
        .sum()
    )
    rows = []
    for v in verdicts:
        g = groups[groups["province"] == v.province]
        own = sites[sites["province"] == v.province]
        status = "complete" if v.complete else ("incomplete" if v.file else "no plan")
        unmet = float(g["unmet"].sum())
        cost = 0.0
        if not v.complete:
            cost = float(own["fixed_cost"].sum() + own["place_cost"].sum()) + policy.travel_value * float(
                travel.get(v.province, 0.0)
            )
            cost += sum(policy.penalty_of(group) * u for group, u in zip(g["group"], g["unmet"]))
        rows.append(
            (
                v.province,
                v.name,
                v.file or "",
                status,
                float(g["task"].sum()),
                float(g["committed"].sum()),
                float(g["within_reach"].sum()),
                float(g["short"].sum()),
                float(own["added"].sum()),
                unmet,
                int(own.loc[own["new"] == 1, "site"].nunique()),
                committed[v.province].cost if v.province in committed else 0.0,
                cost,
            )
        )
    return pd.DataFrame(rows, columns=DECISION_TABLES["decision_provinces"])


def _assigned(instance, sites: pd.DataFrame) -> pd.DataFrame:
    """Places each municipality must realise by the decision: those added at sites in it, per group."""
    added = sites[sites["added"] > 0]
    rows = []
    for (m, g), part in added.groupby(["municipality", "group"], sort=True):
        rows.append(
            (
                m,
                part["municipality_name"].iloc[0],
                part["province"].iloc[0],
                g,
                _group_name(instance, g),
                float(part["added"].sum()),
                ";".join(part["site"]),
            )
        )
    return pd.DataFrame(rows, columns=DECISION_TABLES["assigned"])
