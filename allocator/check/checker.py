"""Run every family's check on a solution and collect the violations."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.period import summary_instance
from ..data.policy import load_policy_dict
from ..data.province import scope_of, scoped_instance
from ..results.solution import Solution
from . import families, operators, tables
from .context import Context

# One check per constraint family of models/README.md, named like the model's builders, in the
# order they are reported. A new family adds its builder and its check side by side.
CHECKS = (
    families.check_domains,
    families.check_demand_balance,
    families.check_site_capacity,
    families.check_group_capacity,
    families.check_site_min_size,
    families.check_large_site_per_province,
    operators.check_operator_choice,
    families.check_fixings,
    families.check_arcs,
    families.check_mean_travel_limit,
    families.check_budget_limit,
    families.check_fair_share,
    families.check_groups_table,
    families.check_objective,
    families.check_status,
    families.check_kpis,
    tables.check_placements_table,
    tables.check_sites_table,
    tables.check_municipalities_table,
    tables.check_provinces_table,
)


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
    ctx = Context.of(solution, instance, policy)
    ctx.spare = dict(spare or {})
    families.check_rows(ctx)
    report.policy = policy.name
    families.check_instance(ctx, report)
    ctx.recompute()
    for check in CHECKS:
        check(ctx, report)
    report.objective = ctx.objective
    return report
