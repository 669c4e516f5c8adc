"""The rules of nl-2024's status holders and Ukraine groups (README.md, G3, G5, G6), shared with nl-2024-horizon.

nl-2024 applies them to one half-year and one date; nl-2024-horizon's build.py applies them to every
half-year of its horizon. Both read the same source files, each from its own sources/ folder.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from allocator.data.demand import split_task


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def housing_tasks(sources: Path) -> dict[str, int]:
    """National housing task for status holders per half-year (statushouders_taakstelling_totals.csv)."""
    return {
        r["half_year"]: int(r["national_total"]) for r in read_csv(sources / "statushouders_taakstelling_totals.csv")
    }


def ukraine_places(sources: Path) -> dict[str, int]:
    """Places in municipal reception for Ukraine per dated figure (ukraine_reception.csv, `beds_available`)."""
    return {
        r["date"]: int(r["beds_available"]) for r in read_csv(sources / "ukraine_reception.csv") if r["beds_available"]
    }


def by_population(total: int, population: Mapping[str, int]) -> dict[str, int]:
    """A national figure over all municipalities by population, largest remainder: the legal key of the housing
    task ("naar rato van het aantal inwoners", G3) and the key taken for Ukraine (G5, G6)."""
    return split_task(total, population)
