"""Matplotlib figures of a plan over several periods: the site timeline (Gantt), capacity against the
demand band per province and per demand group with sites of its own, and the plan against its baselines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..results.solution import HorizonSolution
from .figures import LARGE, REGULAR, TEXT, money_axis, plain_axes

STANDBY = "#f0a202"
CLOSED_LINE = "#d73027"
OPENED = "#1e7d32"
BAND = "#c6dbef"
MID = "#2b5c8a"
PLAN_COLOURS = {"integrated": "#3f2a7a", "myopic": "#d73027", "band": "#41ab5d"}
ROW_INCHES = 0.11


def _periods(solution: HorizonSolution) -> list[str]:
    return [p["period"] for p in solution.summary["periods"]]


def _steps(values) -> np.ndarray:
    """Values per period as the heights of a step line over [k, k + 1]: the last one repeated at the right edge."""
    values = np.asarray(values, dtype=float)
    return np.append(values, values[-1])


def gantt_figure(solution: HorizonSolution, scenario: str) -> Figure:
    """Every site in service at some time, by province: a bar per period open (colour by kind) or on standby, ticks at openings and closings."""
    periods = _periods(solution)
    col = {t: k for k, t in enumerate(periods)}
    tl = solution.timeline[solution.timeline["scenario"] == scenario]
    used = tl[tl["state"] != "closed"]
    sites = used.drop_duplicates("site")[["site", "name", "province", "kind"]]
    first = used.groupby("site")["period"].apply(lambda s: min(col[t] for t in s))
    sites = sites.assign(first=sites["site"].map(first)).sort_values(["province", "first", "site"])
    n = max(len(sites), 1)
    fig = Figure(figsize=(10, 1.2 + ROW_INCHES * n + 0.25 * sites["province"].nunique()))
    ax = fig.add_subplot(1, 1, 1)
    row = {s: k for k, s in enumerate(sites["site"])}
    by_site = {s: g.set_index("period") for s, g in tl[tl["site"].isin(row)].groupby("site")}
    for s, y in row.items():
        g = by_site[s]
        kind = sites.loc[sites["site"] == s, "kind"].iloc[0]
        for t, r in g.iterrows():
            if r["state"] == "closed":
                continue
            colour = STANDBY if r["state"] == "standby" else (LARGE if kind == "large" else REGULAR)
            ax.barh(y, 1, left=col[t], height=0.8, color=colour, linewidth=0)
            if r["event"] == "opening":
                ax.plot([col[t]], [y], marker="|", color=OPENED, markersize=6)
        for t, r in g.iterrows():
            if r["event"] == "closing":
                ax.plot([col[t]], [y], marker="|", color=CLOSED_LINE, markersize=6)
    boundaries = (
        sites.reset_index(drop=True)
        .groupby("province")
        .apply(lambda g: (g.index.min(), g.index.max()), include_groups=False)
    )
    names = solution.provinces.drop_duplicates("province").set_index("province")["name"]
    for p, (lo, hi) in boundaries.items():
        ax.axhline(hi + 0.5, color="#999999", linewidth=0.5)
        ax.text(len(periods) + 0.1, (lo + hi) / 2, names.get(p, p), va="center", fontsize=7, color=TEXT)
    ax.set_xlim(0, len(periods))
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks([k + 0.5 for k in range(len(periods))], periods, fontsize=7, rotation=0)
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0)
    plain_axes(ax, "left")
    ax.legend(
        handles=[
            Patch(color=LARGE, label="large, open"),
            Patch(color=REGULAR, label="regular, open"),
            Patch(color=STANDBY, label="standby"),
            Patch(color=OPENED, label="opened"),
            Patch(color=CLOSED_LINE, label="closed"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=5,
        fontsize=7,
        frameon=False,
    )
    fig.tight_layout()
    return fig


def band_figure(solution: HorizonSolution, scenario: str) -> Figure:
    """Per province: the need band (low to high, shaded; mid as a line) against the capacity open (and open or on standby)."""
    periods = _periods(solution)
    pr = solution.provinces
    provinces = list(dict.fromkeys(pr["province"]))
    cols = 4
    rows = math.ceil(len(provinces) / cols)
    fig = Figure(figsize=(10, 2.0 * rows + 0.4))
    x = np.arange(len(periods) + 1)  # period k spans [k, k + 1]

    scenarios = solution.summary["scenarios"]
    ticks = list(range(0, len(periods), max(1, len(periods) // 5)))
    for k, p in enumerate(provinces):
        ax = fig.add_subplot(rows, cols, k + 1)
        g = pr[pr["province"] == p]
        need = {w: g[g["scenario"] == w].set_index("period").reindex(periods)["need"].to_numpy() for w in scenarios}
        low = np.min(np.vstack(list(need.values())), axis=0)
        high = np.max(np.vstack(list(need.values())), axis=0)
        ax.fill_between(x, _steps(low), _steps(high), step="post", color=BAND, linewidth=0, label="need, band")
        mid = need.get("mid", need[scenarios[0]])
        ax.step(
            x,
            _steps(mid),
            where="post",
            color=MID,
            linewidth=1.2,
            label="need, mid" if "mid" in need else f"need, {scenarios[0]}",
        )
        own = g[g["scenario"] == scenario].set_index("period").reindex(periods)
        _capacity_panel(ax, x, own, float(high.max()), g["name"].iloc[0], periods, ticks)
        if k == 0:
            fig.legend(*ax.get_legend_handles_labels(), loc="upper center", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _capacity_panel(ax, x, own: pd.DataFrame, need_top: float, title: str, periods, ticks) -> None:
    """The capacity open (and open or on standby) of ``own`` as steps over the periods, on axes styled alike."""
    ax.step(x, _steps(own["open_capacity"]), where="post", color=LARGE, linewidth=1.4, label="capacity open")
    both = own["open_capacity"] + own["standby_capacity"]
    ax.step(x, _steps(both), where="post", color=STANDBY, linewidth=1, linestyle="--", label="open + standby")
    ax.set_title(title, fontsize=8, color=TEXT)
    ax.set_xlim(0, len(periods))
    ax.set_xticks(ticks, [periods[j] for j in ticks], fontsize=6)
    top = max(need_top, float(both.max()), 1.0)
    ax.set_ylim(0, top * 1.1)
    ax.yaxis.set_major_formatter(money_axis(top))
    ax.tick_params(axis="y", labelsize=6)
    plain_axes(ax)


def group_figure(solution: HorizonSolution, table: pd.DataFrame, groups: list[str], scenario: str) -> Figure:
    """Per demand group in ``groups``: its need (band over the scenarios, shaded; ``scenario`` as a line) against
    the places of the sites that take it, open (and open or on standby) under ``scenario``; ``table`` is
    reports.horizon.group_periods."""
    periods = _periods(solution)
    names = {g["group"]: g["name"] for g in solution.summary["groups"]}
    cols = min(len(groups), 3)
    rows = math.ceil(len(groups) / cols)
    fig = Figure(figsize=(10, 2.2 * rows + 0.4))
    x = np.arange(len(periods) + 1)  # period k spans [k, k + 1]
    ticks = list(range(0, len(periods), max(1, len(periods) // 5)))

    for k, g in enumerate(groups):
        ax = fig.add_subplot(rows, cols, k + 1)
        part = table[table["group"] == g]
        need = np.vstack(
            [w.set_index("period").reindex(periods)["need"].to_numpy() for _, w in part.groupby("scenario", sort=False)]
        )
        ax.fill_between(x, _steps(need.min(axis=0)), _steps(need.max(axis=0)), step="post", color=BAND, linewidth=0)
        own = part[part["scenario"] == scenario].set_index("period").reindex(periods)
        ax.step(x, _steps(own["need"]), where="post", color=MID, linewidth=1.2, label=f"need, {scenario}")
        _capacity_panel(ax, x, own, float(need.max()), names.get(g, g), periods, ticks)
        if k == 0:
            handles, labels = ax.get_legend_handles_labels()
            if len(need) > 1:
                handles, labels = [Patch(color=BAND), *handles], ["need, band", *labels]
            fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


def comparison_figure(solution: HorizonSolution) -> Figure:
    """Per scenario: money spent by the plan made for it alone, the myopic plan and (with a band) the band plan; openings and closings written on the bars."""
    cmp = solution.comparison
    scenarios = list(dict.fromkeys(cmp["scenario"]))
    plans = [p for p in ("integrated", "myopic", "band") if p in set(cmp["plan"])]
    fig = Figure(figsize=(7, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(plans)
    top = float(cmp["total_cost"].max())
    for j, plan in enumerate(plans):
        rows = cmp[cmp["plan"] == plan].set_index("scenario").reindex(scenarios)
        xs = np.arange(len(scenarios)) + (j - (len(plans) - 1) / 2) * width
        ax.bar(xs, rows["total_cost"], width=width * 0.95, color=PLAN_COLOURS[plan], label=plan)
        for xpos, r in zip(xs, rows.itertuples()):
            ax.text(
                xpos,
                r.total_cost + top * 0.01,
                f"+{r.openings}/-{r.closings}",
                ha="center",
                va="bottom",
                fontsize=6,
                color=TEXT,
            )
    ax.set_xticks(np.arange(len(scenarios)), scenarios)
    ax.set_ylim(0, top * 1.12)
    ax.yaxis.set_major_formatter(money_axis(top))
    ax.set_ylabel(f"money spent ({solution.summary['instance'].get('currency', 'EUR')})", fontsize=8)
    plain_axes(ax)
    ax.legend(fontsize=7, frameon=False, ncol=len(plans), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return fig
