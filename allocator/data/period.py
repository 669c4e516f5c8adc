"""One period of an instance with periods, as an instance of one snapshot (models/README.md, "One period").

What plans one snapshot (a provincial plan, its check against the task, merged plans, the allocation
decision, an explanation) answers for an instance with periods period by period: the need of one period
and scenario (per demand group where it has groups), the sites that may be in service then, and the
period's budget. A snapshot is the one-period case of the plan over periods, so the figures are those of
that period in the plan over periods, before any cost of opening, closing or moving.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ..core.errors import InputError, Problem
from .groups import Groups
from .horizon import LIFECYCLE_NAMES
from .housing import housing_need
from .instance import Instance
from .policy import Policy, load_policy_dict


@dataclasses.dataclass(frozen=True)
class Period:
    """The period and scenario an instance of one snapshot was cut from."""

    period: str
    scenario: str

    def to_dict(self) -> dict:
        """As summary.json records it (``period``)."""
        return {"period": self.period, "scenario": self.scenario}

    @property
    def label(self) -> str:
        return f"{self.period}, scenario {self.scenario}"


def chosen_period(instance: Instance, period: str | None, scenario: str | None, option: str = "--period") -> Period:
    """The period and scenario asked for, checked against the instance: one scenario may be left out when the
    instance has only one. Raises InputError naming the option and the choices."""
    h = instance.horizon
    if h is None:
        raise InputError(
            [
                Problem(
                    option, f"needs an instance with periods (periods.csv) and {instance.name} has none: drop {option}"
                )
            ]
        )
    if period is None:
        which = f"give {option} (periods: {', '.join(h.period_ids)})"
        if scenario is None and len(h.scenarios) > 1:
            which += f" and --scenario (scenarios: {', '.join(h.scenarios)})"
        raise InputError([Problem(option, f"the instance has periods and this plans one of them: {which}")])
    problems = []
    if period not in h.period_ids:
        problems.append(Problem(option, f"unknown period (periods: {', '.join(h.period_ids)})", value=period))
    if scenario is None and len(h.scenarios) == 1:
        scenario = h.scenarios[0]
    if scenario is None:
        problems.append(
            Problem("--scenario", f"give the scenario of the period's need (scenarios: {', '.join(h.scenarios)})")
        )
    elif scenario not in h.scenarios:
        problems.append(
            Problem("--scenario", f"unknown scenario (scenarios: {', '.join(h.scenarios)})", value=scenario)
        )
    if problems:
        raise InputError(problems)
    return Period(period, scenario)


def period_of(summary: dict) -> Period | None:
    """The period a solution folder's summary.json records (a plan of one period of an instance with periods)."""
    facts = summary.get("instance")
    given = facts.get("period") if isinstance(facts, dict) else None
    if isinstance(given, dict) and isinstance(given.get("period"), str) and isinstance(given.get("scenario"), str):
        return Period(given["period"], given["scenario"])
    return None


def summary_instance(instance: Instance, summary: dict) -> Instance:
    """The instance a solution's summary.json describes: one period of ``instance`` if it records one (with the
    status holders' backlog of the policy it records)."""
    at = period_of(summary)
    if at is None or instance.horizon is None:
        return instance
    return period_instance(instance, at, load_policy_dict(summary.get("policy") or {}))


def period_instance(instance: Instance, at: Period, policy: Policy | None = None) -> Instance:
    """``instance`` in period ``at.period`` under scenario ``at.scenario``, as an instance of one snapshot.

    - demand: the need of (t, ω) per municipality (per municipality and group with demand groups; the group of the
      housing task with the backlog the ``policy``'s housing_rate leaves since the first period);
    - sites: those that may be in service in t (earliest_open at or before t); an existing site whose contract
      ended before t is a candidate again (opening it is a new decision);
    - budget: the period's budget of periods.csv, per planning period (B_t / (y_t / Y)), else the instance's.
    """
    h = instance.horizon
    position = {t: k for k, t in enumerate(h.period_ids)}
    k = position[at.period]
    life = h.lifecycle

    def life_value(s: str, column: str):
        value = life.at[s, column] if s in life.index else None
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    sites = instance.sites
    earliest = [life_value(s, "earliest_open") for s in sites.index]
    keep = [e is None or position[e] <= k for e in earliest]
    kept = sites[keep].drop(columns=[c for c in LIFECYCLE_NAMES if c in sites.columns])
    ended = [
        s
        for s in kept.index
        if kept.at[s, "status"] == "existing"
        and life_value(s, "contract_end") is not None
        and position[life_value(s, "contract_end")] < k
    ]
    kept = kept.assign(status=["candidate" if s in ended else v for s, v in kept["status"].items()])
    municipalities = instance.municipalities.copy()
    groups = instance.groups
    if groups is None:
        need = h.demand[(at.period, at.scenario)]
        municipalities["demand"] = [int(need.get(i, 0)) for i in municipalities.index]
    else:
        units = (
            h.group_demand[(at.period, at.scenario)]
            if policy is None or policy.houses_all
            else housing_need(instance, policy, (at.scenario,), (at.period,))[(at.period, at.scenario)]
        )
        groups = _period_groups(groups, units, municipalities.index, kept.index)
        municipalities["demand"] = groups.demand[groups.province_groups].sum(axis=1).astype("int64")
    given = h.periods.at[at.period, "budget"]
    span = float(h.periods.at[at.period, "years"]) / h.years_per_planning_period
    budget = float(given) / span if not math.isnan(given) else instance.budget
    return dataclasses.replace(
        instance,
        municipalities=municipalities,
        sites=kept,
        travel_times=instance.travel_times.subset(np.ones(len(municipalities), dtype=bool), np.array(keep, dtype=bool)),
        budget=budget,
        groups=groups,
        horizon=None,
        period=(at.period, at.scenario),
    )


def _period_groups(groups: Groups, units: dict[tuple[str, str], int], municipalities, sites) -> Groups:
    """The groups with the demand of one period and scenario, at the sites kept."""
    demand = pd.DataFrame(0, index=municipalities, columns=groups.ids, dtype="int64")
    for (i, g), places in units.items():
        demand.at[i, g] = int(places)
    eligible = groups.eligible
    return Groups(
        table=groups.table,
        demand=demand,
        eligible=eligible[eligible["site"].isin(set(sites))].reset_index(drop=True),
        housing=groups.housing,
    )
