"""Lagrangian bound, then HiGHS on the sites the recent Lagrangian solutions open (a primal heuristic)."""

import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from dataclasses import replace

import numpy as np
from cfl import arrays, highs, restrict, run
from lagrange import Lagrangian
from load import problem_for


def only_sites(b, keep_sites):
    hi = np.where(keep_sites, b.y_hi, 0.0)
    keep = hi[b.arc_site] > 0.5
    return replace(
        b,
        y_hi=hi,
        arc_unit=b.arc_unit[keep],
        arc_site=b.arc_site[keep],
        arc_cost=b.arc_cost[keep],
        arc_place_cost=b.arc_place_cost[keep],
        arc_minutes=b.arc_minutes[keep],
    )


if __name__ == "__main__":
    name, ub, k = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    thr = float(sys.argv[4])
    p = problem_for(name)
    groups = sorted(set(p.unit_group.tolist()))
    blocks = [restrict(p, [g]) for g in groups] if len(groups) > 1 and p.budget is None else [p]
    blocks.sort(key=lambda b: -len(b.arc_unit))
    for b in blocks[k : k + 1] if k >= 0 else blocks:
        t = time.perf_counter()
        L = Lagrangian(b)
        best, lam, y, hist = L.run(ub if ub > 0 else 1e18, iterations=3000, time_limit=20, patience=50)
        tl = time.perf_counter() - t
        support = (L.y_seen > thr) | (b.y_lo > 0.5)
        r = only_sites(b, support)
        h = highs(arrays(r), gap=1e-4, time_limit=60)
        out = run(h)
        print(
            b.name,
            b.sizes,
            f"lagrangian {best:.0f} ({tl:.1f}s, {len(hist)} it); support {int(support.sum())} sites; restricted MIP {out['status']} {out['objective']:.0f} in {out['seconds']:.1f}s; gap vs lagrangian {(out['objective'] - best) / out['objective']:.3%}",
            flush=True,
        )
