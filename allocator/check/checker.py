"""Run every family's check on a plan of any shape and collect the violations."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.period import summary_instance
from ..data.policy import load_policy_dict
from ..data.province import scope_of, scoped_instance
from ..results.solution import Solution
from . import families
from .snapshot import SNAPSHOT, read_snapshot


@dataclass
class CheckReport:
    """Every violation found (``family[index]: message``) and the objective as recomputed."""

    violations: list[str] = field(default_factory=list)
    objective: float | None = None
    policy: str | None = None  # the name of the policy the plan was checked against

    @property
    def passed(self) -> bool:
        """No violation was found."""
        return not self.violations

    def add(self, constraint: str, message: str) -> None:
        """Record one violation of ``constraint``."""
        self.violations.append(f"{constraint}: {message}")


def check_solution(solution: Solution, instance, policy=None, spare: dict | None = None) -> CheckReport:
    """Every violation of the instance's constraints under ``policy`` (default: the one in summary.json), and every
    table or summary figure that differs from its recomputation.

    ``spare``: places per site that exist beyond those placed for municipalities (an allocation decision keeps a
    plan's committed places even where nobody needs them); they count towards a site's minimum size.
    Raises SolutionError when the folder does not describe a plan of this instance (unknown or missing rows).
    """
    report = CheckReport()
    if policy is None:
        policy = load_policy_dict(solution.summary.get("policy") or {})
    instance = summary_instance(instance, solution.summary)  # a plan of one period of an instance with periods
    scope = scope_of(solution.summary)
    if scope is not None:
        # A provincial plan, merged plans and a decision answer for their scope only: its provinces, the groups of
        # the provinces' task and the sites that take them (the policy holds the provinces' budget share).
        instance = scoped_instance(instance, scope)
    ctx = read_snapshot(solution, instance, policy, spare or {})
    report.policy = policy.name
    families.check_instance(solution, instance, report)
    return run(ctx, SNAPSHOT, report)


def run(ctx, own: tuple, report: CheckReport) -> CheckReport:
    """The shared families over the plan's cases, then the checks of what only its shape has."""
    ctx.recompute()
    for check in families.SHARED + own:
        check(ctx, report)
    report.objective = ctx.objective
    return report
