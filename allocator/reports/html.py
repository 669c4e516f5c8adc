"""One self-contained HTML report of one or more solution folders, and the same figures as PNG.

The figures are drawn by allocator.figures (matplotlib) and put into the page as inline SVG, so
the file needs nothing else: no scripts, no fonts, no network. With several solutions every
figure shows them side by side on the same scales. Every file is written to a temporary file
beside its target and renamed into place, after all figures were drawn.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from matplotlib import rc_context
from matplotlib.figure import Figure

from ..check import check_solution
from ..core.errors import Problem, SolutionError
from ..core.files import write_bytes
from ..core.fmt import MISSING, minutes, missing, money, percent, places, status_text, status_word
from ..core.outputs import SIGNATURE, check_file_target, check_folder_target, write_folder
from ..data.geo import boundaries_for
from ..data.instance import Instance
from ..data.load import find_instance
from ..results.solution import read_solution
from ..solve.options import Status
from .figures import Panel, cost_components, costs_figure, map_figure, provinces_figure, travel_figure

FIGURES = ("map", "provinces", "costs", "travel")
PNG_DPI = 150


@dataclass(frozen=True)
class ReportFiles:
    """The files a report wrote."""

    html: Path
    pngs: tuple[Path, ...]


def load_panels(solutions: list[str | Path], instance: str | Path | None = None) -> list[Panel]:
    """Read each solution folder and its instance (found from summary.json unless ``instance`` is given), and re-run
    the independent check on each: the report states what the check says now, not what the summary remembers."""
    loaded: dict[str, Instance] = {}
    panels = []
    many = len(solutions) > 1
    for k, folder in enumerate(solutions):
        folder = Path(folder)
        solution = read_solution(folder)
        inst = find_instance(solution.summary, folder, instance)
        inst = loaded.setdefault(inst.fingerprint + inst.source, inst)
        check_made_for(solution.summary, folder, inst)
        letter = _letter(k)
        label = f"{letter} · {folder.name}" if many else folder.name
        boundaries = boundaries_for(inst.municipalities.index, inst.provinces.index)
        panels.append(Panel(letter, label, solution, inst, boundaries, check_solution(solution, inst)))
    return panels


def check_made_for(summary: dict, folder: Path, inst: Instance) -> None:
    """Refuse a solution made for another version of the instance: its figures would not match the instance's."""
    claimed = (summary.get("instance") or {}).get("fingerprint")
    if claimed != inst.fingerprint:
        raise SolutionError(
            [
                Problem(
                    str(folder / "summary.json"),
                    f"the solution was made for another version of the instance at {inst.source} (fingerprint {str(claimed)[:12]}, instance {inst.fingerprint[:12]})",
                    column="instance.fingerprint",
                )
            ]
        )


def _letter(k: int) -> str:
    return chr(ord("A") + k) if k < 26 else f"S{k + 1}"


def write_report(
    solutions: list[str | Path],
    out: str | Path = "report.html",
    png_dir: str | Path | None = None,
    instance: str | Path | None = None,
) -> ReportFiles:
    """Draw every figure, then write the HTML file (and the PNG files) atomically, where
    :func:`check_report_targets` allows."""
    inputs = [*solutions, *([instance] if instance else [])]
    check_report_targets(out, png_dir, inputs)
    panels = load_panels(solutions, instance)
    figure_map, tips = map_figure(panels)
    figures = {
        "map": figure_map,
        "provinces": provinces_figure(panels),
        "costs": costs_figure(panels),
        "travel": travel_figure(panels),
    }
    svgs, pngs = draw(figures, {"map": tips}, png_dir is not None)
    return write_page(render_html(panels, svgs), out, pngs, png_dir, inputs)


def check_report_targets(out: str | Path, png_dir: str | Path | None, inputs: list) -> None:
    """Before anything is drawn: the HTML file may replace only a report this package wrote, the PNG folder only a
    figures folder of ours, and neither may replace an input (a solution folder or the instance)."""
    check_file_target(out, inputs)
    if png_dir is not None:
        check_folder_target(png_dir, "figures", inputs)


