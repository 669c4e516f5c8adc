"""The engine's pipeline on one instance: status, objective, bound, gap and timings (threads=1).

python engine_run.py INSTANCE [--set key=value ...] [--gap G] [--time-limit S] [--workers N] [--no-cover]
"""

import argparse
import json
import os
import time

from allocator.analysis.pipeline import solve
from allocator.data.load import load_instance
from allocator.data.policy import load_policy, parse_assignments
from allocator.solve import highs
from allocator.solve.options import SolveOptions

parser = argparse.ArgumentParser()
parser.add_argument("instance")
parser.add_argument("--set", action="append", default=[])
parser.add_argument("--gap", type=float, default=1e-4)
parser.add_argument("--time-limit", type=float, default=60)
parser.add_argument("--workers", type=int, default=1)
parser.add_argument("--no-cover", action="store_true")
args = parser.parse_args()
if args.no_cover:
    highs.cover_rows = lambda view, n: (highs.csc_array((0, n)), highs.np.zeros(0), highs.np.zeros(0))
t = time.perf_counter()
inst = load_instance(args.instance)
load = time.perf_counter() - t
policy = load_policy("default", parse_assignments(args.set))
out = solve(inst, policy, SolveOptions(gap=args.gap, time_limit=args.time_limit, workers=args.workers), {"load": load})
r = out.result
print(
    json.dumps(
        {
            "instance": os.path.basename(args.instance.rstrip("/")),
            "set": args.set,
            "status": r.status.value,
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "absolute_gap": r.absolute_gap,
            "check": out.check.passed if out.check else None,
            "timings": {k: round(v, 2) for k, v in out.timings.items()},
            "load_avg": os.getloadavg()[0],
        }
    )
)
