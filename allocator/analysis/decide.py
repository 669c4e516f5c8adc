"""The minister's allocation decision: the plans as given, every shortfall closed at least cost (models/README.md).

Chains the plan check (which provinces fall short, by how much), the decision model for those
provinces, the decision's tables, and the independent check of the decision.
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
from ..data.policy import Policy, site_fixings
from ..data.province import province_instance
from ..model.decision import Commitments, build_decision_model
from ..model.heuristic import greedy_start
from ..results.decision import DECISION_TABLES, Decision
from ..results.extract import versions
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions, SolveResult, Status


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
    """One province's plan as the decision keeps it: its sites (with the existing ones), its places, their cost."""

    sites: frozenset[str]
    places: dict  # (site, group) -> places
    cost: float


def decide(instance, policy: Policy, plan: Plan, options: SolveOptions | None = None) -> DecisionOutcome:
    """The allocation decision for ``instance`` given the provinces' ``plan`` (a province without a plan commits nothing)."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    verdicts = check_plan(plan, instance, policy, provinces=list(instance.provinces.index))
    outcome = DecisionOutcome(verdicts, None, None, None)
    if outcome.blocked:
        return outcome
    committed = {p: _committed(instance, policy, plan, p) for p in plan.provinces}
    decided = [v.province for v in verdicts if not v.complete]
    model = None
    if decided:
        model = _model(instance, policy, committed, decided)
        outcome.result = SolveSession(model, options).solve(start=greedy_start(model))
        if not outcome.result.has_plan:
            return outcome
    decision = _tables(instance, policy, plan, verdicts, committed, model, outcome.result)
    decision.summary["timings"] = {"decide": round(time.perf_counter() - t0, 4)}
    outcome.decision = decision
    outcome.check = check_decision(decision, instance, policy, plan)
    decision.summary["check"] = {"passed": outcome.check.passed, "violations": outcome.check.violations}
    if not outcome.check.passed:
        decision.summary["status"] = Status.ERROR.value
    return outcome


def _committed(instance, policy: Policy, plan: Plan, province: str) -> _Committed:
    rows = plan.of(province)
    places = {k: int(q) for k, q in rows.groupby(["site", "group"], sort=True)["places"].sum().items()}
    sites = set(rows["site"])
    sites |= {
        s
        for s, f in site_fixings(instance, policy).items()
        if f.value == 1 and instance.sites.at[s, "province"] == province
    }
    cost = sum(float(instance.sites.at[s, "fixed_cost"]) for s in sites)
    cost += sum(q * _price(instance, s, g) for (s, g), q in places.items())
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
    """The decision model over the provinces to decide; the budget is what the untouched plans leave."""
    own = dataclasses.replace(province_instance(instance, decided), budget=None)
    budget = policy.effective_budget(instance.budget)
    if budget is not None:
        budget -= sum(c.cost for p, c in committed.items() if p not in decided)
    own_policy = policy.with_(budget=math.inf if budget is None else budget)
    grouped = instance.groups is not None
    places, sites = {}, set()
    for p in decided:
        if p in committed:
            sites |= committed[p].sites
            places.update({(k if grouped else k[0]): q for k, q in committed[p].places.items()})
    return build_decision_model(own, own_policy, Commitments(places, frozenset(sites)))


def _tables(instance, policy, plan, verdicts, committed, model, result) -> Decision:
    """The decision's tables from the solved model (decided provinces) and the plan check (untouched ones)."""
    decided = {v.province for v in verdicts if not v.complete}
    values = _values(model) if model is not None else _Values({}, {}, {}, {})
    placements = _placements(instance, verdicts, decided, values, policy)
    sites = _sites(instance, committed, decided, values)
    groups = _groups(instance, verdicts, decided, placements, sites)
    provinces = _provinces(instance, plan, verdicts, committed, groups, sites, placements, policy)
    summary = {
        "status": (result.status.value if result is not None else Status.OPTIMAL.value),
        "message": result.message if result is not None else "every plan is complete: nothing to decide",
        "objective": float(provinces["decision_cost"].sum()),
        "bound": (result.bound if result is not None else 0.0),
        "gap": (result.gap if result is not None else 0.0),
        "decided": sorted(decided),
        "committed_cost": float(provinces["committed_cost"].sum()),
        "plans": dict(sorted(plan.files.items())),
        "policy": policy.to_dict(),
        "instance": {
            "name": instance.name,
            "source": instance.source,
            "fingerprint": instance.fingerprint,
            "currency": instance.currency,
            "planning_period": instance.planning_period,
        },
        "versions": versions(),
    }
    assigned = _assigned(instance, sites)
    return Decision(summary, provinces, groups, sites, assigned, placements)


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


