"""Status holders waiting for a home: the housing rate and the backlog it leaves (models/README.md, "Housing rate").

Each period the group of the housing task (groups.csv, housing = task) needs that period's task
(its rows in group_demand.csv). Municipalities house a share r_p of it (policy housing_rate, or
housing_rate_by_province): per province r_p times the province's task, rounded half up, split
over its municipalities in proportion to their task by largest remainder. The rest stays in
reception and is carried into every later period: need_t(i) = task_t(i) + backlog_{t-1}(i),
backlog_t(i) = backlog_{t-1}(i) + task_t(i) - housed_t(i), from a backlog of 0 before the first
period (assumption H3: the homes of a period go to its task; the backlog is not housed in the horizon).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .demand import split_task


@dataclass(frozen=True)
class HousingFlow:
    """One municipality's status holders in one period and scenario (places)."""

    task: int  # the period's housing task
    housed: int  # housed during the period
    backlog_before: int  # not housed in earlier periods, still in reception

    @property
    def in_reception(self) -> int:
        """The need of the period: its task and the backlog."""
        return self.task + self.backlog_before

    @property
    def backlog_after(self) -> int:
        return self.backlog_before + self.task - self.housed


def housed_share(task: dict[str, int], rate: float) -> dict[str, int]:
    """``rate`` times the total ``task``, rounded half up, split in proportion to ``task`` (largest remainder)."""
    total = sum(task.values())
    if rate == 1 or total == 0:
        return dict(task)
    return split_task(int(Fraction(total) * Fraction(rate) + Fraction(1, 2)), task)


def housing_flows(instance, policy, scenarios) -> dict[tuple[str, str], dict[str, HousingFlow]]:
    """(t, ω) -> municipality -> HousingFlow over all the instance's periods; empty without a group of the housing
    task or without periods."""
    h, groups = instance.horizon, instance.groups
    if h is None or groups is None or groups.housing is None:
        return {}
    g = groups.housing
    province_of = instance.municipalities["province"]
    members: dict[str, list[str]] = {}
    for i, p in province_of.items():
        members.setdefault(p, []).append(i)
    out: dict[tuple[str, str], dict[str, HousingFlow]] = {}
    for w in scenarios:
        backlog = dict.fromkeys(province_of.index, 0)
        # A back-test step knows the need of its own window only: the periods without one add no task.
        for t in (t for t in h.period_ids if (t, w) in h.demand):
            units = h.units(t, w)
            flows = {}
            for p, ids in members.items():
                task = {i: int(units.get((i, g), 0)) for i in ids}
                housed = housed_share(task, policy.housing_rate_of(p))
                for i in ids:
                    flows[i] = HousingFlow(task[i], housed[i], backlog[i])
                    backlog[i] = flows[i].backlog_after
            out[(t, w)] = flows
    return out


def housing_need(instance, policy, scenarios, periods) -> dict[tuple[str, str], dict]:
    """The demand per unit of ``periods`` and ``scenarios``, with the backlog of the housing task since the first
    period added to its group (``h.units`` itself when every province houses its whole task)."""
    h = instance.horizon
    cases = [(t, w) for t in periods for w in scenarios]
    flows = {} if policy.houses_all else housing_flows(instance, policy, scenarios)
    if not flows:
        return {c: h.units(*c) for c in cases}
    g = instance.groups.housing
    out = {}
    for c in cases:
        units = dict(h.units(*c))
        for i, flow in flows[c].items():
            units[(i, g)] = flow.in_reception
        out[c] = units
    return out
