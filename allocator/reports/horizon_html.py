"""One self-contained HTML report of a plan over several periods: status and KPIs, the site timeline
(Gantt, and as a table), capacity against the demand band per province, with demand groups their need,
placed, emergency and unmet places per period and the capacity of the sites that take them, the plan
against the myopic baseline and against the plan for one scenario alone. Figures are inline SVG; files
are written whole or not at all."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..core.fmt import amount, money, percent, places, signed, status_text
from ..data.load import find_instance
from ..results.solution import HorizonSolution, read_horizon_solution
from .horizon import (
    group_periods,
    housing_rows,
    housing_shown,
    housing_title,
    own_site_groups,
    shown_scenario,
    transit_periods,
)
from .horizon_figures import band_figure, comparison_figure, gantt_figure, group_figure
from .html import (
    ReportFiles,
    _plain,
    _status_badge,
    cards_html,
    check_made_for,
    check_report_targets,
    draw,
    figure_html,
    page_html,
    write_page,
)

e = html.escape


def write_horizon_report(
    folder: str | Path,
    out: str | Path = "report.html",
    png_dir: str | Path | None = None,
    instance: str | Path | None = None,
) -> ReportFiles:
    """Draw every figure of the plan in ``folder``, then write the HTML file (and the PNG files) atomically."""
    folder = Path(folder)
    inputs = [folder, *([instance] if instance else [])]
    check_report_targets(out, png_dir, inputs)
    solution = read_horizon_solution(folder)
    inst = find_instance(solution.summary, folder, instance)
    check_made_for(solution.summary, folder, inst)
    scenario = shown_scenario(solution)
    figures = {"timeline": gantt_figure(solution, scenario), "band": band_figure(solution, scenario)}
    groups = None
    if solution.summary.get("groups") and inst.groups is not None:
        groups = group_periods(solution, inst.groups.eligible)
        own = own_site_groups(inst.groups.eligible, inst.sites)
        if own:
            figures["groups"] = group_figure(solution, groups, own, scenario)
    if solution.comparison is not None:
        figures["comparison"] = comparison_figure(solution)
    svgs, pngs = draw(figures, {}, png_dir is not None)
    page = render_horizon_html(solution, inst, svgs, scenario, groups)
    return write_page(page, out, pngs, png_dir, inputs)


def render_horizon_html(
    solution: HorizonSolution, inst, svgs: dict[str, str], scenario: str, groups: pd.DataFrame | None = None
) -> str:
    """The whole page; ``groups``: reports.horizon.group_periods, for a plan with demand groups."""
    s = solution.summary
    cur = s["instance"].get("currency", "EUR")
    title = f"Reception plan over {len(s['periods'])} periods: {inst.name}"
    parts = [
        _plan_header(solution, title, cur),
        _plan_banners(solution),
        '<section id="scenarios-section"><h2>Scenarios</h2>',
        _scenario_table(solution, cur),
        "</section>",
        '<section id="timeline-section"><h2>Site timeline</h2>',
        figure_html(
            "timeline",
            svgs,
            f"Every site in service at some time under {scenario}, by province: open (large purple, regular blue) or on standby (amber); green ticks mark openings, red ticks closings.",
        ),
        _site_table(solution, scenario, inst),
        "</section>",
        '<section id="band-section"><h2>Capacity against the demand band</h2>',
        figure_html(
            "band",
            svgs,
            f"Per province: the need from the lowest to the highest scenario (shaded) and in mid (line), against the capacity of the open sites under {scenario} (and of the open and standby sites, dashed).",
        ),
        "</section>",
    ]
    if groups is not None:
        parts += [
            '<section id="groups-section"><h2>Demand groups</h2>',
            _groups(solution, groups, svgs, scenario),
            "</section>",
        ]
    if housing_shown(s):
        header, rows = housing_rows(s, scenario)
        parts += [
            '<section id="housing-section"><h2>Status holders waiting for a home</h2>',
            f"<p>{e(housing_title(s, scenario))}.</p>",
            _table(["Status holders", *header], rows, set(range(1, len(header) + 1)), "housing-table"),
            "</section>",
        ]
    transit = transit_periods(solution, scenario)
    if not transit.empty:
        parts += [
            '<section id="transit-section"><h2>Transit sites</h2>',
            f"<p>Status holders waiting near their home municipality ({e(scenario)}): each a place less in asylum "
            "reception in that period.</p>",
            _table(
                ["", *transit.index],
                [
                    ["Transit sites open", *map(str, transit["sites"])],
                    ["Status holders there", *map(places, transit["placed"])],
                ],
                set(range(1, len(transit) + 1)),
                "transit-table",
            ),
            "</section>",
        ]
    if "comparison" in svgs:
        parts += [
            '<section id="comparison-section"><h2>Looking ahead against the myopic baseline</h2>',
            figure_html(
                "comparison",
                svgs,
                "Money spent per scenario by the plan made for it over the whole horizon (integrated), by the plan made period by period as it unfolds (myopic) and, for a band, by the one plan for every scenario; +openings/-closings on each bar.",
            ),
            _comparison_table(solution, cur),
            "</section>",
        ]
    if solution.robustness is not None and len(solution.robustness):
        parts += [
            '<section id="robustness-section"><h2>Price of robustness and regret</h2>',
            _robustness(solution, cur),
            "</section>",
        ]
    parts += [
        '<section id="policy-section"><h2>Policy and solver</h2>',
        _policy(solution),
        "</section>",
        _plan_footer(inst),
    ]
    return page_html(title, parts)


def _plan_header(solution: HorizonSolution, title: str, cur: str) -> str:
    s, k = solution.summary, solution.summary["kpis"]
    periods = [p["period"] for p in s["periods"]]
    lead = (
        f"{periods[0]} … {periods[-1]}; plan {e(s['scenario'])} ({e(s['plan'])}); risk {e(k['risk'])}; "
        f"scenario weights {e(', '.join(f'{w} {percent(v)}' for w, v in s['weights'].items()))}"
    )
    cards = [
        ("Objective", money(s["objective"], cur), f"gap {percent(s['gap'])} ({money(s['absolute_gap'], cur)})"),
        (
            "Money spent, expected",
            money(k["expected_total_cost"], cur),
            f"worst scenario {money(k['worst_total_cost'], cur)}",
        ),
        ("Openings", " / ".join(str(v) for v in k["openings"].values()), "per scenario"),
        ("Closings", " / ".join(str(v) for v in k["closings"].values()), "per scenario"),
        ("Emergency place-periods", places(k["expected_emergency_place_periods"]), "expected"),
        ("Unmet place-periods", places(k["expected_unmet_place_periods"]), "expected"),
    ]
    return (
        f'<header><h1>{e(title)}</h1><p class="lead">{_status_badge(s["status"])} '
        f"{e(status_text(s['status']))} · {lead}</p></header>{cards_html(cards)}"
    )


def _plan_banners(solution: HorizonSolution) -> str:
    s = solution.summary
    out = []
    check = s.get("check")
    if check is not None and not check.get("passed"):
        out.append(
            f'<div class="banner bad">The plan failed the independent check: {e("; ".join(check["violations"][:5]))}</div>'
        )
    if s["status"] != "optimal":
        out.append(f'<div class="banner">Not proven optimal: {e(status_text(s["status"]))}.</div>')
    if float(solution.scenarios["unmet"].sum()) > 0:
        out.append('<div class="banner">Some demand is left unmet: see the unmet place-periods per scenario.</div>')
    return "".join(out)


def _table(header: list[str], rows: list[list[str]], numeric: set[int], table_id: str | None = None) -> str:
    head = "".join(f"<th{' class=n' if k in numeric else ''}>{e(h)}</th>" for k, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if k in numeric else ''}>{e(c)}</td>" for k, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    own = f' id="{e(table_id)}"' if table_id else ""
    return f'<div class="scroll"><table{own}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _groups(solution: HorizonSolution, groups: pd.DataFrame, svgs: dict[str, str], shown: str) -> str:
    """The figure of the groups with sites of their own, and a table per scenario: need, placed, emergency and
    unmet places per group and period, and the places of the sites that take the group (the shown scenario's
    table open, the others a click away)."""
    out = []
    if "groups" in svgs:
        out.append(
            figure_html(
                "groups",
                svgs,
                f"Per group that only some sites take: its need under {shown} (line; shaded from the lowest to the "
                f"highest scenario) against the places of the sites that take it, open under {shown} (and open or on "
                "standby, dashed). A site that takes several groups counts for each, at its capacity for the group.",
            )
        )
    names = {
        g["group"]: g["name"] + (" (national)" if g["target"] == "national" else "") for g in solution.summary["groups"]
    }
    header = ["Group", "Period", "Need", "Placed", "Emergency", "Unmet", "Capacity open", "Capacity on standby"]
    scenarios = [shown] + [w for w in solution.summary["scenarios"] if w != shown]
    for w in scenarios:
        rows = [
            [
                names[r.group],
                r.period,
                places(r.need),
                places(r.placed),
                places(r.emergency),
                places(r.unmet),
                places(r.open_capacity),
                places(r.standby_capacity),
            ]
            for r in groups[groups["scenario"] == w].itertuples()
        ]
        caption = (
            f"Scenario {w}: per group and period, the need and the places placed at sites, in emergency "
            "reception and unmet; the capacity of the sites that take the group, open and on standby."
        )
        body = f'<p class="note">{e(caption)}</p>' + _table(header, rows, set(range(2, len(header))), f"groups-{w}")
        out.append(
            f"<details{' open' if w == shown else ''}><summary>Scenario {e(w)}</summary>{body}</details>"
            if len(scenarios) > 1
            else body
        )
    return "".join(out)


def _site_table(solution: HorizonSolution, scenario: str, inst) -> str:
    """The timeline as a table: every site in service at some time under ``scenario``, its state per period
    (open, standby or closed, with the period's event), and, with demand groups, the groups it takes."""
    periods = [p["period"] for p in solution.summary["periods"]]
    tl = solution.timeline[solution.timeline["scenario"] == scenario]
    used = list(dict.fromkeys(tl.loc[tl["state"] != "closed", "site"]))
    by_site = {s: g.set_index("period") for s, g in tl[tl["site"].isin(used)].groupby("site", sort=False)}
    takes = {}
    if solution.summary.get("groups") and inst.groups is not None:
        takes = inst.groups.eligible.groupby("site", sort=False)["group"].agg(", ".join).to_dict()
    rows = []
    for s in used:
        g = by_site[s]
        first = g.iloc[0]
        cells = [s, str(first["name"]), str(first["province"]), str(first["kind"])]
        if takes:
            cells.append(takes.get(s, ""))
        for t in periods:
            state, event = g.at[t, "state"], g.at[t, "event"]
            cells.append(str(state) + (f", {event}" if isinstance(event, str) and event else ""))
        rows.append(cells)
    header = ["Site", "Name", "Province", "Kind", *(["Groups"] if takes else []), *periods]
    return (
        f"<details><summary>The timeline as a table ({e(scenario)}): the state of each site per period</summary>"
        + _table(header, rows, set(), "timeline-table")
        + "</details>"
    )


def _scenario_table(solution: HorizonSolution, cur: str) -> str:
    rows = [
        [
            r.scenario,
            percent(r.weight),
            amount(r.total_cost),
            amount(r.site_cost),
            amount(r.place_cost),
            amount(r.emergency_cost),
            str(r.openings),
            str(r.closings),
            str(r.extensions),
            places(r.emergency),
            places(r.unmet),
            str(r.nights_above_limit),
            amount(r.objective),
        ]
        for r in solution.scenarios.itertuples()
    ]
    header = [
        "Scenario",
        "Weight",
        f"Money spent {cur}",
        "sites",
        "places",
        "emergency",
        "Openings",
        "Closings",
        "Extensions",
        "Emergency place-periods",
        "Unmet place-periods",
        "Nights above the registration limit",
        f"Objective {cur}",
    ]
    return _table(header, rows, set(range(1, len(header))))


def _comparison_table(solution: HorizonSolution, cur: str) -> str:
    rows = [
        [
            r.scenario,
            r.plan,
            amount(r.total_cost),
            amount(r.objective),
            str(r.openings),
            str(r.closings),
            places(r.emergency_place_periods),
            places(r.unmet_place_periods),
        ]
        for r in solution.comparison.itertuples()
    ]
    return _table(
        [
            "Scenario",
            "Plan",
            f"Money spent {cur}",
            f"Objective {cur}",
            "Openings",
            "Closings",
            "Emergency place-periods",
            "Unmet place-periods",
        ],
        rows,
        {2, 3, 4, 5, 6, 7},
    )


def _robustness(solution: HorizonSolution, cur: str) -> str:
    info = solution.summary.get("robustness") or {}
    ref = info.get("reference", "mid")
    rows = [
        [r.scenario, percent(r.weight), amount(r.band_plan), amount(getattr(r, f"{ref}_plan")), signed(r.difference)]
        for r in solution.robustness.itertuples()
    ]
    text = (
        f"<p>Price of robustness: {e(money(info.get('price_of_robustness'), cur))} if {e(ref)} happens, "
        f"{e(money(info.get('expected_difference'), cur))} in expectation. Regret of the {e(ref)}-only plan if "
        f"{e(info.get('worst', 'high'))} happens: {e(money(info.get('regret'), cur))}.</p>"
    )
    return text + _table(
        ["Scenario", "Weight", f"Band plan {cur}", f"{ref}-only plan {cur}", "Difference"], rows, {1, 2, 3, 4}
    )


def _policy(solution: HorizonSolution) -> str:
    s = solution.summary
    rows = [[key, _plain(value)] for key, value in (s.get("policy") or {}).items()]
    rows += [[f"solver {key}", _plain(value)] for key, value in (s.get("options") or {}).items()]
    return _table(["Key", "Value"], rows, set())


def _plan_footer(inst) -> str:
    return (
        f"<footer><p>Instance {e(inst.name)} (fingerprint {e(inst.fingerprint[:12])}): its data sources "
        "and their attribution are listed in the instance's README.</p><p>Made with reception-allocator (Pyomo + HiGHS).</p></footer>"
    )
