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
