import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cfl import arrays, highs, restrict
from load import problem_for

p = problem_for(sys.argv[1])
groups = sorted(set(p.unit_group.tolist()))
blocks = [restrict(p, [g]) for g in groups] if len(groups) > 1 and p.budget is None else [p]
blocks.sort(key=lambda b: -len(b.arc_unit))
b = blocks[0]
a = arrays(b)
for opts in [
    dict(),
    dict(simplex_strategy=4),
    dict(solver="ipm", run_crossover="off"),
    dict(solver="ipm"),
    dict(presolve=False),
    dict(solver="pdlp"),
]:
    pres = opts.pop("presolve", True)
    h = highs(a, integer=False, presolve=pres, **opts)
    t = time.perf_counter()
    h.run()
    print(
        opts,
        pres,
        f"{time.perf_counter() - t:.2f}s",
        h.getInfo().objective_function_value,
        h.modelStatusToString(h.getModelStatus()),
        flush=True,
    )
