"""Per block: how it was solved, its status, gap and seconds (the engine's own session)."""

import argparse
import time

import numpy as np

from allocator.data.load import load_instance
from allocator.data.policy import load_policy, parse_assignments
from allocator.model.build import build_model
from allocator.model.heuristic import greedy_start
from allocator.solve import highs
from allocator.solve.options import SolveOptions

parser = argparse.ArgumentParser()
parser.add_argument("instance")
parser.add_argument("--set", action="append", default=[])
parser.add_argument("--gap", type=float, default=1e-4)
parser.add_argument("--time-limit", type=float, default=60)
parser.add_argument("--workers", type=int, default=1)
args = parser.parse_args()
inst = load_instance(args.instance)
model = build_model(inst, load_policy("default", parse_assignments(args.set)))
session = highs.SolveSession(model, SolveOptions(gap=args.gap, time_limit=args.time_limit, workers=args.workers))
t = time.perf_counter()
result = session.solve(start=greedy_start(model))
print(
    f"{result.status.value} objective {result.objective} bound {result.bound} gap {result.gap} in {time.perf_counter() - t:.1f}s"
)
for block, r in zip(session.blocks, session.results):
    integer = np.where((block.integer == 1) & ~block.binary, 0, block.integer)
    arcs = len(block.view.arc_column) if block.view is not None else None
    gap = None if r.bound is None or not r.objective else (r.objective - r.bound) / r.objective
    print(
        f"  {highs.strategy(block, integer):8} arcs {arcs} {r.status.value:12} gap {gap} {r.seconds:.1f}s {r.message[:60]}"
    )
