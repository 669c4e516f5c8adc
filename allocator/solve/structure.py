"""A block of the allocation model seen as capacitated facility location.

The compiled arrays carry the family of every row and column (the model's component names:
open_site, placed, unmet; demand_balance, site_capacity, ...). From them this module recovers,
for one block, its sites, demand units and arcs, which the solve strategies use: valid
inequalities added to the rows HiGHS sees, Benders decomposition with the sites in the master,
a Lagrangian bound. A block with anything else in it (an elastic model's slacks) has no such view
and is solved as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_array, csc_array
from scipy.sparse.csgraph import connected_components

COLUMN_FAMILIES = ("open_site", "placed", "unmet")
ROW_FAMILIES = (
    "demand_balance",
    "site_capacity",
    "site_min_size",
    "open_site_link",
    "large_site_per_province",
    "budget_limit",
    "mean_travel_limit",
)
COUPLING = ("budget_limit", "mean_travel_limit")  # rows over every arc: they join provinces into one block


@dataclass
class Facility:
    """Positions are the block's own column and row positions."""

    site_column: np.ndarray  # open_site of each site
    capacity: np.ndarray  # C_s
    min_size: np.ndarray  # m_s (0 without a site_min_size row)
    unit_row: np.ndarray  # demand_balance of each unit
    demand: np.ndarray  # d_i
    unmet_column: np.ndarray  # unmet of each unit (-1: none)
    arc_column: np.ndarray  # placed of each arc
    arc_unit: np.ndarray  # unit of each arc
    arc_site: np.ndarray  # site of each arc
    link_rows: np.ndarray  # open_site_link rows
    coupling_rows: np.ndarray  # budget_limit and mean_travel_limit rows

    @property
    def arcs_per_site(self) -> float:
        return len(self.arc_column) / max(len(self.site_column), 1)

    def groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(units, sites) of each part the arcs join; without the coupling rows these are independent."""
        n_units, n_sites = len(self.unit_row), len(self.site_column)
        graph = coo_array(
            (np.ones(len(self.arc_unit)), (self.arc_unit, n_units + self.arc_site)), shape=(n_units + n_sites,) * 2
        )
        _, labels = connected_components(graph, directed=False)
        out = []
        for label in np.unique(labels[:n_units]):
            units = np.flatnonzero(labels[:n_units] == label)
            sites = np.flatnonzero(labels[n_units:] == label)
            if len(sites):
                out.append((units, sites))
        return out


def facility(matrix: csc_array, row_family: np.ndarray, column_family: np.ndarray, row_lower) -> Facility | None:
    """The block's facility view, or None when the block holds other rows or columns."""
    if not np.isin(column_family, COLUMN_FAMILIES).all() or not np.isin(row_family, ROW_FAMILIES).all():
        return None
    coo = matrix.tocoo()
    rows, cols, vals = coo.row, coo.col, coo.data
    site_column = np.flatnonzero(column_family == "open_site")
    arc_column = np.flatnonzero(column_family == "placed")
    unit_row = np.flatnonzero(row_family == "demand_balance")
    if not len(site_column) or not len(arc_column) or not len(unit_row):
        return None
    site_of_column = np.full(len(column_family), -1)
    site_of_column[site_column] = np.arange(len(site_column))
    unit_of_row = np.full(len(row_family), -1)
    unit_of_row[unit_row] = np.arange(len(unit_row))
    arc_of_column = np.full(len(column_family), -1)
    arc_of_column[arc_column] = np.arange(len(arc_column))

    # Each site_capacity row joins one open_site (coefficient -C_s) and the site's placements.
    in_capacity = row_family[rows] == "site_capacity"
    on_site = in_capacity & (column_family[cols] == "open_site")
    capacity = np.zeros(len(site_column))
    capacity[site_of_column[cols[on_site]]] = -vals[on_site]
    site_of_row = np.full(len(row_family), -1)
    site_of_row[rows[on_site]] = site_of_column[cols[on_site]]
    arc_site = np.full(len(arc_column), -1)
    on_arc = in_capacity & (column_family[cols] == "placed")
    arc_site[arc_of_column[cols[on_arc]]] = site_of_row[rows[on_arc]]

    in_demand = row_family[rows] == "demand_balance"
    arc_unit = np.full(len(arc_column), -1)
    placed_in_demand = in_demand & (column_family[cols] == "placed")
    arc_unit[arc_of_column[cols[placed_in_demand]]] = unit_of_row[rows[placed_in_demand]]
    unmet_column = np.full(len(unit_row), -1)
    unmet_in_demand = in_demand & (column_family[cols] == "unmet")
    unmet_column[unit_of_row[rows[unmet_in_demand]]] = cols[unmet_in_demand]
    if (arc_site < 0).any() or (arc_unit < 0).any():
        return None

    min_size = np.zeros(len(site_column))
    in_min = (row_family[rows] == "site_min_size") & (column_family[cols] == "open_site")
    min_size[site_of_column[cols[in_min]]] = -vals[in_min]
    return Facility(
        site_column=site_column,
        capacity=capacity,
        min_size=min_size,
        unit_row=unit_row,
        demand=np.asarray(row_lower, dtype=float)[unit_row],
        unmet_column=unmet_column,
        arc_column=arc_column,
        arc_unit=arc_unit,
        arc_site=arc_site,
        link_rows=np.flatnonzero(row_family == "open_site_link"),
        coupling_rows=np.flatnonzero(np.isin(row_family, COUPLING)),
    )


def cover_rows(view: Facility, n_columns: int) -> tuple[csc_array, np.ndarray, np.ndarray]:
    """Valid rows for branch and bound, per independent part of the block (matrix, lower, upper):

    capacity cover   sum_s C_s open_site[s] + sum_i unmet[i] >= sum_i d_i
    size cover       sum_s m_s open_site[s] + sum_i unmet[i] <= sum_i d_i   (when some m_s > 0)

    Each is a sum of the part's demand_balance rows with its site_capacity (site_min_size) rows,
    so it holds for every plan; as a row of its own it lets HiGHS derive knapsack cover and MIR
    cuts on the site decisions, which the rows apart do not show it.
    """
    rows, cols, vals, lower, upper = [], [], [], [], []
    for units, sites in view.groups():
        unmet = view.unmet_column[units]
        unmet = unmet[unmet >= 0]
        demand = view.demand[units].sum()
        for coefficient, low, high in ((view.capacity[sites], demand, np.inf), (view.min_size[sites], -np.inf, demand)):
            if not coefficient.any():
                continue
            rows.append(np.full(len(sites) + len(unmet), len(lower)))
            cols.append(np.concatenate([view.site_column[sites], unmet]))
            vals.append(np.concatenate([coefficient, np.ones(len(unmet))]))
            lower.append(low)
            upper.append(high)
    if not rows:
        return csc_array((0, n_columns)), np.zeros(0), np.zeros(0)
    matrix = coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(lower), n_columns)
    )
    return csc_array(matrix), np.array(lower, dtype=float), np.array(upper, dtype=float)
