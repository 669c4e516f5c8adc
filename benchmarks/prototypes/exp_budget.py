"""Lagrangian relaxation of the national budget row: provinces solved separately, a multiplier search, a repair."""

import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from dataclasses import replace

import numpy as np
from cfl import arrays, highs, restrict, run
from load import problem_for


def province_solve(b, mu, gap):
    q = replace(b, fixed=b.fixed * (1 + mu), arc_cost=b.arc_cost + mu * b.arc_place_cost, budget=None)
    a = arrays(q, aggregate=True)
    h = highs(a, gap=gap, time_limit=60)
    out = run(h)
    x = np.array(h.getSolution().col_value)
    NI, S, A = b.sizes
    y = np.round(x[:S])
    xa = x[S : S + A]
    u = x[S + A :]
    spend = float(b.fixed @ y + b.arc_place_cost @ xa)
    true = float(b.fixed @ y + b.arc_cost @ xa + b.penalty * u.sum())
    return {
        "bound": out["bound"],
        "objective": out["objective"],
        "spend": spend,
        "true": true,
        "y": y,
        "seconds": out["seconds"],
    }


if __name__ == "__main__":
    B = float(sys.argv[1])
    gap = float(sys.argv[2])
    p = problem_for(f"nl-2024+budget={B}")
    groups = sorted(set(p.unit_group.tolist()))
    blocks = [restrict(p, [g]) for g in groups]
    t0 = time.perf_counter()
    plans = {k: [] for k in range(len(blocks))}
    best_L, best_mu = -np.inf, None

    def evaluate(mu):
        global best_L, best_mu
        res = [province_solve(b, mu, gap) for b in blocks]
        L = sum(r["bound"] for r in res) - mu * B
        spend = sum(r["spend"] for r in res)
        for k, r in enumerate(res):
            plans[k].append(r)
        if L > best_L:
            best_L, best_mu = L, mu
        print(
            f"  mu {mu:.6f}: L {L:.0f} spend {spend:.0f} ({spend - B:+.0f}) true {sum(r['true'] for r in res):.0f}  [{time.perf_counter() - t0:.1f}s, {sum(r['seconds'] for r in res):.1f}s HiGHS]",
            flush=True,
        )
        return spend

    lo, hi = 0.0, 1.0
    s = evaluate(lo)
    if s > B:
        while evaluate(hi) > B:
            lo, hi = hi, hi * 4
        for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 8):
            mid = 0.5 * (lo + hi)
            if evaluate(mid) > B:
                lo = mid
            else:
                hi = mid
    # multiple-choice knapsack over the plans seen: exact by HiGHS
    import highspy

    cols = [(k, j) for k in plans for j in range(len(plans[k]))]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for _ in cols:
        h.addVar(0, 1)
    h.changeColsIntegrality(
        len(cols), np.arange(len(cols), dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * len(cols))
    )
    h.changeColsCost(len(cols), np.arange(len(cols), dtype=np.int32), np.array([plans[k][j]["true"] for k, j in cols]))
    for k in plans:
        idx = np.array([n for n, c in enumerate(cols) if c[0] == k], dtype=np.int32)
        h.addRow(1, 1, len(idx), idx, np.ones(len(idx)))
    h.addRow(
        -np.inf, B, len(cols), np.arange(len(cols), dtype=np.int32), np.array([plans[k][j]["spend"] for k, j in cols])
    )
    h.run()
    combo = h.getInfo().objective_function_value
    print(
        f"bound {best_L:.0f} (mu {best_mu}); combined plans {combo:.0f}; gap {(combo - best_L) / combo:.4%}; {time.perf_counter() - t0:.1f}s"
    )
