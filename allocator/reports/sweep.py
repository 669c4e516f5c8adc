"""The figure of a sweep over one policy key: what each value costs, and what it leaves to the reception network
(unmet places, or over periods the status holders' backlog when the housing rate is varied)."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..analysis.sweep import KEY_PREFIX

# (cost, what it leaves) per layout of sweep.csv, the second preferred where it is not zero everywhere.
COLUMNS = {
    "expected_total_cost": ("expected_extra_place_periods", "expected_unmet_place_periods"),
    "total_cost": ("unmet",),
}
LABELS = {
    "expected_total_cost": "money spent (expected)",
    "total_cost": "money spent",
    "expected_extra_place_periods": "status holders' backlog in reception (place-periods)",
    "expected_unmet_place_periods": "unmet place-periods (expected)",
    "unmet": "unmet places",
}


def sweep_figure(table: pd.DataFrame, currency: str = "EUR") -> bytes | None:
    """SVG of the plans of a sweep that varies one numeric policy key: the cost (left axis) and the places left
    (right axis) against the key's value; None for other sweeps or fewer than two plans."""
    keys = [c for c in table.columns if c.startswith(KEY_PREFIX)]
    planned = table[table["folder"].astype(str) != ""] if "folder" in table else table
    if len(keys) != 1 or len(planned) < 2:
        return None
    x = pd.to_numeric(planned[keys[0]], errors="coerce")
    if x.isna().any():
        return None
    cost = next((c for c in COLUMNS if c in planned), None)
    if cost is None:
        return None
    left = [c for c in COLUMNS[cost] if c in planned and pd.to_numeric(planned[c]).abs().sum() > 0]
    order = x.sort_values().index
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    ax.plot(x[order], pd.to_numeric(planned.loc[order, cost]), marker="o", color="#1f4e79", label=LABELS[cost])
    ax.set_xlabel(keys[0][len(KEY_PREFIX) :])
    ax.set_ylabel(f"{LABELS[cost]} ({currency})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(alpha=0.3)
    if left:
        other = ax.twinx()
        other.plot(
            x[order], pd.to_numeric(planned.loc[order, left[0]]), marker="s", color="#c55a11", label=LABELS[left[0]]
        )
        other.set_ylabel(LABELS[left[0]])
        other.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    fig.legend(loc="upper center", ncols=2, fontsize="small", frameon=False)
    fig.subplots_adjust(top=0.85)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()
