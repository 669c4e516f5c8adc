"""Plans over several periods, chained: build, solve, extract, check; the myopic baseline; the
evaluation of a site plan in other scenarios; the comparisons a reader needs (integrated against
myopic, the band against mid alone: the price of robustness and the regret).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from ..check.checker import CheckReport
from ..check.horizon import check_horizon_solution
from ..core.errors import PolicyError, Problem
from ..data.horizon import BAND
from ..data.instance import Instance
from ..data.policy import Policy, Risk
from ..model.horizon import History, build_horizon_model, fix_states
from ..model.start import greedy_start
from ..results.extract import extract_horizon, period_load, site_events, state_of
from ..results.solution import HorizonSolution
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions, SolveResult, Status, worst_status
from .pipeline import verify


@dataclass
class HorizonOutcome:
    """What a plan over several periods produced. ``solution`` and ``check`` are None when there is no plan."""

    result: SolveResult
    solution: HorizonSolution | None
    check: CheckReport | None
    parts: list  # the solved models: one for the integrated plan, one per scenario for the myopic baseline
    timings: dict

    @property
    def status(self) -> Status:
        return self.result.status


def scenarios_for(instance: Instance, scenario: str | None) -> tuple[str, ...]:
    """The scenarios a plan is made for: every one for ``band`` (or None), else the one named."""
    known = instance.horizon.scenarios
    if scenario in (None, BAND):
        return known
    if scenario not in known:
        raise PolicyError(
            [Problem("--scenario", f"unknown scenario (known: {', '.join(known)}, or {BAND})", value=scenario)]
        )
    return (scenario,)


@dataclass
class TimeShare:
    """One time limit for several solves: each takes its weight's share of what is left when it starts."""

    options: SolveOptions
    weight_left: float
    start: float = dataclasses.field(default_factory=time.perf_counter)

    def take(self, weight: float) -> SolveOptions:
        """The options of the next solve, with its share of the time left."""
        left = max(self.options.time_limit - (time.perf_counter() - self.start), 0.0)
        share = left * min(weight / max(self.weight_left, weight), 1.0)
        self.weight_left = max(self.weight_left - weight, 0.0)
        return dataclasses.replace(self.options, time_limit=share)


def plan_horizon(
    instance: Instance,
    policy: Policy,
    options: SolveOptions | None = None,
    scenario: str | None = None,
    timings: dict | None = None,
    start_states: dict | None = None,
) -> HorizonOutcome:
    """The integrated plan: build, solve (from the better of a greedy start and ``start_states``, a site plan
    such as the myopic one, evaluated), extract and check."""
    options = options or SolveOptions()
    timings = dict(timings or {})
    scenarios = scenarios_for(instance, scenario)
    policy.weights_for(scenarios)  # refuses weights that miss a scenario before anything is built
    t = time.perf_counter()
    model = build_horizon_model(instance, policy, scenarios)
    timings["build"] = time.perf_counter() - t
    t = time.perf_counter()
    share = TimeShare(options, 4.0)
    start = greedy_start(model)
    if start_states is not None:
        start = _better_start(instance, policy, model, start, start_states, share.take(1.0))
    timings["heuristic"] = time.perf_counter() - t
    result = solve_from(model, share.take(3.0), start)
    if result.has_plan and policy.risk is Risk.WORST and len(scenarios) > 1:
        result = _settle_worst(instance, policy, model, result, options)
    return _finish(instance, policy, [model], result, "integrated", _label(scenario, scenarios), options, timings)


