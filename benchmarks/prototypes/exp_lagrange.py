import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cfl import restrict
from lagrange import Lagrangian
from load import problem_for

name = sys.argv[1]
target = float(sys.argv[2])
k = int(sys.argv[3]) if len(sys.argv) > 3 else 0
p = problem_for(name)
groups = sorted(set(p.unit_group.tolist()))
blocks = [restrict(p, [g]) for g in groups] if len(groups) > 1 and p.budget is None else [p]
blocks.sort(key=lambda b: -len(b.arc_unit))
b = blocks[k]
L = Lagrangian(b)
t = time.perf_counter()
best, lam, y, hist = L.run(
    target,
    iterations=int(sys.argv[4]) if len(sys.argv) > 4 else 1000,
    time_limit=120,
    patience=int(sys.argv[5]),
    deflect=float(sys.argv[6]),
)
print(b.name, b.sizes, f"bound {best:.2f} in {time.perf_counter() - t:.1f}s, {len(hist)} iterations; target {target}")
for frac in (0.1, 0.25, 0.5, 1.0):
    h = hist[int(frac * (len(hist) - 1))]
    print(f"  at {h[0]:.1f}s: {max(v for _, v in hist[: int(frac * (len(hist) - 1)) + 1]):.2f}")
