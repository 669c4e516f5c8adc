"""Does `allocator solve` choose, in every province, the large site that `allocator whatif` ranks first?

Run from the repository root:  python benchmarks/large_sites.py
Writes benchmarks/LARGE_SITES.md.

Instance nl-2024, policy "default", the solver defaults of the command line (`SolveOptions()`). For
each province, `rank_sites` solves the free plan (as `allocator solve` does) and then each of the
province's large candidates forced in turn. The free plan agrees when its large site is ranked
first, or when its objective equals the first-ranked one's to the euro (a tie).
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> None:
    from allocator.analysis.whatif import rank_sites
    from allocator.data.load import load_instance
    from allocator.data.policy import load_policy
    from allocator.solve.options import SolveOptions

    inst = load_instance(ROOT / "instances" / "nl-2024")
    policy = load_policy("default")
    options = SolveOptions()
    rows = []
    for province in inst.provinces.index:
        t = time.perf_counter()
        result = rank_sites(inst, policy, province, options=options)
        first = result.table.loc[result.table["rank"] == 1].iloc[0]
        free = result.free
        tie = abs(free["objective"] - first["objective"]) < 1.0
        rows.append(
            {
                "province": result.province_name,
                "candidates": len(result.table),
                "solve": free["site_name"],
                "whatif first": first["site_name"],
                "difference EUR": free["objective"] - first["objective"],
                "agrees": "yes" if free["site"] == first["site"] else ("tie" if tie else "NO"),
                "seconds": time.perf_counter() - t,
            }
        )
        print(rows[-1], flush=True)
    agree = sum(r["agrees"] != "NO" for r in rows)
    lines = [
        "# The large site of `allocator solve` against the `allocator whatif` ranking",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"highspy {version('highspy')}; {datetime.date.today()}; load average "
        f"{os.getloadavg()[0]:.1f} at the end. Reproduce: `python benchmarks/large_sites.py`.",
        "",
        f"nl-2024, policy `default`, solver defaults (gap {options.gap:g}, time limit {options.time_limit:g} s): "
        f"**{agree} of {len(rows)} provinces agree**.",
        "",
        "| province | candidates | solve chooses | whatif ranks first | free − first, EUR | agrees | seconds |",
        "|---|---:|---|---|---:|---|---:|",
    ]
    lines += [
        f"| {r['province']} | {r['candidates']} | {r['solve']} | {r['whatif first']} | {r['difference EUR']:,.0f} | "
        f"{r['agrees']} | {r['seconds']:.0f} |"
        for r in rows
    ]
    (HERE / "LARGE_SITES.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'LARGE_SITES.md'}")


if __name__ == "__main__":
    main()