def write_page(
    page: str, out: str | Path, pngs: dict[str, bytes], png_dir: str | Path | None, inputs: list
) -> ReportFiles:
    """The page, and the PNG files in a figures folder of their own, each written whole or not at all."""
    written = []
    if png_dir is not None:

        def fill(staging: Path) -> None:
            for name, data in pngs.items():
                (staging / f"{name}.png").write_bytes(data)

        folder = write_folder(png_dir, "figures", fill, inputs=inputs)
        written = [folder / f"{name}.png" for name in pngs]
    return ReportFiles(write_bytes(Path(out), page.encode("utf-8")), tuple(written))


def draw(
    figures: dict[str, Figure], tips: dict[str, dict[str, str]], png: bool
) -> tuple[dict[str, str], dict[str, bytes]]:
    """Every figure as inline SVG (``tips``: tooltips per figure) and, when ``png``, as PNG bytes signed in their
    Software field."""
    svgs, pngs = {}, {}
    for name, fig in figures.items():
        svgs[name] = svg_markup(fig, name, tips.get(name, {}))
        if png:
            buffer = io.BytesIO()
            fig.savefig(
                buffer,
                format="png",
                dpi=PNG_DPI,
                bbox_inches="tight",
                pad_inches=0.15,
                metadata={"Software": SIGNATURE},
            )
            pngs[name] = buffer.getvalue()
    return svgs, pngs


