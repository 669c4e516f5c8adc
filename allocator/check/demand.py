"""Demand as the policy scales it, and need shared out, re-derived here with exact arithmetic of the checker's own."""

from __future__ import annotations

from fractions import Fraction


def scaled_demand(demand: dict[str, int], scale: float) -> dict[str, int]:
    """Each municipality's demand times ``scale`` in whole places.

    The national total is ``scale`` times the total, rounded half up; it is shared out in
    proportion to the demand by the largest-remainder method, ties to the smaller id.
    """
    whole = sum(demand.values())
    if scale == 1 or whole == 0:
        return dict(demand)
    total = int(Fraction(whole) * Fraction(scale) + Fraction(1, 2))
    return split(total, {i: Fraction(d) for i, d in demand.items()})


def split(total: int, shares: dict[str, Fraction]) -> dict[str, int]:
    """``total`` in proportion to ``shares``, whole numbers by largest remainder (ties to the smaller id)."""
    weight = sum(shares.values(), Fraction(0))
    if weight == 0:
        return {k: 0 for k in shares}
    quota = {k: total * v / weight for k, v in shares.items()}
    out = {k: q.numerator // q.denominator for k, q in quota.items()}
    for k in sorted(quota, key=lambda k: (out[k] - quota[k], k))[: total - sum(out.values())]:
        out[k] += 1
    return out


def with_backlog(units: dict, group: str | None, province_of, rate_of, periods: list[str]) -> dict:
    """Demand per (t, ω) and unit with the backlog of the housing task added to ``group`` (None: ``units`` as they are).

    Per province and period ``rate_of(p)`` times the group's task is housed (rounded half up, shared out
    in proportion to the task as above); what is not housed stays in reception in every later period.
    """
    if group is None:
        return units
    out = {case: dict(u) for case, u in units.items()}
    for w in dict.fromkeys(w for _, w in units):
        left: dict[str, int] = {}
        for t in periods:
            by_province: dict[str, dict[str, int]] = {}
            for (i, g), d in units[(t, w)].items():
                if g == group:
                    by_province.setdefault(province_of[i], {})[i] = d
            for p, task in by_province.items():
                housed = scaled_demand(task, rate_of(p))
                for i, d in task.items():
                    out[(t, w)][(i, group)] = d + left.get(i, 0)
                    left[i] = left.get(i, 0) + d - housed[i]
    return out
