"""Root LP: all open_site_link rows versus adding only the violated ones in rounds."""

import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cfl import arrays, highs, restrict
from load import problem_for


def lp_full(p):
    a = arrays(p)
    h = highs(a, integer=False)
    t = time.perf_counter()
    h.run()
    return time.perf_counter() - t, h.getInfo().objective_function_value, len(a.row_lower)


def lp_rowgen(p, tol=1e-6, max_add=None):
    NI, S, A = p.sizes
    a = arrays(p, links=[])
    h = highs(a, integer=False)
    t = time.perf_counter()
    h.run()
    rounds, added = 0, 0
    up = p.arc_upper
    while True:
        x = np.array(h.getSolution().col_value)
        y = x[:S]
        xa = x[S : S + A]
        viol = xa - up * y[p.arc_site]
        bad = np.flatnonzero(viol > tol * np.maximum(1, up))
        if not len(bad):
            break
        if max_add and len(bad) > max_add:
            bad = bad[np.argsort(-viol[bad])[:max_add]]
        k = len(bad)
        starts = np.arange(k) * 2
        idx = np.column_stack([S + bad, p.arc_site[bad]]).ravel()
        val = np.column_stack([np.ones(k), -up[bad]]).ravel()
        h.addRows(k, np.full(k, -np.inf), np.zeros(k), 2 * k, starts, idx, val)
        h.run()
        rounds += 1
        added += k
    return time.perf_counter() - t, h.getInfo().objective_function_value, rounds, added


if __name__ == "__main__":
    p = problem_for(sys.argv[1])
    groups = sorted(set(p.unit_group.tolist()))
    blocks = [restrict(p, [g]) for g in groups] if len(groups) > 1 and p.budget is None else [p]
    blocks.sort(key=lambda b: -len(b.arc_unit))
    for b in blocks[: int(sys.argv[2]) if len(sys.argv) > 2 else 3]:
        NI, S, A = b.sizes
        tf, of, nr = lp_full(b)
        tr, orr, rounds, added = lp_rowgen(b)
        print(
            f"{b.name}: NI={NI} S={S} A={A} full LP {tf:.2f}s obj {of:.2f} | rowgen {tr:.2f}s obj {orr:.2f} rounds {rounds} rows {added} ({added / A:.1%})",
            flush=True,
        )