def _better_start(instance, policy, model, greedy: dict, states: dict, options: SolveOptions) -> dict:
    """The start of lower cost: the greedy one, or the site plan ``states`` with its placements solved."""
    evaluation, result = evaluate(instance, policy.with_(risk=Risk.EXPECTED), states, model.data.scenarios, options)
    if not result.has_plan:
        return greedy
    given = {}
    for name in (
        "open_site",
        "standby_site",
        "site_opening",
        "site_closing",
        "site_extension",
        "placed",
        "emergency",
        "unmet",
        "moved",
    ):
        source = getattr(evaluation, name)
        given.update({id(var): source[key].value or 0.0 for key, var in getattr(model, name).items()})
    if policy.risk is Risk.WORST:
        given[id(model.worst_cost)] = max(pyo.value(evaluation.scenario_cost[w]) for w in evaluation.SCENARIOS)
    repn = generate_standard_repn(model.total_cost.expr, compute_values=False)

    def cost(values: dict) -> float:
        return repn.constant + sum(c * values.get(id(v), 0.0) for c, v in zip(repn.linear_coefs, repn.linear_vars))

    return given if cost(given) < cost(greedy) else greedy


def solve_from(model, options: SolveOptions, start: dict) -> SolveResult:
    """Solve ``model`` from ``start``; when the time runs out before HiGHS has a plan, the start is the plan
    (status time limit, no bound), so that a short share of the time limit still gives one. The check of the
    extracted plan says whether it keeps every rule."""
    result = SolveSession(model, options).solve(start=start)
    if result.has_plan or result.status is not Status.TIME_LIMIT_NO_PLAN:
        return result
    for var in model.component_data_objects(pyo.Var):
        var.set_value(start.get(id(var), 0.0), skip_validation=True)
    if not _keeps_every_row(model):
        return result
    return dataclasses.replace(
        result,
        status=Status.TIME_LIMIT,
        objective=float(pyo.value(model.total_cost)),
        values=dict(start),
        message="time limit reached before the solver had a plan: the greedy start is the plan",
    )


def _keeps_every_row(model, tol: float = 1e-6) -> bool:
    """The variables' values keep every bound and row of ``model``."""
    for var in model.component_data_objects(pyo.Var):
        v = var.value or 0.0
        if (var.lb is not None and v < var.lb - tol) or (var.ub is not None and v > var.ub + tol):
            return False
    for row in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(row.body)
        scale = tol * max(1.0, abs(body))
        if (row.has_lb() and body < pyo.value(row.lower) - scale) or (
            row.has_ub() and body > pyo.value(row.upper) + scale
        ):
            return False
    return True


def _label(scenario: str | None, scenarios: tuple[str, ...]) -> str:
    """What the plan is for: the scenario named, else band (or the instance's only scenario)."""
    return scenario if scenario not in (None, BAND) else (BAND if len(scenarios) > 1 else scenarios[0])


def _settle_worst(instance, policy, model, result: SolveResult, options) -> SolveResult:
    """With risk = worst only the worst scenario's placements are optimised; re-solve the others with the site plan fixed.

    The objective stays the worst scenario's cost plus the site costs; the bound is the solve's.
    """
    states = {(s, t): state_of(model, s, t) for s in model.SITES for t in model.PERIODS}
    evaluation = build_horizon_model(instance, policy.with_(risk=Risk.EXPECTED), model.data.scenarios)
    fix_states(evaluation, states)
    settled = SolveSession(evaluation, options).solve()
    if not settled.has_plan:
        return result
    for name in ("placed", "emergency", "unmet", "moved"):
        source = getattr(evaluation, name)
        for key, var in getattr(model, name).items():
            var.set_value(source[key].value, skip_validation=True)
    worst = max(pyo.value(model.scenario_cost[w]) for w in model.SCENARIOS)
    objective = pyo.value(model.site_cost_total) + worst
    model.worst_cost.set_value(worst, skip_validation=True)
    bound = None if result.bound is None else min(result.bound, objective)
    gap = (
        None
        if bound is None
        else (0.0 if objective == bound else max(objective - bound, 0.0) / max(abs(objective), 1e-9))
    )
    return dataclasses.replace(result, objective=objective, bound=bound, gap=gap)


