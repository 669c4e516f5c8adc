"""Split a province task over its municipalities (the Spreidingswet key without its welfare term)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from fractions import Fraction


def split_task(task: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Split a whole-number ``task`` in proportion to ``shares`` (id -> population x weight).

    Whole places by the largest-remainder method: everyone gets the floor of their exact quota,
    and the places left go to the largest remainders, ties broken by id. The parts add up to
    ``task`` exactly. Exact rational arithmetic keeps the result independent of float rounding.
    """
    if task < 0:
        raise ValueError(f"task must be >= 0, got {task}")
    ids: Sequence[str] = sorted(shares)
    exact = {i: Fraction(shares[i]) for i in ids}
    total = sum(exact.values(), Fraction(0))
    if total <= 0:
        if task == 0:
            return {i: 0 for i in ids}
        raise ValueError("cannot split a positive task over zero total share")
    quota = {i: task * exact[i] / total for i in ids}
    parts = {i: int(quota[i]) for i in ids}  # floor: quotas are >= 0
    left = task - sum(parts.values())
    by_remainder = sorted(ids, key=lambda i: (-(quota[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


def scale_demand(demand: Mapping[str, int], scale: float) -> dict[str, int]:
    """Demand multiplied by ``scale`` in whole places: the total is rounded half up and split
    over the municipalities in proportion to their demand (largest remainder)."""
    if scale == 1:
        return dict(demand)
    total = int(Fraction(sum(demand.values())) * Fraction(scale) + Fraction(1, 2))
    if sum(demand.values()) == 0:
        return dict(demand)
    return split_task(total, demand)


def province_demand(demand: Mapping[str, int], province_of: Mapping[str, str]) -> dict[str, int]:
    """Total demand per province (provinces without demand are absent)."""
    total: dict[str, int] = defaultdict(int)
    for i, d in demand.items():
        total[province_of[i]] += d
    return dict(total)
