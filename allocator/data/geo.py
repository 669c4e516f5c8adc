"""Municipality and province boundaries of the Netherlands (2024) for report maps.

An instance gets polygons when every one of its municipality ids is a code in the bundled
GeoJSON (allocator/data/geo); otherwise its map is drawn from its own lat/lon points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

ATTRIBUTION = "Kadaster / Centraal Bureau voor de Statistiek, 2024"
MUNICIPALITIES_FILE = "nl_municipalities_2024.geojson"
PROVINCES_FILE = "nl_provinces_2024.geojson"

Rings = tuple[np.ndarray, ...]  # lon/lat arrays of shape (n, 2): exterior rings counter-clockwise, holes clockwise


@dataclass(frozen=True)
class Boundaries:
    """Polygons of the instance's municipalities and of its provinces, by id."""

    municipalities: dict[str, Rings]
    provinces: dict[str, Rings]
    attribution: str = ATTRIBUTION


def boundaries_for(municipality_ids, province_ids) -> Boundaries | None:
    """Polygons for these ids, or None when some municipality id has no polygon."""
    municipalities = _load(MUNICIPALITIES_FILE, "municipality_code")
    ids = list(municipality_ids)
    if not ids or any(i not in municipalities for i in ids):
        return None
    provinces = _load(PROVINCES_FILE, "province_code")
    return Boundaries({i: municipalities[i] for i in ids}, {p: provinces[p] for p in province_ids if p in provinces})


@cache
def _load(name: str, key: str) -> dict[str, Rings]:
    text = resources.files("allocator").joinpath("data", "geo", name).read_text(encoding="utf-8")
    out = {}
    for feature in json.loads(text)["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings = []
        for polygon in polygons:
            for k, ring in enumerate(polygon):
                xy = np.asarray(ring, dtype=float)
                # Orientation decides filling under the non-zero rule: exteriors one way, holes the other.
                if (_signed_area(xy) > 0) != (k == 0):
                    xy = xy[::-1]
                rings.append(xy)
        out[feature["properties"][key]] = tuple(rings)
    return out


def _signed_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
