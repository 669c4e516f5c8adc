"""Demand as the policy scales it, re-derived here with exact arithmetic of the checker's own."""

from __future__ import annotations

from fractions import Fraction


def scaled_demand(demand: dict[str, int], scale: float) -> dict[str, int]:
    """Each municipality's demand times ``scale`` in whole places.

    The national total is ``scale`` times the total, rounded half up; it is shared out in
    proportion to the demand by the largest-remainder method, ties to the smaller id.
    """
    if scale == 1:
        return dict(demand)
    whole = sum(demand.values())
    if whole == 0:
        return dict(demand)
    total = int(Fraction(whole) * Fraction(scale) + Fraction(1, 2))
    quota = {i: Fraction(total * d, whole) for i, d in demand.items()}
    out = {i: q.numerator // q.denominator for i, q in quota.items()}
    rest = total - sum(out.values())
    for i in sorted(quota, key=lambda i: (out[i] - quota[i], i))[:rest]:
        out[i] += 1
    return out