def _finish(instance, policy, parts, result: SolveResult, plan: str, scenario: str, options, timings) -> HorizonOutcome:
    if not result.has_plan:
        return HorizonOutcome(result, None, None, parts, {**timings, **result.timings})
    t = time.perf_counter()
    solution = extract_horizon(instance, policy, parts, result, plan, scenario, options, timings)
    timings["extract"] = time.perf_counter() - t
    result, report = verify(solution, lambda: check_horizon_solution(solution, instance, policy), result, timings)
    return HorizonOutcome(result, solution, report, parts, solution.summary["timings"])


def myopic_states(
    instance: Instance, policy: Policy, scenario: str, options: SolveOptions, share: TimeShare | None = None
) -> tuple[dict | None, SolveResult]:
    """The myopic plan for one scenario: period by period, each seeing its own demand and inheriting the state before
    and the people placed before (so that it pays the moves it causes; each period with its share of ``share``'s
    time, when given).

    Returns the states ((site, period) -> state) and the last solve's result (no states if a period has no plan).
    """
    h = instance.horizon
    history = History()
    states: dict[tuple[str, str], str] = {}
    result = None
    for t in h.period_ids:
        model = build_horizon_model(instance, policy, (scenario,), (t,), history)
        result = solve_from(model, options if share is None else share.take(1.0), greedy_start(model))
        if not result.has_plan:
            return None, result
        events = {s: site_events(model, s).get(t) for s in model.SITES}
        states.update({(s, t): state_of(model, s, t) for s in model.SITES})
        offset = float(h.periods.at[t, "offset"])
        history = History(
            in_service={s: int(states[(s, t)] != "closed") for s in model.SITES},
            last_opening={**history.last_opening, **{s: offset for s, e in events.items() if e == "opening"}},
            extended=history.extended | {s for s, e in events.items() if e == "extension"},
            load=period_load(model, t, scenario),
        )
    return states, result


def evaluate(instance: Instance, policy: Policy, states: dict, scenarios: tuple[str, ...], options: SolveOptions):
    """A site plan (states) in ``scenarios``: the full horizon with the states fixed, placements re-solved. (model, result)."""
    model = build_horizon_model(instance, policy.with_(risk=Risk.EXPECTED), scenarios)
    fix_states(model, states)
    return model, solve_from(model, options, greedy_start(model))


def plan_myopic(
    instance: Instance,
    policy: Policy,
    options: SolveOptions | None = None,
    scenario: str | None = None,
    timings: dict | None = None,
    share: TimeShare | None = None,
) -> HorizonOutcome:
    """The myopic baseline: for each scenario, the plan made period by period, then evaluated over the horizon.

    Every period's solve and every evaluation gets one share of the time limit (of ``share``, when given).
    """
    options = options or SolveOptions()
    timings = dict(timings or {})
    scenarios = scenarios_for(instance, scenario)
    weights = policy.weights_for(scenarios)
    share = share or TimeShare(options, len(scenarios) * (len(instance.horizon.period_ids) + 1))
    t = time.perf_counter()
    parts, results = [], []
    for w in scenarios:
        states, result = myopic_states(instance, policy, w, options, share)
        if states is None:
            return HorizonOutcome(result, None, None, parts, {**timings, "solve": time.perf_counter() - t})
        model, result = evaluate(instance, policy, states, (w,), share.take(1.0))
        if not result.has_plan:
            return HorizonOutcome(result, None, None, parts, {**timings, "solve": time.perf_counter() - t})
        parts.append(model)
        results.append(result)
    timings["solve"] = time.perf_counter() - t
    costs = {w: r.objective for w, r in zip(scenarios, results)}
    objective = max(costs.values()) if policy.risk is Risk.WORST else sum(weights[w] * costs[w] for w in scenarios)
    status = worst_status(r.status for r in results)
    combined = SolveResult(
        status,
        objective,
        None,
        None,
        message="each period planned on its own; no bound for the horizon",
        timings={"solve": timings["solve"]},
        blocks=sum(r.blocks for r in results),
        values={},
    )
    return _finish(instance, policy, parts, combined, "myopic", _label(scenario, scenarios), options, timings)


