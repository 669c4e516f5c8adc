"""Matplotlib figures of one or more plans: map, provinces, costs, travel times.

Every figure takes a list of panels (one per plan) and draws them side by side on the same
scales: one colour scale, one marker-size scale and the same axis limits, so that plans can be
compared by eye. Figures are built on ``matplotlib.figure.Figure`` (no pyplot state), so they
render the same under any backend.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter

from ..check import CheckReport
from ..core.fmt import money
from ..data.geo import Boundaries
from ..data.instance import Instance
from ..results.solution import Solution

# Municipalities are shaded by the mean travel of their placed people (it varies in every plan);
# demand left unmet is drawn over that as red hatching.
TRAVEL_CMAP = LinearSegmentedColormap.from_list("travel", ["#f7fcf0", "#ccebc5", "#7bccc4", "#2b8cbe", "#084081"])
UNMET_HATCH = "////"
NO_DEMAND = "#d9d9d9"
LARGE = "#3f2a7a"
REGULAR = "#2b83ba"
PLACED = "#4a78b5"
UNMET = "#d73027"
TASK = "#222222"
NATIONAL_PLACED = "#a9c4e6"  # the national groups' part, lighter than the task's
NATIONAL_UNMET = "#f2a99f"
DEMAND = "#8a8a8a"
COMPONENT_COLOURS = ("#6a51a3", "#4a78b5", "#41ab5d", "#d73027")
TEXT = "#333333"
MAX_MARKER_AREA = 420.0  # pt^2 of the site that places the most people in any panel
MIN_MARKER_AREA = 10.0
MAX_NAMED_POINTS = 40  # a map drawn from points names its municipalities when there are at most this many


@dataclass(frozen=True)
class Panel:
    """One plan to draw: its key ("A"), a label, the solution, its instance and (if matched) its polygons."""

    key: str
    label: str
    solution: Solution
    instance: Instance
    boundaries: Boundaries | None
    check: CheckReport | None = None  # the independent check, re-run when the panel was loaded


def _style(fig: Figure) -> None:
    fig.patch.set_facecolor("white")


def plain_axes(ax, *more: str) -> None:
    """Axes without the top and right frame lines (and the ``more`` ones)."""
    for side in ("top", "right", *more):
        ax.spines[side].set_visible(False)


def money_axis(top: float):
    """Axis ticks in one unit (bn, M or k) chosen from the largest value."""
    scale, unit = next(((d, u) for d, u in ((1e9, " bn"), (1e6, " M"), (1e3, " k")) if top >= 2 * d), (1.0, ""))
    return FuncFormatter(
        lambda x, _: f"{x / scale:,.{0 if scale == 1 else 1}f}".removesuffix(".0") + (unit if x else "")
    )


# ---------------------------------------------------------------- map


def map_figure(panels: list[Panel]) -> tuple[Figure, dict[str, str]]:
    """Municipalities shaded by the mean travel of their placed people (unmet demand hatched in red), open sites
    sized by people placed, a line from each municipality to every site that takes its people, large sites named.

    Returns the figure and a tooltip text for each artist id (municipalities and sites).
    """
    n = len(panels)
    tips: dict[str, str] = {}
    top = max(
        [
            float(p.solution.municipalities["mean_travel_minutes"].max())
            for p in panels
            if p.solution.municipalities["mean_travel_minutes"].notna().any()
        ]
        + [1.0]
    )
    norm = Normalize(0.0, math.ceil(top / 5) * 5)
    site_max = max(
        [float(p.solution.sites.loc[p.solution.sites["open_site"] == 1, "placed"].max() or 0) for p in panels] + [1.0]
    )
    line_max = max([_flows(p)["placed"].max() if len(_flows(p)) else 0 for p in panels] + [1.0])

    extents = [_extent(p) for p in panels]
    ratio = max((y1 - y0) / ((x1 - x0) * math.cos(math.radians((y0 + y1) / 2))) for x0, x1, y0, y1 in extents)
    panel_in, gap_in, side_in, top_in, band_in = 5.6, 0.2, 0.3, 0.75, 1.6
    map_in = min(max(panel_in * ratio, 3.0), 9.0)
    width, height = n * panel_in + (n - 1) * gap_in + 2 * side_in, map_in + top_in + band_in
    fig = Figure(figsize=(width, height))
    _style(fig)
    left = side_in / width
    for k, panel in enumerate(panels):
        ax = fig.add_axes(
            ((side_in + k * (panel_in + gap_in)) / width, band_in / height, panel_in / width, map_in / height)
        )
        _draw_map(ax, panel, k, extents[k], norm, site_max, line_max, tips)

    cax = fig.add_axes((left + 0.01, (band_in - 0.3) / height, 2.5 / width, 0.15 / height))
    bar = fig.colorbar(_scalar_mappable(norm), cax=cax, orientation="horizontal")
    bar.set_label("mean travel of the municipality's placed people (minutes)", fontsize=9, color=TEXT)
    bar.ax.tick_params(labelsize=8)
    symbols, sizes = _map_legend(site_max, panels)
    fig.legend(
        handles=sizes,
        title=f"site size: {panels[0].instance.units} placed",
        title_fontsize=9,
        loc="center right",
        bbox_to_anchor=(1 - left, (band_in - 0.25) / height),
        ncol=len(sizes),
        fontsize=8.5,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.0,
        borderaxespad=0.0,
    )
    fig.legend(
        handles=symbols,
        loc="upper left",
        bbox_to_anchor=(left, (band_in - 0.8) / height),
        ncol=2 if n == 1 else len(symbols),
        fontsize=8.5,
        frameon=False,
        handletextpad=0.6,
        columnspacing=2.0,
        labelspacing=0.8,
        borderaxespad=0.0,
    )
    fig.text(1 - left, 0.06 / height, _map_source(panels), fontsize=7.5, color="#666666", ha="right", va="bottom")
    return fig, tips


def _scalar_mappable(norm):
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=TRAVEL_CMAP)


def _map_source(panels: list[Panel]) -> str:
    if all(p.boundaries is not None for p in panels):
        return f"Boundaries: {panels[0].boundaries.attribution}"
    if any(p.boundaries is not None for p in panels):
        return f"Boundaries: {next(p.boundaries for p in panels if p.boundaries).attribution}; other maps drawn from the instance's coordinates"
    return "Drawn from the municipalities' and sites' coordinates in the instance (no boundaries matched)"


def _flows(panel: Panel) -> pd.DataFrame:
    """Every placement with the municipality's and the site's coordinates and whether the site is large."""
    sol, inst = panel.solution, panel.instance
    muni, sites = inst.municipalities, inst.sites
    flows = sol.placements
    return pd.DataFrame(
        {
            "placed": flows["placed"].to_numpy(dtype=float),
            "large": (sites.loc[flows["site"], "kind"] == "large").to_numpy(),
            "x0": muni.loc[flows["municipality"], "lon"].to_numpy(),
            "y0": muni.loc[flows["municipality"], "lat"].to_numpy(),
            "x1": sites.loc[flows["site"], "lon"].to_numpy(),
            "y1": sites.loc[flows["site"], "lat"].to_numpy(),
        }
    )


def _marker_area(placed: float, site_max: float) -> float:
    return max(MIN_MARKER_AREA, MAX_MARKER_AREA * placed / site_max)


def _extent(panel: Panel) -> tuple[float, float, float, float]:
    """Longitude and latitude limits: every polygon, municipality and site, with a margin."""
    inst = panel.instance
    xs, ys = (
        [inst.municipalities["lon"].to_numpy(), inst.sites["lon"].to_numpy()],
        [inst.municipalities["lat"].to_numpy(), inst.sites["lat"].to_numpy()],
    )
    if panel.boundaries is not None:
        for rings in panel.boundaries.municipalities.values():
            xs += [r[:, 0] for r in rings]
            ys += [r[:, 1] for r in rings]
    x, y = np.concatenate(xs), np.concatenate(ys)
    padx, pady = max(0.03 * float(np.ptp(x)), 0.05), max(0.03 * float(np.ptp(y)), 0.05)
    return float(x.min()) - padx, float(x.max()) + padx, float(y.min()) - pady, float(y.max()) + pady


def _draw_map(ax, panel: Panel, k: int, extent, norm, site_max: float, line_max: float, tips: dict[str, str]) -> None:
    sol, inst = panel.solution, panel.instance
    table = sol.municipalities.set_index("municipality")
    muni = inst.municipalities
    travel = table["mean_travel_minutes"].reindex(muni.index)
    share = (table["unmet"] / table["demand"].where(table["demand"] > 0)).reindex(muni.index)
    shaded = TRAVEL_CMAP(norm(travel.fillna(0.0).to_numpy()))
    colour = {i: NO_DEMAND if pd.isna(t) else tuple(c) for i, t, c in zip(muni.index, travel.to_numpy(), shaded)}
    unmet = {i: bool(v > 0) for i, v in share.fillna(0.0).items()}
    tip = _municipality_tips(panel, table, share, travel)
    if panel.boundaries is not None:
        for j, (i, rings) in enumerate(panel.boundaries.municipalities.items()):
            gid = f"m{k}-{j}"
            # add_artist, not add_patch: the limits are set below, and updating them per patch is slow
            ax.add_artist(
                PathPatch(_path(rings), facecolor=colour[i], edgecolor="white", linewidth=0.3, gid=gid, zorder=1)
            )
            if unmet[i]:
                ax.add_artist(
                    PathPatch(
                        _path(rings), facecolor="none", edgecolor=UNMET, hatch=UNMET_HATCH, linewidth=0.6, zorder=1.5
                    )
                )
            tips[gid] = tip(i)
        for rings in panel.boundaries.provinces.values():
            ax.add_artist(PathPatch(_path(rings), facecolor="none", edgecolor="#505050", linewidth=0.8, zorder=2))
    else:
        _draw_points(ax, panel, k, table, colour, unmet, tip, tips)
    _draw_flows(ax, panel, line_max)
    _draw_sites(ax, panel, k, site_max, tips)
    x0, x1, y0, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_axis_off()
    k_ = sol.kpis
    ax.set_title(f"{panel.label}\n", fontsize=12, fontweight="bold", color=TEXT, loc="left", pad=4)
    ax.text(
        0.0,
        1.0,
        f"unmet {k_['unmet']:,.0f} of {k_['demand']:,.0f} {inst.units} · {k_['open_sites']} open sites "
        f"({k_['open_large_sites']} large, {k_['open_regular_sites']} regular)",
        transform=ax.transAxes,
        fontsize=9,
        color="#555555",
        va="bottom",
    )


def _municipality_tips(panel: Panel, table: pd.DataFrame, share: pd.Series, travel: pd.Series):
    names, units = panel.instance.municipalities["name"].to_dict(), panel.instance.units
    rows = table[["demand", "placed", "unmet"]].to_dict("index")

    def tip(i: str) -> str:
        r = rows[i]
        if r["demand"] <= 0:
            return f"{names[i]} ({i}): no demand"
        mean = "" if pd.isna(travel[i]) else f", mean travel {travel[i]:.1f} min"
        return f"{names[i]} ({i}): demand {r['demand']:,.0f} {units}, placed {r['placed']:,.0f}, unmet {r['unmet']:,.0f} ({share[i]:.0%}){mean}"

    return tip


def _draw_points(
    ax, panel: Panel, k: int, table: pd.DataFrame, colour: dict, unmet: dict, tip, tips: dict[str, str]
) -> None:
    """Municipalities as circles sized by demand (instances without boundaries)."""
    muni = panel.instance.municipalities
    demand_max = max(float(table["demand"].max()), 1.0)
    for j, i in enumerate(muni.index):
        gid = f"m{k}-{j}"
        # Larger than any site marker, so that a site at the same point leaves a visible ring.
        size = 160 + 1100 * float(table.at[i, "demand"]) / demand_max
        ax.scatter(
            [muni.at[i, "lon"]],
            [muni.at[i, "lat"]],
            s=size,
            c=[colour[i]],
            edgecolors=UNMET if unmet[i] else "#7a7a7a",
            hatch=UNMET_HATCH if unmet[i] else None,
            linewidths=1.2 if unmet[i] else 0.8,
            zorder=1,
            gid=gid,
        )
        tips[gid] = tip(i)
        if len(muni) <= MAX_NAMED_POINTS:
            ax.annotate(
                str(muni.at[i, "name"]),
                (muni.at[i, "lon"], muni.at[i, "lat"]),
                xytext=(0, -(math.sqrt(size) / 2 + 3)),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=8.5,
                color=TEXT,
                zorder=6,
            )


def _draw_flows(ax, panel: Panel, line_max: float) -> None:
    """A line from each municipality to every site that takes some of its people: dark to large sites, light to regular ones."""
    flows = _flows(panel)
    for large, colour, alpha in ((False, REGULAR, 0.55), (True, LARGE, 0.45)):
        part = flows[flows["large"] == large]
        if not len(part):
            continue
        segments = np.stack([part[["x0", "y0"]].to_numpy(), part[["x1", "y1"]].to_numpy()], axis=1)
        widths = 0.4 + 1.8 * part["placed"].to_numpy() / line_max
        ax.add_collection(LineCollection(segments, colors=colour, linewidths=widths, alpha=alpha, zorder=3))


def _draw_sites(ax, panel: Panel, k: int, site_max: float, tips: dict[str, str]) -> None:
    """Open sites sized by people placed; large sites carry their names, so that a printed map can be read."""
    sol, where, units = panel.solution, panel.instance.sites, panel.instance.units
    opened = sol.sites[sol.sites["open_site"] == 1].sort_values("placed", ascending=False, kind="stable")
    for j, s in enumerate(opened.itertuples()):
        gid = f"s{k}-{j}"
        large = s.kind == "large"
        x, y = where.at[s.site, "lon"], where.at[s.site, "lat"]
        area = _marker_area(float(s.placed), site_max)
        ax.scatter(
            [x],
            [y],
            s=area,
            marker="s" if large else "o",
            c=LARGE if large else REGULAR,
            edgecolors="white",
            linewidths=0.8,
            zorder=5 if large else 4,
            gid=gid,
        )
        tips[gid] = (
            f"{s.name} ({s.site}, {s.kind} {s.status}): {s.placed:,.0f} {units} placed of capacity {s.capacity:,.0f}"
        )
        if large:
            ax.annotate(
                _short_name(s.name),
                (x, y),
                xytext=(math.sqrt(area) / 2 + 2, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=7.5,
                fontweight="bold",
                color=LARGE,
                zorder=7,
                path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
            )


def _short_name(name: str) -> str:
    """A site's name without its parenthesised kind: "Arnhem (large candidate)" is labelled Arnhem."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", str(name)) or str(name)


