"""Plan checks in planners' words: per province, what was asked, what the plan commits, what is short and which rules it breaks."""

from __future__ import annotations

from ..core.fmt import places, table


def format_verdict(verdict) -> str:
    """One province's verdict: a table by group, the shortfalls as sentences, the rules broken."""
    state = "complete" if verdict.complete else "incomplete"
    source = f" ({verdict.file})" if verdict.file else " (no plan submitted)"
    lines = [f"Plan for {verdict.name} ({verdict.province}){source}: {state}", ""]
    g = verdict.groups
    rows = [[r.name, places(r.task), places(r.committed), places(r.covered), places(r.short)] for r in g.itertuples()]
    if len(g) > 1:
        rows.append(["Total", *(places(g[c].sum()) for c in ("task", "committed", "covered", "short"))])
    lines.append(table(["Group", "Task", "Committed", "Within reach", "Short"], rows, "lrrrr", total=len(g) > 1))
    lines += ["", *shortfall_sentences(verdict)]
    sites = verdict.sites
    count = sites["site"].nunique()
    lines.append(f"Sites committed ({count}):" if count else "Sites committed: none.")
    for site, part in sites.groupby("site", sort=False):
        what = ", ".join(f"{places(q)} {name}" for q, name in zip(part["places"], _names(verdict, part["group"])))
        lines.append(f"  {part['name'].iloc[0]} [{site}], {part['kind'].iloc[0]}: {what}")
    if verdict.findings:
        lines.append("Rules:")
        lines += [f"  - {f.sentence} ({f.rule})" for f in verdict.findings]
    else:
        lines.append("Rules: every hard rule holds.")
    return "\n".join(lines)


def _names(verdict, groups) -> list[str]:
    names = dict(zip(verdict.groups["group"], verdict.groups["name"]))
    return [names.get(g, g) for g in groups]


def shortfall_sentences(verdict) -> list[str]:
    """'North is 40 places short for asylum seekers: ...', one per group with a shortfall."""
    out = []
    for r in verdict.groups.itertuples():
        if r.short <= 0:
            continue
        who = "" if r.name == "places" else f" for {r.name}"
        text = f"{verdict.name} is {places(r.short)} places short{who}: "
        if r.too_few:
            text += (
                f"the plan commits {places(r.committed)} of the {places(r.task)} asked"
                if r.committed
                else f"the plan commits none of the {places(r.task)} asked"
            )
        if r.out_of_reach:
            text += "; " if r.too_few else ""
            text += f"{places(r.out_of_reach)} committed places cannot serve the municipalities that need them within the travel limits"
        out.append(text + ".")
    return out or [f"{verdict.name} has no shortfall."]
