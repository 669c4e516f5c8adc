import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cfl import arrays, highs, restrict, run
from load import problem_for

p = problem_for(sys.argv[1])
gap = float(sys.argv[2])
limit = float(sys.argv[3])
k = int(sys.argv[4]) if len(sys.argv) > 4 else 0
groups = sorted(set(p.unit_group.tolist()))
blocks = [restrict(p, [g]) for g in groups] if len(groups) > 1 and p.budget is None else [p]
blocks.sort(key=lambda b: -len(b.arc_unit))
b = blocks[k]
h = highs(arrays(b), gap=gap, time_limit=limit, log=True)
print(run(h))
