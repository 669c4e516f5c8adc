"""How numbers are written for people: money, places, shares and minutes, the same everywhere."""

from __future__ import annotations

import math

MISSING = "-"

# How a solve ended, in every command's words (keys: the status values of summary.json and sweep.csv).
STATUS_TEXT = {
    "optimal": "optimal",
    "time_limit": "time limit reached: best plan found, not proven optimal",
    "time_limit_no_plan": "time limit reached before any plan was found",
    "infeasible": "infeasible: no plan satisfies every hard rule",
    "unbounded": "unbounded",
    "interrupted": "interrupted",
    "error": "error",
    "merged": "assembled from provincial plans",
}
# The same in a word or two, for table cells and report cards.
STATUS_WORD = {
    "optimal": "optimal",
    "time_limit": "not proven",
    "time_limit_no_plan": "no plan",
    "infeasible": "infeasible",
    "unbounded": "unbounded",
    "interrupted": "interrupted",
    "error": "error",
    "merged": "merged",
}


def status_text(status) -> str:
    """A status as a sentence (the console's Status line, the report's badge)."""
    return STATUS_TEXT.get(str(status), str(status))


def status_word(status) -> str:
    """A status in a word or two (table cells): optimal, not proven, no plan, infeasible, ..."""
    return STATUS_WORD.get(str(status), str(status))


def missing(value) -> bool:
    """None or NaN: a figure that does not exist (no plan, no bound, nothing placed)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value, currency: str = "EUR") -> str:
    """Short money: EUR 2.707 bn, EUR 114.0 M, EUR 79,139."""
    if missing(value):
        return MISSING
    if abs(value) >= 1e9:
        return f"{currency} {value / 1e9:,.3f} bn"
    if abs(value) >= 1e6:
        return f"{currency} {value / 1e6:,.1f} M"
    return f"{currency} {value:,.0f}"


def amount(value) -> str:
    """A whole amount with thousands separators (money in table cells): 2,706,821,569."""
    return MISSING if missing(value) else f"{value:,.0f}"


def number(value, digits: int = 1) -> str:
    """A plain figure with thousands separators and ``digits`` decimals: 10.8."""
    return MISSING if missing(value) else f"{value:,.{digits}f}"


def signed(value, digits: int = 0) -> str:
    """A difference with its sign: +45,343."""
    return MISSING if missing(value) else f"{value:+,.{digits}f}"


def signed_places(value) -> str:
    """A difference in places: whole without decimals, split with two."""
    if missing(value):
        return MISSING
    return signed(value) if float(value).is_integer() else signed(value, 2)


def places(value) -> str:
    """Places: whole numbers without decimals, split places with two."""
    if missing(value):
        return MISSING
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def percent(share) -> str:
    """A share as a percentage with two decimals; exactly 1 is 100%."""
    if missing(share):
        return MISSING
    return "100%" if share == 1 else f"{100 * share:.2f}%"


def signed_percent(share) -> str:
    """A relative difference with its sign; tiny ones keep four decimals so that they stay visible."""
    if missing(share):
        return MISSING
    return f"{100 * share:+.2f}%" if share == 0 or abs(share) >= 1e-4 else f"{100 * share:+.4f}%"


def minutes(value) -> str:
    """Travel time: 10.8 min."""
    return MISSING if missing(value) else f"{value:.1f} min"


def table(headers: list[str], rows: list[list[str]], align: str, total: bool = True) -> str:
    """A plain-text table; ``align`` has one 'l' or 'r' per column; ``total``: the last row is a total, ruled off."""
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(r) for r in rows]
    if total and len(rows) > 1:
        return "\n".join([line(headers), rule, *body[:-1], rule, body[-1]])
    return "\n".join([line(headers), rule, *body])