def plan_figures(summary: dict) -> dict:
    """The KPIs of a plan's summary as single numbers, for tables with one row a plan: the openings, closings and
    extensions of its one site plan (the same in every scenario), its moves weighted as the other KPIs are
    (``expected_moves``) and the status holders' backlog in reception, the places a housing rate below 1 adds
    (``expected_extra_place_periods``)."""
    kpis, weights = summary["kpis"], summary["weights"]
    housing = (summary.get("housing") or {}).get("periods") or []
    return {
        **kpis,
        **{name: max(kpis[name].values()) for name in ("openings", "closings", "extensions")},
        "expected_moves": sum(weights[w] * moves for w, moves in kpis["moves"].items()),
        "expected_extra_place_periods": sum(weights.get(r["scenario"], 0) * r["extra_places"] for r in housing),
    }


def plan_states(solution: HorizonSolution, scenario: str) -> dict[tuple[str, str], str]:
    """The site plan of a solution under one scenario: (site, period) -> state."""
    tl = solution.timeline[solution.timeline["scenario"] == scenario]
    return dict(zip(zip(tl["site"], tl["period"]), tl["state"]))


def comparison_table(
    alone: dict[str, HorizonSolution], myopic: HorizonSolution, band: HorizonSolution | None = None
) -> pd.DataFrame:
    """Per scenario: the plan made for it alone (looking ahead), the myopic plan reacting to it, and the band plan.

    Money spent (without the travel value), openings, closings, person-moves, emergency and unmet place-periods.
    The first two know the same about the scenario; they differ only in looking ahead.
    """
    tables = {"integrated": {w: s.scenarios.set_index("scenario") for w, s in alone.items()}}
    tables["myopic"] = {w: myopic.scenarios.set_index("scenario") for w in alone}
    if band is not None:
        tables["band"] = {w: band.scenarios.set_index("scenario") for w in alone}
    rows = []
    for w in alone:
        for plan, by_scenario in tables.items():
            r = by_scenario[w].loc[w]
            rows.append(
                {
                    "scenario": w,
                    "plan": plan,
                    "total_cost": r["total_cost"],
                    "objective": r["objective"],
                    "openings": int(r["openings"]),
                    "closings": int(r["closings"]),
                    "extensions": int(r["extensions"]),
                    "moves": r["moves"],
                    "emergency_place_periods": r["emergency"],
                    "unmet_place_periods": r["unmet"],
                    "nights_above_limit": int(r["nights_above_limit"]),
                }
            )
    return pd.DataFrame(rows)


def robustness_table(
    instance: Instance,
    policy: Policy,
    band: HorizonSolution,
    alone: dict[str, HorizonSolution],
    options: SolveOptions,
    reference: str = "mid",
    worst: str = "high",
) -> tuple[pd.DataFrame, dict]:
    """The band plan against the plan for ``reference`` alone, both evaluated in every scenario.

    Returns per scenario the two plans' objective, and a summary with the price of robustness (in
    the reference scenario and in expectation) and the regret of the reference-only plan in
    ``worst``: its cost there minus that of the plan made for ``worst`` alone (in ``alone``).
    """
    scenarios = tuple(band.summary["scenarios"])
    weights = policy.weights_for(scenarios)
    model, result = evaluate(instance, policy, plan_states(alone[reference], reference), scenarios, options)
    if not result.has_plan:
        return pd.DataFrame(), {
            "status": f"the {reference}-only plan has no placements in every scenario ({result.status.value})"
        }
    reference_cost = {w: pyo.value(model.site_cost_total) + pyo.value(model.scenario_cost[w]) for w in scenarios}
    band_cost = dict(zip(band.scenarios["scenario"], band.scenarios["objective"]))
    rows = [
        {
            "scenario": w,
            "weight": weights[w],
            "band_plan": band_cost[w],
            f"{reference}_plan": reference_cost[w],
            "difference": band_cost[w] - reference_cost[w],
        }
        for w in scenarios
    ]
    expected = {
        k: sum(weights[w] * c[w] for w in scenarios) for k, c in (("band", band_cost), ("reference", reference_cost))
    }
    summary = {
        "reference": reference,
        "worst": worst,
        "price_of_robustness": band_cost[reference] - reference_cost[reference],
        "expected_difference": expected["band"] - expected["reference"],
        "regret": reference_cost[worst] - alone[worst].objective,
        "evaluation_status": result.status.value,
    }
    return pd.DataFrame(rows), summary


