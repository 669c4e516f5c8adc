"""Presolve with a starting plan (issue 16, point 4), measured.

    python benchmarks/presolve_start.py [--limit S]

For each case the same engine solves the same model from the same greedy start twice: as before
(presolve switched off, the start given to HiGHS before the run) and as now (presolve on, the start
handed over once presolve is done). Writes benchmarks/PRESOLVE_START.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import highspy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))


def before(h, x) -> None:
    """The way a start was given before: presolve off, the plan set before the run."""
    h.setOptionValue("presolve", "off")
    solution = highspy.HighsSolution()
    solution.col_value = list(x)
    solution.value_valid = True
    h.setSolution(solution)


def cases(tmp: Path):
    from orlib import orlib_policy, write_instance

    from allocator.data.generate import generate
    from allocator.data.load import load_instance
    from allocator.data.policy import load_policy

    orlib = orlib_policy()
    nl = load_instance(ROOT / "instances" / "nl-2024")
    yield "nl-2024, gap 1e-6", nl, load_policy(), 1e-6
    yield "nl-2024, nearest_regular_sites=2, gap 1e-9", nl, load_policy("default", {"nearest_regular_sites": 2}), 1e-9
    x3 = HERE / ".cache" / "synthetic-x3-seed1"
    if not x3.exists():
        generate(3, 1, x3)
    yield (
        "synthetic x3 (nearest 25), gap 1e-4",
        load_instance(x3),
        load_policy("default", {"nearest_regular_sites": 25}),
        1e-4,
    )
    for name in ("cap41", "cap71", "cap114", "cap122", "cap131"):
        write_instance(ROOT / "instances" / "orlib" / f"{name}.txt", tmp / name)
        yield f"OR-Library {name}, gap 1e-9", load_instance(tmp / name), orlib, 1e-9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per solve")
    args = parser.parse_args()
    from allocator.model.build import build_model
    from allocator.model.start import greedy_start
    from allocator.solve import highs
    from allocator.solve.options import SolveOptions

    lines = [
        "# Presolve with a starting plan",
        "",
        "Same model, same greedy start, one worker and one HiGHS thread per solve; `before`: presolve off and the",
        "start set before the run (how the engine avoided a HiGHS 1.16 presolve fault); `now`: presolve on and the",
        "start handed over after presolve. Seconds of the solve; load average beside each run.",
        "",
        "| case | before: status | gap | s | now: status | gap | s | objective equal |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    now_hand_over = highs._hand_over
    with tempfile.TemporaryDirectory() as tmp:
        for label, inst, policy, gap in cases(Path(tmp)):
            row = [label]
            objectives = []
            for mode in (before, now_hand_over):
                highs._hand_over = mode
                model = build_model(inst, policy)
                session = highs.SolveSession(model, SolveOptions(gap=gap, time_limit=args.limit, workers=1))
                t = time.perf_counter()
                r = session.solve(start=greedy_start(model))
                seconds = time.perf_counter() - t
                objectives.append(r.objective)
                gap_text = "-" if r.gap is None else f"{100 * r.gap:.2g}%"
                row += [r.status.value, gap_text, f"{seconds:.1f} (load {os.getloadavg()[0]:.1f})"]
                print(label, mode.__name__, r.status.value, r.objective, r.gap, f"{seconds:.1f}s", flush=True)
            same = None not in objectives and abs(objectives[0] - objectives[1]) <= 1e-6 * abs(objectives[1])
            lines.append("| " + " | ".join(row + ["yes" if same else "no"]) + " |")
    highs._hand_over = now_hand_over
    (HERE / "PRESOLVE_START.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
