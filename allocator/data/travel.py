"""Travel times from municipalities to sites: shortest paths over the road/ferry links, or a given matrix.

Computed when first asked for, on arrays (scipy's Dijkstra from every site's municipality at once):
either the whole matrix, or only the pairs within given limits per site, which is what a model
needs (default policy: 120 minutes to a large site, 30 to a regular one) and far less work on
large instances than every pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, dijkstra

from ..core.errors import Problem

EARTH_RADIUS_KM = 6371.0088
SOURCES_AT_ONCE = 256  # Dijkstra from this many site municipalities at a time (its output is dense)


def great_circle_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (arrays or numbers)."""
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


class TravelTimes:
    """Minutes from every municipality (rows, index order) to every site (columns); inf where unreachable.

    Network mode: path time over the links to the site's municipality, plus the access leg from that
    municipality's point to the site's point at the instance's speed and detour factor. Matrix mode:
    the given table, absent pairs unreachable.
    """

    def __init__(self, n_municipalities: int, n_sites: int):
        self.shape = (n_municipalities, n_sites)
        self._full: np.ndarray | None = None
        self._adjacency = None
        self._site_node = None
        self._access = None
        self._rows: np.ndarray | None = None  # the network node of each row (None: row k is node k)

    @classmethod
    def from_matrix(cls, municipalities: pd.DataFrame, sites: pd.DataFrame, matrix: pd.DataFrame) -> TravelTimes:
        out = cls(len(municipalities), len(sites))
        minutes = np.full(out.shape, np.inf)
        rows = municipalities.index.get_indexer(matrix["municipality"])
        cols = sites.index.get_indexer(matrix["site"])
        minutes[rows, cols] = matrix["minutes"].to_numpy(dtype=float)
        out._full = minutes
        return out

    @classmethod
    def from_network(
        cls, municipalities: pd.DataFrame, sites: pd.DataFrame, links: pd.DataFrame, speed_kmh, detour_factor
    ) -> TravelTimes:
        out = cls(len(municipalities), len(sites))
        index = municipalities.index
        a = index.get_indexer(links["from"])
        b = index.get_indexer(links["to"])
        minutes = links["minutes"].to_numpy(dtype=float)
        n = len(index)
        # Both directions (links are validated: no loops, no pair twice).
        both = (np.concatenate([a, b]), np.concatenate([b, a]))
        out._adjacency = coo_array((np.concatenate([minutes, minutes]), both), shape=(n, n)).tocsr()
        out._site_node = index.get_indexer(sites["municipality"])
        home = municipalities.loc[sites["municipality"]]
        access_km = great_circle_km(
            home["lat"].to_numpy(), home["lon"].to_numpy(), sites["lat"].to_numpy(), sites["lon"].to_numpy()
        )
        out._access = access_km * detour_factor / speed_kmh * 60.0
        return out

    def subset(self, rows: np.ndarray, columns: np.ndarray) -> TravelTimes:
        """The travel times of some municipalities (boolean ``rows``) to some sites (``columns``); paths may
        still run through the others."""
        out = TravelTimes(int(np.sum(rows)), int(np.sum(columns)))
        if self._full is not None:
            out._full = self._full[rows][:, columns]
            return out
        out._adjacency, out._site_node, out._access = self._adjacency, self._site_node[columns], self._access[columns]
        nodes = np.arange(self._adjacency.shape[0]) if self._rows is None else self._rows
        out._rows = nodes[rows]
        return out

    def full(self) -> np.ndarray:
        """The whole matrix (computed once)."""
        if self._full is None:
            targets, inverse = np.unique(self._site_node, return_inverse=True)
            path = dijkstra(self._adjacency, directed=True, indices=targets)  # (targets, municipalities)
            if self._rows is not None:
                path = path[:, self._rows]
            self._full = path[inverse].T + self._access[None, :]
        return self._full

    def within(self, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, columns, minutes) of every reachable pair with minutes <= the site's ``limit`` (inf: no
        limit), row-major; the minutes are exactly those of :meth:`full`."""
        limit = np.asarray(limit, dtype=float)
        if self._full is not None:
            rows, cols = np.nonzero(np.isfinite(self._full) & (self._full <= limit[None, :]))
            return rows, cols, self._full[rows, cols]
        parts = []
        for bound in np.unique(limit):
            sites = np.flatnonzero(limit == bound)
            nodes, inverse = np.unique(self._site_node[sites], return_inverse=True)
            order = np.argsort(inverse, kind="stable")
            counts = np.bincount(inverse, minlength=len(nodes))
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            # In slices of sources: Dijkstra's output is dense, one row per source.
            for first in range(0, len(nodes), SOURCES_AT_ONCE):
                chunk = np.arange(first, min(first + SOURCES_AT_ONCE, len(nodes)))
                path = dijkstra(self._adjacency, directed=True, indices=nodes[chunk], limit=bound)
                if self._rows is not None:
                    path = path[:, self._rows]
                node_rows, munis = np.nonzero(np.isfinite(path))
                minutes = path[node_rows, munis]
                node_rows = chunk[node_rows]
                # one pair (municipality, site) for every site at each node reached
                repeat = counts[node_rows]
                pair_node = np.repeat(np.arange(len(node_rows)), repeat)
                offset = np.arange(len(pair_node)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
                site = sites[order[starts[node_rows[pair_node]] + offset]]
                total = minutes[pair_node] + self._access[site]
                keep = total <= bound
                parts.append((munis[pair_node][keep], site[keep], total[keep]))
        rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=int)
        cols = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=int)
        minutes = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
        order = np.lexsort((cols, rows))
        return rows[order], cols[order], minutes[order]


def network_problems(municipalities: pd.DataFrame, links: pd.DataFrame, problems: list[Problem]) -> None:
    """A disconnected network is reported as a problem naming the municipalities cut off from the rest."""
    index = municipalities.index
    n = len(index)
    a = index.get_indexer(links["from"])
    b = index.get_indexer(links["to"])
    graph = coo_array((np.ones(len(a)), (a, b)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    if count <= 1:
        return
    parts = [np.flatnonzero(labels == k) for k in range(count)]
    parts.sort(key=lambda part: (-len(part), min(index[part])))
    for part in parts[1:]:
        names = ", ".join(f"{i} ({municipalities.at[i, 'name']})" for i in sorted(index[part]))
        problems.append(
            Problem("links.csv", f"the travel network is not connected: cannot reach {names} from the rest")
        )