def _path(rings) -> MplPath:
    parts = []
    for ring in rings:
        codes = np.full(len(ring), MplPath.LINETO, dtype=MplPath.code_type)
        codes[0], codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
        parts.append(MplPath(ring, codes))
    return MplPath.make_compound_path(*parts)


def _nice_sizes(top: float) -> list[float]:
    """The three largest values of the 1-2-5 series at or below ``top``, for the marker-size key."""
    if top < 1:
        return [top]
    series = [s * 10**e for e in range(int(math.log10(top)) + 1) for s in (1, 2, 5)]
    return [v for v in series if v <= top][-3:]


def _map_legend(site_max: float, panels: list[Panel]) -> tuple[list, list]:
    """Handles for the symbols and for the marker-size key."""
    symbols = [
        Line2D(
            [],
            [],
            marker="s",
            linestyle="",
            markersize=9,
            markerfacecolor=LARGE,
            markeredgecolor="white",
            label="large site",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=9,
            markerfacecolor=REGULAR,
            markeredgecolor="white",
            label="regular site",
        ),
        Line2D([], [], color=LARGE, alpha=0.6, linewidth=1.4, label="people placed at a large site"),
        Line2D([], [], color=REGULAR, alpha=0.7, linewidth=1.4, label="people placed at a regular site"),
    ]
    if any(p.solution.kpis["unmet"] > 0 for p in panels):
        symbols.append(
            Patch(facecolor="white", edgecolor=UNMET, hatch=UNMET_HATCH, label="municipality with demand not placed")
        )
    if any(p.boundaries is not None for p in panels):
        symbols.append(Line2D([], [], color="#505050", linewidth=0.9, label="province boundary"))
    if any(p.boundaries is None for p in panels):
        symbols.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=8,
                markerfacecolor=TRAVEL_CMAP(0.0),
                markeredgecolor="#7a7a7a",
                label="municipality (size: demand)",
            )
        )
    sizes = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=math.sqrt(_marker_area(v, site_max)),
            markerfacecolor="#bdbdbd",
            markeredgecolor="white",
            label=f"{v:,.0f}",
        )
        for v in _nice_sizes(site_max)
    ]
    return symbols, sizes


