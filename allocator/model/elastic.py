"""Elastic rows: the hard rules with a penalised slack, so that the fewest relaxations can be found.

A model built with ``elastic=True`` adds to every hard row (large-site rule, minimum sizes, budget,
mean travel limit, fair share) and to every fixing a slack ``elastic_slack[k] <= upper_k * elastic_used[k]``.
The builders in :mod:`allocator.model.build` add the slack to their own rows, so a change to a
rule changes its elastic form with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

FAMILIES = ("large_below", "large_above", "site_min_size", "budget_limit", "mean_travel_limit", "fair_share", "fixing")


@dataclass(frozen=True)
class Slack:
    """One relaxable rule: its family (see FAMILIES), the province or site it concerns, its largest amount."""

    family: str
    key: str
    upper: float
    detail: str = ""  # fixings: the policy key that fixed the site


class Elastic:
    """The slacks of one elastic model, in the order the builders added them."""

    def __init__(self, m):
        m.elastic_slack = pyo.VarList(domain=pyo.NonNegativeReals)
        m.elastic_used = pyo.VarList(domain=pyo.Binary)
        m.elastic_switch = pyo.ConstraintList()
        self._model = m
        self.slacks: list[Slack] = []
        self.amounts: list = []  # elastic_slack variables, by slack
        self.used: list = []  # elastic_used variables, by slack

    def slack(self, family: str, key: str, upper: float, detail: str = ""):
        """A new slack variable for a row of ``family``; it is nonzero only when its switch is on."""
        m = self._model
        amount = m.elastic_slack.add()
        amount.setub(float(upper))
        used = m.elastic_used.add()
        m.elastic_switch.add(amount - float(upper) * used <= 0)
        self.slacks.append(Slack(family, key, float(upper), detail))
        self.amounts.append(amount)
        self.used.append(used)
        return amount
