"""The data of a back-test: the half-years replayed, the need that arrived, the forecast known at each date, and the history.

Read from the instance's ``backtest/`` folder (instances/nl-2024-horizon/README.md, "Back-test
data"); every problem is reported with its file, row, column and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.errors import InstanceError, Problem
from .horizon import PERIOD_COLUMNS, _check_periods
from .tables import Column, read_table, typed

ARRIVED_COLUMNS = (Column("period", "id"), Column("residents", "int", min=0, max=1e9))
FORECAST_COLUMNS = (
    Column("made", "id"),
    Column("period", "id"),
    Column("scenario", "id"),
    Column("need", "int", min=0, max=1e9),
    Column("kind", "choice", required=False, choices=("forecast", "persistence")),
    Column("stock_forecasts", "text", required=False),
    Column("band", "text", required=False),
)
HISTORY_COLUMNS = (
    Column("date", "id"),
    Column("residents", "int", required=False, min=0, max=1e9),
    Column("locations", "int", required=False, min=0, max=1e6),
    Column("capacity", "int", required=False, min=0, max=1e9),
    Column("locations_regular", "int", required=False, min=0, max=1e6),
    Column("locations_temporary_or_nood", "int", required=False, min=0, max=1e6),
    Column("source_url", "text", required=False),
)


@dataclass(frozen=True, eq=False)
class Backtest:
    """Periods (the replayed ones first), the need that arrived in each replayed period, the forecasts and the history."""

    periods: pd.DataFrame  # index period: start, years, offset, budget
    arrived: dict[str, int]  # replayed period -> need that arrived
    forecasts: dict[tuple[str, str, str], int]  # (made, period, scenario) -> need forecast at the start of `made`
    scenarios: tuple[str, ...]
    history: pd.DataFrame  # date, residents, locations, capacity (as observed)

    @property
    def replayed(self) -> list[str]:
        """The periods replayed, in order."""
        return list(self.arrived)


def load_backtest(instance) -> Backtest:
    """The back-test data beside ``instance`` (its ``backtest/`` folder); InstanceError lists every problem."""
    root = Path(instance.source) / "backtest"
    problems: list[Problem] = []
    if not root.is_dir():
        raise InstanceError([Problem(str(root), "no back-test data: the instance has no backtest folder")])

    def table(name, columns):
        raw = read_table(root / name, columns, problems, label=f"backtest/{name}")
        return None if raw is None else raw

    periods = _check_periods(table("periods.csv", PERIOD_COLUMNS), problems)
    arrived = table("arrived.csv", ARRIVED_COLUMNS)
    forecasts = table("forecasts.csv", FORECAST_COLUMNS)
    history = table("history.csv", HISTORY_COLUMNS)
    if problems or periods is None:
        raise InstanceError(problems)
    known = set(periods.index)
    for name, raw, columns in (("arrived.csv", arrived, ("period",)), ("forecasts.csv", forecasts, ("made", "period"))):
        for column in columns:
            for row, value in zip(raw["row"], raw[column]):
                if value not in known:
                    problems.append(
                        Problem(f"backtest/{name}", "unknown period (not in backtest/periods.csv)", row, column, value)
                    )
    if problems:
        raise InstanceError(problems)
    arrived = typed(arrived, ARRIVED_COLUMNS)
    forecasts = typed(forecasts, FORECAST_COLUMNS)
    scenarios = tuple(dict.fromkeys(forecasts["scenario"]))
    by_key = {(r.made, r.period, r.scenario): int(r.need) for r in forecasts.itertuples()}
    replayed = list(arrived["period"])
    order = list(periods.index)
    missing = [
        (m, t, s) for m in replayed for t in order[order.index(m) :] for s in scenarios if (m, t, s) not in by_key
    ]
    if missing:
        raise InstanceError(
            [Problem("backtest/forecasts.csv", f"{len(missing)} forecasts missing, e.g. {missing[:3]}")]
        )
    return Backtest(
        periods,
        dict(zip(arrived["period"], arrived["residents"].astype(int))),
        by_key,
        scenarios,
        typed(history, HISTORY_COLUMNS).drop(columns="row"),
    )
