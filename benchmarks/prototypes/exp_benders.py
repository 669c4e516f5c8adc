import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import csv

import benders
from cfl import restrict
from load import problem_for

OPT = {r["instance"]: float(r["optimal_value"]) for r in csv.DictReader(open("/work/shared/data/orlib/optima.csv"))}
for name in sys.argv[1].split(","):
    p = problem_for(name)
    gap = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-9
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 300
    groups = sorted(set(p.unit_group.tolist()))
    blocks = (
        [restrict(p, [g]) for g in groups] if len(groups) > 1 and p.budget is None and p.mean_limit is None else [p]
    )
    blocks.sort(key=lambda b: -len(b.arc_unit))
    k = int(sys.argv[4]) if len(sys.argv) > 4 else len(blocks)
    for b in blocks[:k]:
        print(b.name, b.sizes, flush=True)
        r = benders.solve(b, gap=gap, time_limit=limit)
        print(
            f"{name}: objective {r['objective']:.4f} bound {r['bound']:.4f} published {OPT.get(name)} seconds {r['seconds']:.1f}",
            flush=True,
        )
