"""Travel times from municipalities to sites: over a networkx road/ferry graph, or from a given matrix."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from ..core.errors import Problem

EARTH_RADIUS_KM = 6371.0088


def road_graph(municipalities: pd.DataFrame, links: pd.DataFrame) -> nx.Graph:
    """Undirected graph: a node per municipality, an edge per link weighted by its minutes."""
    graph = nx.Graph()
    graph.add_nodes_from(municipalities.index)
    graph.add_weighted_edges_from(zip(links["from"], links["to"], links["minutes"]), weight="minutes")
    return graph


def great_circle_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (arrays or numbers)."""
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


def network_travel_times(municipalities, sites, links, speed_kmh, detour_factor, problems: list[Problem]) -> np.ndarray:
    """Minutes from every municipality (rows) to every site (columns); inf where unreachable.

    Path time over the graph to the site's municipality, plus the access leg from that
    municipality's point to the site's point at ``speed_kmh`` with ``detour_factor``.
    A disconnected graph is reported as a problem naming the municipalities cut off.
    """
    graph = road_graph(municipalities, links)
    components = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
    for part in components[1:]:
        names = ", ".join(f"{i} ({municipalities.at[i, 'name']})" for i in sorted(part))
        problems.append(
            Problem("links.csv", f"the travel network is not connected: cannot reach {names} from the rest")
        )
    if len(components) > 1:
        return np.empty((0, 0))
    order = list(municipalities.index)
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=order, weight="minutes", format="csr")
    position = {i: k for k, i in enumerate(order)}
    site_nodes = np.array([position[i] for i in sites["municipality"]], dtype=np.int64)
    targets, inverse = np.unique(site_nodes, return_inverse=True)
    path = dijkstra(adjacency, directed=False, indices=targets)  # (targets, municipalities)
    home = municipalities.loc[sites["municipality"]]
    access_km = great_circle_km(
        home["lat"].to_numpy(), home["lon"].to_numpy(), sites["lat"].to_numpy(), sites["lon"].to_numpy()
    )
    access = access_km * detour_factor / speed_kmh * 60.0
    return path[inverse].T + access[None, :]


def matrix_travel_times(municipalities, sites, matrix: pd.DataFrame) -> np.ndarray:
    """Minutes from the given table; pairs that are absent are unreachable (inf)."""
    minutes = np.full((len(municipalities), len(sites)), np.inf)
    rows = municipalities.index.get_indexer(matrix["municipality"])
    cols = sites.index.get_indexer(matrix["site"])
    minutes[rows, cols] = matrix["minutes"].to_numpy(dtype=float)
    return minutes
