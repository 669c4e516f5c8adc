"""Lagrangian bound, reduced-cost fixing of sites, then HiGHS on what is left."""

import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from dataclasses import replace

import numpy as np
from cfl import arrays, highs, restrict, run
from lagrange import Lagrangian
from load import problem_for


def fixings(L, lam, ub):
    p = L.p
    value, g, y, w = L.evaluate(lam)
    lo, hi = p.y_lo.copy(), p.y_hi.copy()
    hi[~L.can_open] = 0
    free = L.free
    close = free & (y < 0.5) & (value + np.where(np.isfinite(w), np.maximum(w, 0), np.inf) > ub)
    open_ = free & (y > 0.5) & (value - np.minimum(w, 0) > ub)
    for idx, low, h in p.large:
        ww = w[idx]
        chosen = y[idx] > 0.5
        if chosen.sum() == 1 and low >= 1 and h <= 1:
            wmin = ww[chosen][0]
            flip = value + (ww - wmin)
            c = ~chosen & (flip > ub)
            close[idx[c]] = True
            # the chosen one is fixed open if every alternative is closed
            if c.sum() == len(idx) - 1:
                open_[idx[chosen]] = True
    hi[close] = 0
    lo[open_ & (hi > 0)] = 1
    return value, lo, hi


if __name__ == "__main__":
    name, ub, k = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    gap = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-4
    p = problem_for(name)
    groups = sorted(set(p.unit_group.tolist()))
    blocks = [restrict(p, [g]) for g in groups] if len(groups) > 1 and p.budget is None else [p]
    blocks.sort(key=lambda b: -len(b.arc_unit))
    b = blocks[k]
    t = time.perf_counter()
    L = Lagrangian(b)
    best, lam, y, hist = L.run(ub, iterations=3000, time_limit=20, patience=50)
    tl = time.perf_counter() - t
    value, lo, hi = fixings(L, lam, ub)
    print(
        b.name,
        b.sizes,
        f"lagrangian {best:.0f} ({tl:.1f}s); sites free {int(((hi - lo) > 0.5).sum())} of {len(lo)}, fixed open {int((lo > 0.5).sum())}, closed {int((hi < 0.5).sum())}",
    )
    r = replace(b, y_lo=lo, y_hi=hi)
    # drop arcs of closed sites
    keep = hi[r.arc_site] > 0.5
    r = replace(
        r,
        arc_unit=r.arc_unit[keep],
        arc_site=r.arc_site[keep],
        arc_cost=r.arc_cost[keep],
        arc_place_cost=r.arc_place_cost[keep],
        arc_minutes=r.arc_minutes[keep],
    )
    print("  arcs left", len(r.arc_unit))
    h = highs(arrays(r), gap=gap, time_limit=300)
    out = run(h)
    print("  reduced MIP", out, "bound used", max(out["bound"], best))
