"""Travel times recomputed from the instance's own files: a plain Dijkstra over the links, or the matrix."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict

import pandas as pd


def placement_minutes(instance, placements: pd.DataFrame) -> list[float]:
    """Minutes for each placement row; inf where the site cannot be reached."""
    sites = instance.sites
    if instance.travel_mode == "matrix":
        table = {
            (a, b): t
            for a, b, t in zip(instance.matrix["municipality"], instance.matrix["site"], instance.matrix["minutes"])
        }
        return [table.get((i, s), math.inf) for i, s in zip(placements["municipality"], placements["site"])]
    adjacency = network(instance)
    wanted: dict[str, set] = defaultdict(set)
    for i, s in zip(placements["municipality"], placements["site"]):
        wanted[sites.at[s, "municipality"]].add(i)
    distance = {node: dijkstra(adjacency, node, targets) for node, targets in wanted.items()}
    out = []
    for i, s in zip(placements["municipality"], placements["site"]):
        node = sites.at[s, "municipality"]
        out.append(
            distance[node].get(i, math.inf) + access_minutes(instance, node, sites.at[s, "lat"], sites.at[s, "lon"])
        )
    return out


def access_minutes(instance, node: str, lat: float, lon: float) -> float:
    """From a municipality's point to a site's point, at the instance's speed and detour factor (network mode)."""
    if instance.travel_mode != "network":
        return 0.0
    muni = instance.municipalities
    return (
        haversine_km(muni.at[node, "lat"], muni.at[node, "lon"], lat, lon)
        * instance.detour_factor
        / instance.speed_kmh
        * 60.0
    )


def network(instance) -> dict[str, list[tuple[str, float]]]:
    """The links as an adjacency list (both directions)."""
    adjacency: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a, b, t in zip(instance.links["from"], instance.links["to"], instance.links["minutes"]):
        adjacency[a].append((b, t))
        adjacency[b].append((a, t))
    return adjacency


def dijkstra(adjacency, source: str, targets: set, radius: float | None = None) -> dict[str, float]:
    """Shortest times from ``source``; stops once every target is settled, or (with ``radius``) beyond it."""
    settled: dict[str, float] = {}
    heap = [(0.0, source)]
    left = set(targets)
    while heap and (left or radius is not None):
        d, node = heapq.heappop(heap)
        if radius is not None and d > radius:
            break
        if node in settled:
            continue
        settled[node] = d
        left.discard(node)
        for nxt, t in adjacency[node]:
            if nxt not in settled:
                heapq.heappush(heap, (d + t, nxt))
    return settled


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def regular_access(instance) -> dict[str, list[tuple[str, str, float]]]:
    """Per province, every regular site as (site, municipality node, access minutes from that node)."""
    out: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for s, row in instance.sites[instance.sites["kind"] == "regular"].iterrows():
        out[row["province"]].append(
            (s, row["municipality"], access_minutes(instance, row["municipality"], row["lat"], row["lon"]))
        )
    return out


def nearer_regular_sites(instance, policy, adjacency, access, municipality: str, minutes: float) -> int:
    """How many eligible regular sites are strictly nearer to ``municipality`` than ``minutes``."""
    if policy.allow_cross_province:
        candidates = [entry for entries in access.values() for entry in entries]
    else:
        candidates = access.get(instance.municipalities.at[municipality, "province"], [])
    limit = (
        min(x for x in (minutes, policy.max_travel_minutes, policy.max_travel_minutes_regular) if x is not None) - 1e-6
    )
    if instance.travel_mode == "matrix":
        matrix = instance.matrix
        own = matrix[matrix["municipality"] == municipality].set_index("site")["minutes"]
        return sum(1 for s, _, _ in candidates if s in own.index and own[s] < limit)
    distance = dijkstra(adjacency, municipality, set(), radius=minutes)
    return sum(1 for _, node, extra in candidates if node in distance and distance[node] + extra < limit)