def svg_markup(fig, name: str, tips: dict[str, str]) -> str:
    """The figure as an <svg> element for inline use: ids made unique to the figure, tooltips added."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.15, metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    for gid, tip in tips.items():
        text = text.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{html.escape(tip)}</title>', 1)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{name}-{m[1]}"', text)
    text = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m[1]}="#{name}-{m[2]}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{name}-{m[1]})", text)
    # Scale with the page: keep the viewBox, drop the fixed size.
    head_end = text.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[:head_end])
    natural = float(re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+)', head)[1]) * 96 / 72  # pt -> CSS px
    return f'{head} class="figure" style="max-width:{natural:.0f}px" role="img" aria-labelledby="{name}-caption"{text[head_end:]}'


# ---------------------------------------------------------------- the page

e = html.escape
DIFF = ' class="diff"'

CSS = """
:root { --ink:#222; --muted:#5f6368; --line:#e2e5e9; --soft:#f5f7fa; --ok:#1e7d32; --warn:#b26a00; --bad:#b3261e; --accent:#3f2a7a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1320px; margin: 0 auto; padding: 28px 32px 40px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 22px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p.lead, p.note, figcaption { color: var(--muted); margin: 4px 0; }
p.note { font-size: 13px; }
figcaption { font-size: 13px; }
ul.plans { margin: 8px 0 0; padding-left: 18px; }
.figure { display: block; width: 100%; height: auto; }
figure { margin: 8px 0 6px; }
figure.map .figure { max-height: 980px; }
.overview { display: grid; grid-template-columns: minmax(340px, 5fr) 7fr; gap: 32px; align-items: start; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 32px; align-items: start; }
@media (max-width: 900px) { .overview, .pair { grid-template-columns: 1fr; } }
td.sub { padding-left: 24px; color: var(--muted); }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; margin: 6px 0 12px; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .k { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 20px; font-weight: 600; }
.card .s { font-size: 12px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 8px 0; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid #c8ccd2; }
td.diff { background: #fff4d6; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; font-weight: 600; color: #fff; white-space: normal; }
td.wrap { text-align: right; white-space: normal; min-width: 9em; }
.kpi-table { table-layout: auto; }
.card .v { overflow-wrap: anywhere; }
.status.ok { background: var(--ok); } .status.warn { background: var(--warn); } .status.bad { background: var(--bad); }
.banner { border-left: 4px solid var(--warn); background: #fff8e6; padding: 8px 12px; margin: 10px 0; }
.banner.bad { border-color: var(--bad); background: #fdecea; }
.scroll { overflow-x: auto; }
footer { margin-top: 36px; padding-top: 12px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12.5px; }
"""


def render_html(panels: list[Panel], svgs: dict[str, str]) -> str:
    """The whole page, with the figures given as inline SVG."""
    many = len(panels) > 1
    names = list(dict.fromkeys(p.instance.name for p in panels))
    title = ("Reception plans compared: " if many else "Reception plan: ") + ", ".join(names)
    body = [
        _header(panels, title),
        _banners(panels),
        *(_body_one(panels, svgs) if not many else _body_many(panels, svgs)),
        '<section id="policy-section"><h2>Policy and solver</h2>',
        _policy_table(panels),
        "</section>",
        _footer(panels),
    ]
    return page_html(title, body)


def page_html(title: str, body: list[str]) -> str:
    """The page around ``body`` (its empty parts left out), one part a line, signed as this package's in its head
    (a later report may replace only a signed page)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="{SIGNATURE}">',
        '<link rel="icon" href="data:,">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        *body,
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def figure_html(name: str, svgs: dict[str, str], caption: str, cls: str = "") -> str:
    """A figure of ``svgs`` with its caption, which labels it."""
    attrs = f' class="{cls}"' if cls else ""
    return f'<figure id="{name}"{attrs}>{svgs[name]}<figcaption id="{name}-caption">{e(caption)}</figcaption></figure>'


PROVINCE_CAPTION = "Placed (blue) and unmet (red) places of each province's task against the task (black tick); the label is the share of the demand placed."
NATIONAL_CAPTION = (
    "Placed (blue) and unmet (red) places of each province's task against the task (black tick), then its part of the "
    "national groups placed (light blue) and unmet (light red) up to task + national groups (grey tick); the label is "
    "the share of all demand placed."
)


def _province_caption(panels: list[Panel]) -> str:
    return NATIONAL_CAPTION if any(p.solution.national_groups for p in panels) else PROVINCE_CAPTION


TRAVEL_CAPTION = (
    "Travel time from each municipality to the site where its people are placed, counted per person placed."
)


def _body_one(panels: list[Panel], svgs: dict[str, str]) -> list[str]:
    """One plan: figures and tables next to each other where they fit."""
    return [
        '<section id="summary-section"><h2>Summary</h2>',
        _cards(panels[0]),
        f'<div class="overview"><div>{_kpi_table(panels)}</div>{figure_html("map", svgs, _map_caption(panels), "map")}</div>',
        "</section>",
        '<section id="provinces-section"><h2>Provinces</h2>',
        figure_html("provinces", svgs, _province_caption(panels)),
        _province_table(panels),
        "</section>",
        '<section id="costs-travel"><h2>Cost breakdown and travel times</h2><div class="pair">',
        figure_html("costs", svgs, _cost_caption(panels)),
        figure_html("travel", svgs, TRAVEL_CAPTION),
        "</div></section>",
    ]


def _body_many(panels: list[Panel], svgs: dict[str, str]) -> list[str]:
    """Several plans: each figure shows them side by side on the same scales."""
    return [
        '<section id="summary-section"><h2>Summary</h2>',
        _kpi_table(panels),
        "</section>",
        '<section id="map-section"><h2>Map</h2>',
        figure_html("map", svgs, _map_caption(panels), "map"),
        "</section>",
        '<section id="provinces-section"><h2>Provinces</h2>',
        figure_html("provinces", svgs, _province_caption(panels) + " Same axis in every panel."),
        _province_table(panels),
        "</section>",
        '<section id="costs-section"><h2>Cost breakdown</h2>',
        figure_html("costs", svgs, _cost_caption(panels)),
        "</section>",
        '<section id="travel-section"><h2>Travel times</h2>',
        figure_html("travel", svgs, TRAVEL_CAPTION + " Same bins and axes in every panel."),
        "</section>",
    ]


def _status_badge(status: str) -> str:
    cls = "ok" if status == Status.OPTIMAL else "warn" if status == Status.TIME_LIMIT else "bad"
    return f'<span class="status {cls}">{e(status_text(status))}</span>'


def _header(panels: list[Panel], title: str) -> str:
    inst = panels[0].instance
    lines = [f"<header><h1>{e(title)}</h1>", f'<p class="lead">{e(inst.description)}</p>', '<ul class="plans">']
    for p in panels:
        s = p.solution.summary
        lines.append(
            f"<li><strong>{e(p.label)}</strong>: policy <code>{e(str(s['policy'].get('name')))}</code>, instance {e(p.instance.name)} "
            f"(fingerprint <code>{e(p.instance.fingerprint[:12])}</code>), {_status_badge(s['status'])}</li>"
        )
    lines.append("</ul></header>")
    return "\n".join(lines)


def _banners(panels: list[Panel]) -> str:
    out = []
    for p in panels:
        s = p.solution.summary
        who = f"{p.label}: " if len(panels) > 1 else ""
        if s["status"] != Status.OPTIMAL:
            gap = (
                f" Remaining gap {percent(s.get('gap'))} ({money(s.get('absolute_gap'), p.instance.currency)})."
                if s.get("gap") is not None
                else ""
            )
            out.append(
                f'<p class="banner{"" if s["status"] == Status.TIME_LIMIT else " bad"}">{e(who)}this plan is <strong>not proven optimal</strong> ({e(status_text(s["status"]))}).{e(gap)}{(" " + e(s["message"])) if s.get("message") else ""}</p>'
            )
        if not p.check.passed:
            out.append(
                f'<p class="banner bad">{e(who)}the plan <strong>fails the independent check</strong>, re-run for this report ({len(p.check.violations)} violations): {e("; ".join(p.check.violations[:5]))}</p>'
            )
        if s["kpis"].get("unmet", 0) > 0:
            out.append(
                f'<p class="banner">{e(who)}{places(s["kpis"]["unmet"])} {e(p.instance.units)} of the demand are not placed.</p>'
            )
    return "\n".join(out)


def _cards(panel: Panel) -> str:
    s, k, cur = panel.solution.summary, panel.solution.kpis, panel.instance.currency
    cards = [
        (
            "Status",
            status_word(s["status"]),
            f"{status_text(s['status'])}; gap {percent(s.get('gap'))} ({money(s.get('absolute_gap'), cur)})",
        ),
        (
            "Total cost",
            money(k["total_cost"], cur),
            f"per {panel.instance.planning_period}; objective {money(s.get('objective'), cur)}",
        ),
        (
            "Placed",
            places(k["placed"]),
            f"of {_demand_parts(panel)} {panel.instance.units}; unmet {places(k['unmet'])}",
        ),
        ("Open sites", str(k["open_sites"]), f"{k['open_large_sites']} large, {k['open_regular_sites']} regular"),
        (
            "Travel",
            minutes(k.get("mean_travel_minutes")),
            f"mean per person placed; max {minutes(k.get('max_travel_minutes'))}",
        ),
    ]
    return cards_html(cards)


def cards_html(cards: list[tuple[str, str, str]]) -> str:
    """The row of KPI cards, each a (name, value, note)."""
    body = "".join(
        f'<div class="card"><div class="k">{e(a)}</div><div class="v">{e(b)}</div><div class="s">{e(c)}</div></div>'
        for a, b, c in cards
    )
    return f'<div class="kpis">{body}</div>'


def _kpi_rows(panels: list[Panel]) -> list[tuple[str, object, str]]:
    """(label, getter, kind); kind decides formatting and how differences are shown."""
    rows = [
        ("Status", lambda s: s["status"], "status"),
        ("Objective", lambda s: s.get("objective"), "money"),
        ("Bound", lambda s: s.get("bound"), "money"),
        ("Gap (relative)", lambda s: s.get("gap"), "share"),
        ("Gap (absolute)", lambda s: s.get("absolute_gap"), "money"),
        ("Total cost (fixed + per place)", lambda s: s["kpis"]["total_cost"], "money"),
        ("Fixed cost", lambda s: s["kpis"]["fixed_cost"], "money"),
        ("Cost per place, summed", lambda s: s["kpis"]["place_cost"], "money"),
        ("Travel value", lambda s: s["kpis"]["travel_value"], "money"),
    ]
    if any(p.solution.kpis.get("unmet_penalty") for p in panels):
        rows.append(("Unmet penalty", lambda s: s["kpis"]["unmet_penalty"], "money"))
    national = any(p.solution.national_groups for p in panels)
    rows.append(("Demand (task + national groups)" if national else "Demand", lambda s: s["kpis"]["demand"], "places"))
    if national:
        rows += [
            ("  task", lambda p: _target_total(p, "task"), "panel"),
            ("  national groups", lambda p: _target_total(p, "national"), "panel"),
        ]
    rows += [
        ("Placed", lambda s: s["kpis"]["placed"], "places"),
        ("Unmet", lambda s: s["kpis"]["unmet"], "places"),
        ("Open sites", lambda s: s["kpis"]["open_sites"], "count"),
        ("  of which large", lambda s: s["kpis"]["open_large_sites"], "count"),
        ("  of which regular", lambda s: s["kpis"]["open_regular_sites"], "count"),
        *_chain_rows(panels),
        ("Mean travel per person placed", lambda s: s["kpis"].get("mean_travel_minutes"), "minutes"),
        ("Longest travel", lambda s: s["kpis"].get("max_travel_minutes"), "minutes"),
    ]
    if any(p.solution.kpis.get("budget") is not None for p in panels):
        rows += [
            ("Budget", lambda s: s["kpis"].get("budget"), "money"),
            ("Budget used", lambda s: s["kpis"].get("budget_used"), "share"),
        ]
    rows += [
        (
            "Independent check (re-run now)",
            lambda p: "passed" if p.check.passed else f"FAILED ({len(p.check.violations)} violations)",
            "check",
        ),
        ("Solve time", lambda s: (s.get("timings") or {}).get("solve"), "seconds"),
    ]
    return rows


def _open_where(panel: Panel, column: str, value: str) -> int:
    sites = panel.solution.sites
    return int(((sites[column] == value) & (sites["open_site"] > 0)).sum()) if column in sites else 0


def _chain_rows(panels: list[Panel]) -> list[tuple[str, object, str]]:
    """Open transit sites, and open sites per operator, when a plan has them (the "panel" kind: counted from its
    sites table)."""
    rows = []
    if any((p.solution.sites["kind"] == "transit").any() for p in panels):
        rows.append(("  of which transit", lambda p: _open_where(p, "kind", "transit"), "panel"))
    operators = sorted({o for p in panels if "operator" in p.solution.sites for o in p.solution.sites["operator"]})
    for o in operators:
        rows.append((f"  run by {o}", lambda p, o=o: _open_where(p, "operator", o), "panel"))
    return rows


def _kpi_table(panels: list[Panel]) -> str:
    cur = panels[0].instance.currency
    head = (
        "<tr><th>Figure</th>"
        + "".join(
            f'<th class="n">{e(p.label)}</th>' + (f'<th class="n">{e(p.key)} − {e(panels[0].key)}</th>' if k else "")
            for k, p in enumerate(panels)
        )
        + "</tr>"
    )
    body = []
    for label, get, kind in _kpi_rows(panels):
        values = [get(p) if kind in ("check", "panel") else get(p.solution.summary) for p in panels]
        kind = "places" if kind == "panel" else kind
        cells = []
        for k, v in enumerate(values):
            # Status and check texts wrap inside their cell, so that a long status never pushes the figures out of view.
            if kind in ("status", "check"):
                cells.append(
                    f'<td class="wrap">{_status_badge(v) if kind == "status" else e(_fmt(v, "text", cur))}</td>'
                )
            else:
                cells.append(f'<td class="n">{e(_fmt(v, kind, cur))}</td>')
            if k:
                cells.append(f'<td class="n">{e(_diff(v, values[0], kind, cur))}</td>')
        sub = ' class="sub"' if label.startswith("  ") else ""
        body.append(f"<tr><td{sub}>{e(label.strip())}</td>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table class="kpi-table"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'


def _fmt(v, kind: str, cur: str) -> str:
    if missing(v):
        return MISSING
    return {
        "money": lambda: money(v, cur),
        "share": lambda: percent(v),
        "places": lambda: places(v),
        "count": lambda: f"{int(v):,}",
        "minutes": lambda: minutes(v),
        "seconds": lambda: f"{v:.2f} s",
    }.get(kind, lambda: str(v))()


def _diff(v, base, kind: str, cur: str) -> str:
    if kind in ("status", "text", "seconds", "check") or v is None or base is None:
        return "" if kind in ("seconds",) or v == base else "differs"
    d = v - base
    if d == 0:
        return "="
    sign = "+" if d > 0 else "−"
    if kind == "money":
        return sign + money(abs(d), cur)
    if kind == "share":
        return f"{sign}{abs(d) * 100:.2f} pt"
    if kind == "minutes":
        return f"{sign}{abs(d):.1f} min"
    if kind == "count":
        return f"{sign}{abs(int(d)):,}"
    return sign + places(abs(d))


def _map_caption(panels: list[Panel]) -> str:
    geo = panels[0].boundaries is not None
    text = (
        "Each municipality is shaded by the share of its demand that is not placed (the same colour scale in every panel). "
        if geo
        else "Each municipality is a circle at its coordinates, sized by its demand and shaded by the share of its demand that is not placed. "
    )
    text += "Squares are large sites, circles regular sites, both sized by the people placed there on one scale; lines join each municipality to the large site where some of its people are placed. Hover over a municipality or site for its figures."
    return text


def _cost_caption(panels: list[Panel]) -> str:
    cur, period = panels[0].instance.currency, panels[0].instance.planning_period
    lines = []
    for p in panels:
        parts = "; ".join(f"{name} {money(v, cur)}" for name, v in cost_components(p.solution))
        lines.append(f"{p.label + ': ' if len(panels) > 1 else ''}{parts}.")
    return (
        f"{cur} per {period}. Total cost is the fixed cost of the open sites plus the cost per place; the objective adds the travel value "
        f"(travel minutes priced by the policy) and the penalty for unmet demand. " + " ".join(lines)
    )


def _demand_parts(panel: Panel) -> str:
    """The demand of a plan, with the task and the national groups apart when it has national groups."""
    demand = places(panel.solution.kpis["demand"])
    if not panel.solution.national_groups:
        return demand
    return f"{demand} (task {places(_target_total(panel, 'task'))} + national groups {places(_target_total(panel, 'national'))})"


def _target_total(panel: Panel, column: str) -> float:
    return float(panel.solution.by_target()[column].sum())


def _targets_note(panels: list[Panel]) -> str:
    """What the demand columns of the province tables mean."""
    national = next((p.solution for p in panels if p.solution.national_groups), None)
    if national is None:
        return '<p class="note">Task: the demand of the province\'s municipalities.</p>'
    return (
        f'<p class="note">Task: the province\'s own groups ({e(", ".join(national.task_groups))}); national groups: its '
        f"part of the groups with a national target ({e(', '.join(national.national_groups))}); demand = task + national "
        "groups. Placed, unmet, realised and cost count every group.</p>"
    )


def _demand_headers(national: bool) -> str:
    names = ["Task", "National groups", "Demand"] if national else ["Task"]
    return "".join(f'<th class="n">{n}</th>' for n in names)


def _demand_cells(split, pid, national: bool) -> str:
    columns = ("task", "national", "demand") if national else ("task",)
    return "".join(f'<td class="n">{places(split.at[pid, c])}</td>' for c in columns)


def _province_table(panels: list[Panel]) -> str:
    cur = panels[0].instance.currency
    splits = [p.solution.by_target() for p in panels]
    same_demand = all(
        s.index.equals(splits[0].index) and s[["task", "national"]].equals(splits[0][["task", "national"]])
        for s in splits
    )
    if len(panels) == 1 or not same_demand:
        return "".join(_province_table_one(p, cur, len(panels) > 1) for p in panels) + _targets_note(panels)
    national = any(p.solution.national_groups for p in panels)
    first = panels[0].solution.provinces
    head = (
        "<tr><th>Province</th>"
        + _demand_headers(national)
        + "".join(
            f'<th class="n">{e(p.key)} placed</th><th class="n">{e(p.key)} unmet</th><th>{e(p.key)} large site</th><th class="n">{e(p.key)} cost</th>'
            for p in panels
        )
        + "</tr>"
    )
    rows = []
    for j, pid in enumerate(first["province"]):
        cells = [f"<td>{e(str(first.iloc[j]['name']))}</td>", _demand_cells(splits[0], pid, national)]
        base = str(first.iloc[j]["large_site_names"] or "-")
        for p in panels:
            r = p.solution.provinces.iloc[j]
            large = str(r["large_site_names"] or "-")
            cells += [
                f'<td class="n">{places(r["placed"])}</td>',
                f'<td class="n">{places(r["unmet"])}</td>',
                f"<td{DIFF if large != base else ''}>{e(large.replace(';', ', '))}</td>",
                f'<td class="n">{e(money(r["cost"], cur))}</td>',
            ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = '<p class="note">Large sites that differ from plan A are highlighted.</p>'
    return f'<div class="scroll"><table class="province-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>{note}{_targets_note(panels)}'


def _province_table_one(panel: Panel, cur: str, titled: bool) -> str:
    prov = panel.solution.provinces
    split = panel.solution.by_target()
    national = bool(panel.solution.national_groups)
    head = (
        "<tr><th>Province</th>"
        + _demand_headers(national)
        + '<th class="n">Placed</th><th class="n">Unmet</th><th class="n">Realised</th>'
        '<th>Large site</th><th class="n">Open sites</th><th class="n">Cost</th><th class="n">Mean travel</th></tr>'
    )
    rows = []
    for r in prov.itertuples():
        rows.append(
            f'<tr><td>{e(str(r.name))}</td>{_demand_cells(split, r.province, national)}<td class="n">{places(r.placed)}</td>'
            f'<td class="n">{places(r.unmet)}</td><td class="n">{percent(r.realisation)}</td><td>{e(str(r.large_site_names or "-").replace(";", ", "))}</td>'
            f'<td class="n">{int(r.open_sites)}</td><td class="n">{e(money(r.cost, cur))}</td><td class="n">{minutes(r.mean_travel_minutes)}</td></tr>'
        )
    total_demand = float(prov["demand"].sum())
    totals = split.sum()
    columns = ("task", "national", "demand") if national else ("task",)
    rows.append(
        '<tr class="total"><td>Total</td>'
        + "".join(f'<td class="n">{places(totals[c])}</td>' for c in columns)
        + f'<td class="n">{places(prov["placed"].sum())}</td>'
        f'<td class="n">{places(prov["unmet"].sum())}</td><td class="n">{percent(prov["placed"].sum() / total_demand if total_demand else None)}</td><td></td>'
        f'<td class="n">{int(prov["open_sites"].sum())}</td><td class="n">{e(money(prov["cost"].sum(), cur))}</td><td class="n">{minutes(panel.solution.kpis.get("mean_travel_minutes"))}</td></tr>'
    )
    title = f"<h3>{e(panel.label)}</h3>" if titled else ""
    return f'{title}<div class="scroll"><table class="province-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def _policy_table(panels: list[Panel]) -> str:
    policies = [p.solution.summary.get("policy") or {} for p in panels]
    options = [p.solution.summary.get("options") or {} for p in panels]
    keys = list(dict.fromkeys(k for pol in policies for k in pol))
    head = "<tr><th>Policy key</th>" + "".join(f"<th>{e(p.label)}</th>" for p in panels) + "</tr>"
    rows = []
    for key in keys:
        values = [_plain(pol.get(key)) for pol in policies]
        differs = len(set(values)) > 1
        rows.append(
            f"<tr><td><code>{e(key)}</code></td>"
            + "".join(f"<td{DIFF if differs and k else ''}>{e(v)}</td>" for k, v in enumerate(values))
            + "</tr>"
        )
    for key in dict.fromkeys(k for o in options for k in o):
        rows.append(
            f"<tr><td>solver <code>{e(key)}</code></td>"
            + "".join(f"<td>{e(_plain(o.get(key)))}</td>" for o in options)
            + "</tr>"
        )
    for label, get in (
        ("HiGHS", lambda s: (s.get("versions") or {}).get("HiGHS")),
        ("reception-allocator", lambda s: (s.get("versions") or {}).get("reception-allocator")),
    ):
        rows.append(
            f"<tr><td>{e(label)} version</td>"
            + "".join(f"<td>{e(_plain(get(p.solution.summary)))}</td>" for p in panels)
            + "</tr>"
        )
    note = '<p class="note">Values that differ from plan A are highlighted.</p>' if len(panels) > 1 else ""
    return f'<div class="scroll"><table class="policy-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>{note}'


def _plain(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "(none)"
    if isinstance(v, float) and v.is_integer() and abs(v) >= 1e4:
        return f"{v:,.0f}"
    return json.dumps(v, ensure_ascii=False) if isinstance(v, bool) else str(v)


def _footer(panels: list[Panel]) -> str:
    lines = []
    if any(p.boundaries is not None for p in panels):
        lines.append(
            f"Map boundaries: {next(p.boundaries for p in panels if p.boundaries).attribution}. "
            "Municipal and provincial codes, names and population: Bron: CBS."
        )
    seen = set()
    for p in panels:
        if p.instance.fingerprint in seen:
            continue
        seen.add(p.instance.fingerprint)
        lines.append(
            f"Instance {p.instance.name} (fingerprint {p.instance.fingerprint[:12]}): "
            "its data sources and their attribution are listed in the instance's README."
        )
    lines.append("Made with reception-allocator (Pyomo + HiGHS).")
    return "<footer>" + "".join(f"<p>{e(line)}</p>" for line in lines) + "</footer>"