# ---------------------------------------------------------------- provinces


def provinces_figure(panels: list[Panel]) -> Figure:
    """Per province: the task placed and unmet (stacked) against the task (tick), then, with national groups, their
    part placed and unmet in lighter colours up to the demand of both (a second tick); same x-axis in every panel."""
    n = len(panels)
    rows = max(len(p.solution.provinces) for p in panels)
    fig = Figure(figsize=(5.2 * n + 1.4, 1.3 + 0.34 * rows), layout="constrained")
    _style(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    splits = [p.solution.by_target() for p in panels]
    top = max(float(max(s["demand"].max(), (s["placed"] + s["unmet"]).max())) for s in splits)
    for k, (ax, panel, split) in enumerate(zip(axes, panels, splits)):
        prov = panel.solution.provinces
        y = np.arange(len(prov))[::-1]
        national = bool(panel.solution.national_groups)
        left = np.zeros(len(prov))
        parts = [("task_placed", PLACED, "task placed"), ("task_unmet", UNMET, "task unmet")]
        if national:
            parts += [
                ("national_placed", NATIONAL_PLACED, "national groups placed"),
                ("national_unmet", NATIONAL_UNMET, "national groups unmet"),
            ]
        for column, colour, label in parts:
            width = split[column].to_numpy(dtype=float)
            ax.barh(y, width, left=left, height=0.62, color=colour, label=label if national else label.split()[-1])
            left = left + width
        ax.scatter(
            split["task"].to_numpy(dtype=float),
            y,
            marker="|",
            s=260,
            linewidths=2.0,
            color=TASK,
            zorder=3,
            label="task",
        )
        if national:
            ax.scatter(
                split["demand"].to_numpy(dtype=float),
                y,
                marker="|",
                s=260,
                linewidths=2.0,
                color=DEMAND,
                zorder=3,
                label="task + national groups",
            )
        for yy, end, u, r in zip(y, left, prov["unmet"], prov["realisation"]):
            ax.text(
                end + top * 0.015,
                yy,
                "-" if pd.isna(r) else f"{100 * r:.0f}%" if r in (0, 1) else f"{min(100 * r, 99.9):.1f}%",
                va="center",
                fontsize=8,
                color=UNMET if u > 0 else "#555555",
            )
        ax.set_yticks(y, prov["name"] if k == 0 or not _same_provinces(panels) else [""] * len(y), fontsize=9)
        ax.set_xlim(0, top * 1.14)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel(panel.instance.units, fontsize=9)
        ax.set_title(panel.label, fontsize=11, fontweight="bold", loc="left", color=TEXT)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        plain_axes(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def _same_provinces(panels: list[Panel]) -> bool:
    first = list(panels[0].solution.provinces["province"])
    return all(list(p.solution.provinces["province"]) == first for p in panels)


# ---------------------------------------------------------------- costs


def cost_components(solution: Solution) -> list[tuple[str, float]]:
    """The parts of the objective as (label, amount), the unmet penalty only when there is one."""
    k = solution.kpis
    parts = [
        ("Fixed (open sites)", k["fixed_cost"]),
        ("Per place", k["place_cost"]),
        ("Travel value", k["travel_value"]),
    ]
    if k.get("unmet_penalty"):
        parts.append(("Unmet penalty", k["unmet_penalty"]))
    return parts


def costs_figure(panels: list[Panel]) -> Figure:
    """Fixed cost, cost per place, travel value (and unmet penalty) on one money axis; one bar per plan."""
    names = list(dict.fromkeys(name for p in panels for name, _ in cost_components(p.solution)))
    values = [dict(cost_components(p.solution)) for p in panels]
    n = len(panels)
    fig = Figure(figsize=(6.8 if n == 1 else 9.0, 1.0 + len(names) * (0.32 * n + 0.3)), layout="constrained")
    _style(fig)
    ax = fig.subplots()
    height = 0.8 / n
    top = max(v for row in values for v in row.values()) or 1.0
    cur = panels[0].instance.currency
    for j, name in enumerate(names):
        for k, panel in enumerate(panels):
            v = values[k].get(name, 0.0)
            y = len(names) - 1 - j + (n - 1 - 2 * k) * height / 2
            ax.barh(
                y,
                v,
                height=height * 0.9,
                color=COMPONENT_COLOURS[names.index(name) % len(COMPONENT_COLOURS)],
                alpha=1.0 if k == 0 else 0.6,
            )
            label = money(v, cur)
            if k > 0:
                diff = v - values[0].get(name, 0.0)
                label += (
                    f"  ({'+' if diff > 0 else '−'}{money(abs(diff), '').strip()} vs {panels[0].key})"
                    if diff
                    else f"  (same as {panels[0].key})"
                )
            ax.text(
                v + top * 0.01, y, (f"{panel.key}  " if n > 1 else "") + label, va="center", fontsize=8.5, color=TEXT
            )
    ax.set_yticks(range(len(names))[::-1], names, fontsize=9.5)
    ax.set_xlim(0, top * (1.3 if n == 1 else 1.6))
    ax.xaxis.set_major_formatter(money_axis(top))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(f"{cur} per {panels[0].instance.planning_period}", fontsize=9)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    plain_axes(ax)
    return fig


# ---------------------------------------------------------------- travel


def travel_figure(panels: list[Panel]) -> Figure:
    """Histogram of travel minutes weighted by people placed; same bins and axes in every panel."""
    n = len(panels)
    longest = max(
        [float(p.solution.placements["travel_minutes"].max()) for p in panels if len(p.solution.placements)] + [1.0]
    )
    step = _nice_step(longest / 24)
    edges = np.arange(0.0, longest + step, step)
    fig = Figure(figsize=(5.0 * n + 1.0, 3.4), layout="constrained")
    _style(fig)
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    for ax, panel in zip(axes, panels):
        pl = panel.solution.placements
        ax.hist(
            pl["travel_minutes"].to_numpy(dtype=float),
            bins=edges,
            weights=pl["placed"].to_numpy(dtype=float),
            color=PLACED,
            edgecolor="white",
            linewidth=0.5,
        )
        mean = panel.solution.kpis.get("mean_travel_minutes")
        if mean is not None:
            ax.axvline(mean, color=UNMET, linestyle="--", linewidth=1.2)
            ax.text(
                mean,
                0.97,
                f" mean {mean:.1f} min",
                transform=ax.get_xaxis_transform(),
                color=UNMET,
                fontsize=8.5,
                va="top",
            )
        ax.set_xlim(0, edges[-1])
        ax.set_xlabel("travel time from municipality to site (minutes)", fontsize=9)
        ax.set_title(panel.label, fontsize=11, fontweight="bold", loc="left", color=TEXT)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        plain_axes(ax)
    axes[0].set_ylabel(f"people placed ({panels[0].instance.units})", fontsize=9)
    return fig


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(raw))
    return next(s * base for s in (1, 2, 2.5, 5, 10) if s * base >= raw)