def _placements(instance, verdicts, decided, values: _Values, policy) -> pd.DataFrame:
    rows = []
    for a, q in values.placed.items():
        i, s = a[0], a[1]
        rows.append((i, s, a[2] if len(a) == 3 else ALL, q, _minutes(instance, i, s), "decision"))
    for v in verdicts:
        if v.province not in decided and v.attribution is not None:
            for r in v.attribution.itertuples():
                rows.append(
                    (
                        r.municipality,
                        r.site,
                        r.group,
                        float(r.places),
                        _minutes(instance, r.municipality, r.site),
                        "plan",
                    )
                )
    table = pd.DataFrame(rows, columns=DECISION_TABLES["placements"])
    table["travel_minutes"] = table["travel_minutes"].round(4)
    return table.sort_values(["municipality", "site", "group"], kind="stable").reset_index(drop=True)


def _minutes(instance, municipality: str, site: str) -> float:
    return float(
        instance.travel[instance.municipalities.index.get_loc(municipality), instance.sites.index.get_loc(site)]
    )


def _sites(instance, committed: dict, decided: set, values: _Values) -> pd.DataFrame:
    """One row per site and group with committed or added places; a site's fixed cost on its first row when the decision opens it."""
    keep: dict = {}
    for c in committed.values():
        for (s, g), q in c.places.items():
            keep.setdefault((s, g), [0.0, 0.0])[0] += q
    for k, q in values.added.items():
        s, g = (k, ALL) if isinstance(k, str) else k
        keep.setdefault((s, g), [0.0, 0.0])[1] += q
    opened = {s for s, o in values.open_site.items() if o}
    fixed = set().union(*(c.sites for c in committed.values())) if committed else set()
    for s in opened | fixed:
        if not any(k[0] == s for k in keep):
            keep[(s, "")] = [0.0, 0.0]
    rows, seen = [], set()
    sites, muni = instance.sites, instance.municipalities
    for (s, g), (q, added) in sorted(keep.items(), key=lambda kv: (sites.index.get_loc(kv[0][0]), kv[0][1])):
        new = s in opened and s not in fixed and sites.at[s, "province"] in decided
        fixed_cost = float(sites.at[s, "fixed_cost"]) if new and s not in seen else 0.0
        seen.add(s)
        price = _price(instance, s, g) if g else 0.0
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
    return pd.DataFrame(rows, columns=DECISION_TABLES["sites"])


def _group_name(instance, group: str) -> str:
    return "places" if instance.groups is None else instance.groups.name(group)


def _groups(instance, verdicts, decided, placements: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    muni = instance.municipalities
    placed = placements.groupby([placements["municipality"].map(muni["province"]), placements["group"]])["places"].sum()
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
    return pd.DataFrame(rows, columns=DECISION_TABLES["groups"])


def _provinces(instance, plan, verdicts, committed, groups, sites, placements, policy) -> pd.DataFrame:
    muni = instance.municipalities
    travel = (
        (placements["places"] * placements["travel_minutes"])
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
            cost += policy.unmet_penalty * unmet
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
    return pd.DataFrame(rows, columns=DECISION_TABLES["provinces"])


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
