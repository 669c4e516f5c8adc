"""What differs between two versions of an instance, in words: tables with rows added, removed or changed."""

from __future__ import annotations

import pandas as pd

from .instance import Instance

SHOWN = 3  # ids named per kind of change; the rest are counted


def instance_differences(a: Instance, b: Instance) -> list[str]:
    """How ``b`` differs from ``a``, one phrase per table or setting that differs (empty when they are the same data)."""
    out = []
    for label, attribute in (
        ("instance.toml", "settings"),
        ("provinces.csv", "provinces"),
        ("municipalities.csv", "municipalities"),
        ("sites.csv", "sites"),
    ):
        if attribute == "settings":
            changed = [
                k
                for k in (
                    "name",
                    "description",
                    "units",
                    "currency",
                    "planning_period",
                    "budget",
                    "travel_mode",
                    "speed_kmh",
                    "detour_factor",
                )
                if getattr(a, k) != getattr(b, k)
            ]
            if changed:
                out.append(f"{label} differs: {', '.join(changed)}")
            continue
        phrase = _table_difference(
            getattr(a, attribute),
            getattr(b, attribute),
            attribute[:-1] if attribute != "municipalities" else "municipality",
        )
        if phrase:
            out.append(f"{label} differs: {phrase}")
    travel = _travel_difference(a, b)
    if travel:
        out.append(travel)
    return out


def _table_difference(old: pd.DataFrame, new: pd.DataFrame, noun: str) -> str:
    added = [i for i in new.index if i not in old.index]
    removed = [i for i in old.index if i not in new.index]
    common = [i for i in old.index if i in new.index]
    columns = [c for c in old.columns if c in new.columns]
    changed = [i for i in common if not _same(old.loc[i, columns], new.loc[i, columns])]
    parts = []
    for ids, verb in ((added, "added"), (removed, "removed"), (changed, "changed")):
        if ids:
            plural = noun if len(ids) == 1 else ("municipalities" if noun == "municipality" else noun + "s")
            named = ", ".join(map(str, ids[:SHOWN])) + (f", +{len(ids) - SHOWN} more" if len(ids) > SHOWN else "")
            parts.append(f"{len(ids)} {plural} {verb} ({named})")
    return "; ".join(parts)


def _same(x: pd.Series, y: pd.Series) -> bool:
    return all((pd.isna(p) and pd.isna(q)) or p == q for p, q in zip(x.tolist(), y.tolist()))


def _travel_difference(a: Instance, b: Instance) -> str:
    if a.travel_mode != b.travel_mode:
        return ""
    frame_a, frame_b = (a.links, b.links) if a.travel_mode == "network" else (a.matrix, b.matrix)
    if (
        frame_a is None
        or frame_b is None
        or frame_a.shape == frame_b.shape
        and frame_a.reset_index(drop=True).equals(frame_b.reset_index(drop=True))
    ):
        return ""
    label = "links.csv" if a.travel_mode == "network" else "travel_times.csv"
    return f"{label} differs ({len(frame_a):,} rows before, {len(frame_b):,} now)"
