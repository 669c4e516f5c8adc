"""HiGHS on each province block of an instance: the full strong model, x continuous."""

import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cfl import arrays, highs, restrict, run
from load import problem_for

name, gap = sys.argv[1], float(sys.argv[2])
agg = {"agg": True, "both": "both"}.get(sys.argv[3] if len(sys.argv) > 3 else "", False)
p = problem_for(name)
groups = sorted(set(p.unit_group.tolist()))
blocks = sorted([restrict(p, [g]) for g in groups], key=lambda b: -len(b.arc_unit))
tot = 0
nodes = its = 0
for b in blocks:
    out = run(highs(arrays(b, aggregate=agg), gap=gap, time_limit=300))
    tot += out["seconds"]
    nodes += out["nodes"]
    its += out["iterations"]
    a = arrays(b, integer_y=False)
    h = highs(a, integer=False)
    t = time.perf_counter()
    h.run()
    lp = h.getInfo().objective_function_value
    tlp = time.perf_counter() - t
    print(
        f"{b.name} {b.sizes} {out['status']} {out['seconds']:.2f}s nodes {out['nodes']} obj {out['objective']:.0f} bound {out['bound']:.0f} | LP {tlp:.2f}s root gap {(out['objective'] - lp) / out['objective']:.4%}",
        flush=True,
    )
print("total", round(tot, 2), "nodes", nodes, "iterations", its)
