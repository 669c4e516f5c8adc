"""The stages chained: build, solve, extract, check. The CLI and notebooks both call this."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from ..check import CheckReport, check_solution
from ..data.instance import Instance
from ..data.plans import plan_table
from ..data.policy import Policy, load_policy
from ..data.province import province_policy, scope_record, scoped_instance, task_scope
from ..model.build import build_model
from ..model.start import greedy_start
from ..results.extract import extract_solution
from ..results.solution import Solution
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions, SolveResult, Status


@dataclass
class Outcome:
    """What a solve produced. ``solution`` and ``check`` are None when there is no plan."""

    result: SolveResult
    solution: Solution | None
    check: CheckReport | None
    model: object
    timings: dict

    @property
    def status(self) -> Status:
        return self.result.status


def solve(
    instance: Instance, policy: Policy | None = None, options: SolveOptions | None = None, timings: dict | None = None
) -> Outcome:
    """Build, solve, extract and check. A plan that fails the check is reported as an error, never as optimal."""
    policy = policy or load_policy()
    options = options or SolveOptions()
    timings = dict(timings or {})
    t = time.perf_counter()
    model = build_model(instance, policy)
    timings["build"] = time.perf_counter() - t
    t = time.perf_counter()
    start = greedy_start(model)
    timings["heuristic"] = time.perf_counter() - t
    result = SolveSession(model, options).solve(start=start)
    return finish(instance, policy, model, result, options, timings)


def solve_province(
    instance: Instance, policy: Policy, province: str, options: SolveOptions | None = None, timings: dict | None = None
) -> Outcome:
    """Plan one province on its own (its municipalities, the groups of its task, the sites that take them, its share
    of a budget). The solution records its scope (summary.json ``scope``, with what lies outside it) and carries
    its plan table (plan.csv)."""
    scope = task_scope(instance, province)
    own_policy = province_policy(instance, policy, province)
    own = scoped_instance(instance, scope)
    outcome = solve(own, own_policy, options, timings)
    if outcome.solution is not None:
        outcome.solution.summary["scope"] = scope_record(instance, scope)
        outcome.solution = dataclasses.replace(outcome.solution, plan=plan_table(outcome.solution.placements, own))
    return outcome


def finish(
    instance: Instance, policy: Policy, model, result: SolveResult, options: SolveOptions, timings: dict | None = None
) -> Outcome:
    """Extract and check the plan a solve loaded into ``model`` (nothing to do without a plan)."""
    timings = dict(timings or {})
    if not result.has_plan:
        return Outcome(result, None, None, model, {**timings, **result.timings})
    t = time.perf_counter()
    solution = extract_solution(instance, model, result, options, timings)
    timings["extract"] = time.perf_counter() - t
    result, report = verify(solution, lambda: check_solution(solution, instance, policy), result, timings)
    return Outcome(result, solution, report, model, solution.summary["timings"])


def verify(solution, check, result: SolveResult, timings: dict):
    """Run the independent ``check()`` of an extracted plan and record it, with the timings, in its summary;
    a plan that fails the check makes the result an error. Returns (result, check report)."""
    t = time.perf_counter()
    report = check()
    timings["check"] = time.perf_counter() - t
    summary = solution.summary
    summary["timings"] = {k: round(v, 4) for k, v in {**timings, **result.timings}.items()}
    summary["check"] = {"passed": report.passed, "violations": report.violations, "objective": report.objective}
    if not report.passed:
        result = dataclasses.replace(
            result,
            status=Status.ERROR,
            message="the plan failed the independent check: " + "; ".join(report.violations[:5]),
        )
        summary["status"] = result.status.value
        summary["message"] = result.message
    return result, report
