"""Benchmark of plans over several periods: nl-2024-horizon (10 half-years), the band and one scenario.

    python benchmarks/horizon.py                 # every case (about 10 minutes on 2 cores)
    python benchmarks/horizon.py --cases band

Every case runs in a fresh Python process. Per phase it records load, build, the greedy start,
hand-off, solve (wall, and HiGHS time summed over blocks), extract and check; the first plan and
the time at which the gap first reached 0.5% (from HiGHS' progress); the final status and gap.
Targets: a first plan within 30 s, a gap of at most 0.5% within 300 s on 2 cores. The results
replace the section "Plans over several periods" of benchmarks/RESULTS.md and go to
benchmarks/horizon.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# name -> (scenario or None for the band, myopic)
CASES = {"band": (None, False), "mid": ("mid", False), "myopic-band": (None, True)}
TIME_LIMIT = 300.0
GAP = 0.005
FIRST_PLAN_TARGET = 30.0


def one(name: str) -> dict:
    """Run one case in this process; return its measurements."""
    t0 = time.perf_counter()
    from allocator.analysis.horizon import plan_myopic
    from allocator.check.horizon import check_horizon_solution
    from allocator.data.load import load_instance
    from allocator.data.policy import load_policy
    from allocator.model.horizon import build_horizon_model
    from allocator.model.start import greedy_start
    from allocator.results.extract import extract_horizon
    from allocator.solve.highs import SolveSession
    from allocator.solve.options import SolveOptions

    imports = time.perf_counter() - t0
    scenario, myopic = CASES[name]
    out = {"case": name, "imports": imports}
    t = time.perf_counter()
    inst = load_instance(ROOT / "instances" / "nl-2024-horizon")
    out["load"] = time.perf_counter() - t
    policy = load_policy("default")
    options = SolveOptions(time_limit=TIME_LIMIT, gap=GAP, workers=2, track_progress=True)
    if myopic:
        t = time.perf_counter()
        outcome = plan_myopic(inst, policy, options, scenario)
        out.update(
            {
                "total": time.perf_counter() - t,
                "status": outcome.status.value,
                "objective": outcome.result.objective,
                "check_passed": outcome.check.passed if outcome.check else None,
            }
        )
        return out
    scenarios = (scenario,) if scenario else inst.horizon.scenarios
    t = time.perf_counter()
    model = build_horizon_model(inst, policy, scenarios)
    out["build"] = time.perf_counter() - t
    out["variables"], out["constraints"] = model.nvariables(), model.nconstraints()
    t = time.perf_counter()
    start = greedy_start(model)
    out["heuristic"] = time.perf_counter() - t
    session = SolveSession(model, options)
    result = session.solve(start=start)
    out.update(
        {
            "handoff": result.timings.get("handoff"),
            "solve": result.timings.get("solve"),
            "highs_sum": result.timings.get("solve_highs"),
            "blocks": result.blocks,
            "status": result.status.value,
            "objective": result.objective,
            "bound": result.bound,
            "gap": result.gap,
            "absolute_gap": result.absolute_gap,
        }
    )
    first = next((p for p in result.progress if p["objective"] is not None), None)
    out["first_plan_s"] = first["seconds"] if first else None
    out["first_plan_objective"] = first["objective"] if first else None
    reached = next((p for p in result.progress if p["gap"] is not None and p["gap"] <= GAP), None)
    out["target_gap_s"] = reached["seconds"] if reached else None
    t = time.perf_counter()
    solution = extract_horizon(inst, policy, [model], result, "integrated", scenario or "band", options)
    out["extract"] = time.perf_counter() - t
    t = time.perf_counter()
    out["check_passed"] = check_horizon_solution(solution, inst, policy).passed
    out["check"] = time.perf_counter() - t
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def row(r: dict) -> str:
    def f(key, digits=1):
        v = r.get(key)
        return "-" if v is None else f"{v:.{digits}f}"

    gap = "-" if r.get("gap") is None else f"{100 * r['gap']:.3f}%"
    absolute = "-" if r.get("absolute_gap") is None else f"{r['absolute_gap']:,.0f}"
    return (
        f"| {r['case']} | {r.get('variables', '-')} | {r.get('constraints', '-')} | {r.get('blocks', '-')} | {f('imports')} | {f('load')} | "
        f"{f('build')} | {f('heuristic')} | {f('handoff')} | {f('solve')} | {f('highs_sum')} | {f('extract')} | {f('check')} | "
        f"{r['status']} | {gap} | {absolute} | {f('first_plan_s')} | {f('target_gap_s')} | {f('total')} | {r.get('check_passed')} |"
    )


def markdown(results: list[dict], load: tuple[float, float, float]) -> str:
    from importlib import metadata

    lines = [
        "## Plans over several periods (nl-2024-horizon)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; Python {platform.python_version()}, "
        f"Pyomo {metadata.version('pyomo')}, highspy {metadata.version('highspy')}; {date.today()}. Reproduce: `python benchmarks/horizon.py`.",
        "",
        f"nl-2024-horizon: 10 half-years; the band is 3 scenarios with one site plan. Policy `models/default.toml`; relative gap {100 * GAP:g}%,",
        f"time limit {TIME_LIMIT:g} s, 2 worker processes, from the greedy start. Seconds per phase; `first plan` and `target gap` are",
        "seconds into the solve (HiGHS' progress), `total` the whole myopic baseline (10 periods per scenario, then each evaluated",
        "over the horizon). Targets: a first plan within 30 s, a gap of at most 0.5% within 300 s. The machine is shared:",
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 minutes) when the last case ended.",
        "",
        "| case | variables | constraints | blocks | imports | load | build | greedy | hand-off | solve (wall) | HiGHS Σ | extract | check | status | gap | abs. gap EUR | first plan s | target gap s | total s | check passed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
        *(row(r) for r in results),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    results = []
    for name in args.cases.split(","):
        done = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(row(results[-1]), flush=True)
    (HERE / "horizon.json").write_text(json.dumps(results, indent=2) + "\n")
    text = (HERE / "RESULTS.md").read_text()
    section = markdown(results, os.getloadavg())
    pattern = re.compile(r"## Plans over several periods \(nl-2024-horizon\)\n.*?(?=\n## |\Z)", re.S)
    text = (
        pattern.sub(lambda m: section.rstrip("\n"), text)
        if pattern.search(text)
        else text.rstrip("\n") + "\n\n" + section
    )
    (HERE / "RESULTS.md").write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