def plan_with_baselines(
    instance: Instance,
    policy: Policy,
    options: SolveOptions | None = None,
    scenario: str | None = None,
    timings: dict | None = None,
) -> HorizonOutcome:
    """The plan with its comparisons, within one time limit: the myopic baseline per scenario (in ``baseline``)
    first, then the plan for each scenario alone and for the band, each from the better of the greedy start and
    the myopic plan (so that looking ahead is never worse than the myopic plan it is compared with), and for a
    band with mid and high the price of robustness and the regret.

    The time limit is shared: a period's solve or an evaluation counts once, a plan over every period as many
    times as there are periods.
    """
    options = options or SolveOptions()
    scenarios = scenarios_for(instance, scenario)
    n, many = len(instance.horizon.period_ids), len(scenarios) > 1
    robust = many and {"mid", "high"} <= set(scenarios)
    share = TimeShare(options, len(scenarios) * (n + 1) + (len(scenarios) * n if many else 0) + n + robust)
    myopic = plan_myopic(instance, policy, options, scenario, share=share)
    starts = {w: plan_states(myopic.solution, w) for w in scenarios} if myopic.solution is not None else {}
    # What the baseline left untaken, and the plans alone that cannot be compared without it, go to the rest.
    compared = many and myopic.solution is not None
    share.weight_left = (len(scenarios) * n if compared else 0) + n + (robust and compared)
    alone = {}
    if compared:
        alone = {w: plan_horizon(instance, policy, share.take(n), w, start_states=starts[w]) for w in scenarios}
    band_start = _band_start(instance, scenarios, alone, starts)
    outcome = plan_horizon(instance, policy, share.take(n), scenario, timings, start_states=band_start)
    solution = outcome.solution
    if solution is None:
        return outcome
    if myopic.solution is None:
        solution.summary["baseline"] = {"status": myopic.status.value, "message": myopic.result.message}
        return outcome
    if not many:
        solution = dataclasses.replace(
            solution, comparison=comparison_table({scenarios[0]: solution}, myopic.solution), baseline=myopic.solution
        )
        return dataclasses.replace(outcome, solution=solution)
    missing = [w for w, o in alone.items() if o.solution is None]
    if missing:
        solution.summary["baseline"] = {"status": f"no plan for {', '.join(missing)} alone"}
        return dataclasses.replace(outcome, solution=dataclasses.replace(solution, baseline=myopic.solution))
    alone = {w: o.solution for w, o in alone.items()}
    solution = dataclasses.replace(
        solution, comparison=comparison_table(alone, myopic.solution, solution), baseline=myopic.solution
    )
    if robust:
        table, summary = robustness_table(instance, policy, solution, alone, share.take(1.0))
        solution = dataclasses.replace(solution, robustness=table)
        solution.summary["robustness"] = summary
    return dataclasses.replace(outcome, solution=solution)


def _band_start(instance: Instance, scenarios, alone: dict, myopic: dict) -> dict | None:
    """A site plan to start the band from: the plan for the scenario of the largest need (alone, else myopic)."""
    if not myopic:
        return None
    need = instance.horizon.need.groupby("scenario")["need"].sum()
    largest = max(scenarios, key=lambda w: float(need.get(w, 0)))
    plan = alone.get(largest)
    return plan_states(plan.solution, largest) if plan is not None and plan.solution is not None else myopic[largest]
