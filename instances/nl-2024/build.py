"""Build the nl-2024 instance from the unchanged source files in sources/.

Rebuilding needs `pip install shapely pyproj` (only this script uses them).
Run from anywhere: python instances/nl-2024/build.py
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
sys.path.insert(0, str(HERE.parents[1]))  # repo root, so the loader's own demand rule is used
from allocator.data.demand import split_task  # noqa: E402

# Distances are taken in RD New (metres), the Dutch national grid.
TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)

SPEED_KMH = 70
DETOUR_FACTOR = 1.3
ADJACENT_M = 250  # bridges simplification gaps along shared borders and narrow crossings such as the Afsluitdijk

# Assumptions, explained in README.md.
COST_PER_PLACE = 26_900
REGULAR_FIXED_COST = 1_500_000
LARGE_FIXED_COST = 4_000_000
REGULAR_MIN_SIZE = 50
REGULAR_MIN_CAPACITY = 300
LARGE_MIN_SIZE = 1_000
LARGE_CAPACITY = 2_000
LARGE_CANDIDATES_PER_PROVINCE = 3

# site id -> start of the site_name in reception_sites.csv
EXISTING_SITES = {
    "L-TERAPEL": "Ter Apel asielcomplex",
    "L-BUDEL": "azc Budel-Cranendonck",
}

# The island polygons reach into the Wadden Sea and touch each other and the mainland.
ISLANDS = {
    "GM0448": "Texel",
    "GM0096": "Vlieland",
    "GM0093": "Terschelling",
    "GM0060": "Ameland",
    "GM0088": "Schiermonnikoog",
}
FERRY_ASSUMPTION = (
    "assumption: approximate crossing time of the passenger service; foot passengers; "
    "island and mainland points treated as the ports"
)
FERRIES = [
    (
        "GM0400",
        "GM0448",
        20.0,
        "ferry Den Helder-Texel; 'Twintig minuten duurt de overtocht' "
        "(NRC 2010, https://www.nrc.nl/nieuws/2010/08/05/de-texelaars-houden-van-hun-eigen-boot-11927843-a1177062)",
    ),
    ("GM0072", "GM0096", 45.0, f"ferry Harlingen-Vlieland; {FERRY_ASSUMPTION}"),
    ("GM0072", "GM0093", 45.0, f"ferry Harlingen-Terschelling; {FERRY_ASSUMPTION}"),
    ("GM0060", "GM1970", 45.0, f"ferry Holwerd (Noardeast-Fryslân)-Ameland; {FERRY_ASSUMPTION}"),
    ("GM0088", "GM1966", 45.0, f"ferry Lauwersoog (Het Hogeland)-Schiermonnikoog; {FERRY_ASSUMPTION}"),
]

# Polygons that come within ADJACENT_M only across open water, with no road between the two.
NO_ROAD = {
    ("GM0718", "GM1714"): "Vlissingen-Sluis: Westerschelde; only a foot and bicycle ferry",
    ("GM0243", "GM0303"): "Harderwijk-Dronten: Veluwemeer; the N302 crossing lands in Zeewolde",
    ("GM0302", "GM0303"): "Nunspeet-Dronten: Veluwemeer; only a bicycle ferry",
    ("GM0269", "GM0303"): "Oldebroek-Dronten: Drontermeer; the crossings are at Elburg and Roggebot (Kampen)",
}


def require(ok: bool, message: str) -> None:
    if not ok:
        raise SystemExit(f"build failed: {message}")


def read_csv(name: str) -> list[dict[str, str]]:
    with open(SOURCES / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(name: str, header: list[str], rows: list[list[object]]) -> None:
    with open(HERE / name, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def to_rd(lat: str, lon: str) -> tuple[float, float]:
    return TO_RD.transform(float(lon), float(lat))


def road_minutes(metres: float) -> float:
    return round(metres / 1000 * DETOUR_FACTOR / SPEED_KMH * 60, 1)


def check_cost_rationale() -> None:
    """The regular cost parameters must reproduce COA's average cost at its smallest efficient size."""
    facts = {row["fact"]: row for row in read_csv("cost_facts.csv")}
    average = int(facts["cost per place per year in a regular azc"]["value"])
    size = int(facts["smallest azc size that COA considers viable to run"]["value"])
    require(
        REGULAR_FIXED_COST + COST_PER_PLACE * size == average * size,
        "regular fixed cost and cost per place no longer match cost_facts.csv",
    )


def main() -> None:
    check_cost_rationale()

    municipalities = sorted(read_csv("municipalities.csv"), key=lambda m: m["municipality_code"])
    by_code = {m["municipality_code"]: m for m in municipalities}
    require(len(by_code) == 342, f"expected 342 municipalities, got {len(by_code)}")

    provinces = sorted(read_csv("spreidingswet_2024.csv"), key=lambda p: p["province_code"])
    tasks = {p["province_code"]: int(p["places"]) for p in provinces}
    require(
        set(tasks) == {m["province_code"] for m in municipalities},
        "provinces in spreidingswet_2024.csv and municipalities.csv differ",
    )
    require(sum(tasks.values()) == 96_002, f"task sum is {sum(tasks.values())}, expected 96002")

    demand: dict[str, int] = {}
    for code, task in tasks.items():
        population = {
            m["municipality_code"]: int(m["population_2024_01_01"])
            for m in municipalities
            if m["province_code"] == code
        }
        demand.update(split_task(task, population))

    with open(SOURCES / "nl_municipalities_2024.geojson", encoding="utf-8") as f:
        features = json.load(f)["features"]
    polygons = {
        feat["properties"]["municipality_code"]: shapely.transform(
            shape(feat["geometry"]), lambda xy: np.column_stack(TO_RD.transform(xy[:, 0], xy[:, 1]))
        )
        for feat in features
    }
    require(set(polygons) == set(by_code), "polygons and municipalities.csv have different codes")
    points = {c: to_rd(m["interior_lat"], m["interior_lon"]) for c, m in by_code.items()}
    for code, name in ISLANDS.items():
        require(by_code[code]["municipality_name"] == name, f"{code} is not {name}")

    write_csv(
        "provinces.csv",
        ["province", "name", "task"],
        [[p["province_code"], p["province_name"], p["places"]] for p in provinces],
    )

    write_csv(
        "municipalities.csv",
        ["municipality", "name", "province", "population", "lat", "lon"],
        [
            [
                m["municipality_code"],
                m["municipality_name"],
                m["province_code"],
                m["population_2024_01_01"],
                m["interior_lat"],
                m["interior_lon"],
            ]
            for m in municipalities
        ],
    )

    def site_row(site, name, m, kind, status, min_size, capacity, fixed_cost, lat, lon):
        return [
            site,
            name,
            m["municipality_code"],
            m["province_code"],
            kind,
            status,
            min_size,
            capacity,
            fixed_cost,
            COST_PER_PLACE,
            lat,
            lon,
        ]

    sites = [
        site_row(
            f"R-{c}",
            f"{m['municipality_name']} (regular)",
            m,
            "regular",
            "candidate",
            REGULAR_MIN_SIZE,
            max(REGULAR_MIN_CAPACITY, 2 * demand[c]),
            REGULAR_FIXED_COST,
            m["interior_lat"],
            m["interior_lon"],
        )
        for c, m in by_code.items()
    ]
    for code in tasks:
        in_province = [m for m in municipalities if m["province_code"] == code]
        in_province.sort(key=lambda m: (-int(m["population_2024_01_01"]), m["municipality_code"]))
        sites += [
            site_row(
                f"L-{m['municipality_code']}",
                f"{m['municipality_name']} (large candidate)",
                m,
                "large",
                "candidate",
                LARGE_MIN_SIZE,
                LARGE_CAPACITY,
                LARGE_FIXED_COST,
                m["interior_lat"],
                m["interior_lon"],
            )
            for m in in_province[:LARGE_CANDIDATES_PER_PROVINCE]
        ]
    reception = read_csv("reception_sites.csv")
    for site, prefix in EXISTING_SITES.items():
        [row] = [r for r in reception if r["site_name"].startswith(prefix)]
        m = by_code[row["municipality_code"]]
        require(
            polygons[m["municipality_code"]].contains(Point(to_rd(row["lat"], row["lon"]))),
            f"{site} does not lie in {m['municipality_name']}",
        )
        sites.append(
            site_row(
                site,
                prefix,
                m,
                "large",
                "existing",
                LARGE_MIN_SIZE,
                int(row["max_capacity"]),
                LARGE_FIXED_COST,
                row["lat"],
                row["lon"],
            )
        )
    sites.sort(key=lambda s: s[0])
    write_csv(
        "sites.csv",
        [
            "site",
            "name",
            "municipality",
            "province",
            "kind",
            "status",
            "min_size",
            "capacity",
            "fixed_cost",
            "cost_per_place",
            "lat",
            "lon",
        ],
        sites,
    )

    codes = sorted(polygons)
    tree = shapely.STRtree([polygons[c] for c in codes])
    near = {
        (a, codes[j])
        for a in codes
        for j in tree.query(polygons[a], predicate="dwithin", distance=ADJACENT_M)
        if a < codes[j]
    }
    require(set(NO_ROAD) <= near, f"water pairs no longer adjacent: {sorted(set(NO_ROAD) - near)}")
    links = []
    for a, b in sorted(near - set(NO_ROAD)):
        if a in ISLANDS or b in ISLANDS:
            continue
        metres = math.dist(points[a], points[b])
        links.append(
            [
                a,
                b,
                f"{road_minutes(metres):.1f}",
                "road",
                f"polygons within {ADJACENT_M} m; {metres / 1000:.1f} km straight line "
                f"x {DETOUR_FACTOR} at {SPEED_KMH} km/h",
            ]
        )
    links += [[a, b, f"{minutes:.1f}", "ferry", note] for a, b, minutes, note in FERRIES]
    links.sort(key=lambda link: (link[0], link[1]))
    require(all(a < b for a, b, *_ in links), "every link must have from < to")
    require(len({(a, b) for a, b, *_ in links}) == len(links), "duplicate links")

    graph = nx.Graph()
    graph.add_nodes_from(codes)
    graph.add_edges_from((a, b) for a, b, *_ in links)
    if not nx.is_connected(graph):
        parts = sorted(nx.connected_components(graph), key=len)[:-1]
        cut_off = sorted(by_code[c]["municipality_name"] for part in parts for c in part)
        raise SystemExit(f"build failed: travel network is not connected; cut off: {', '.join(cut_off)}")
    write_csv("links.csv", ["from", "to", "minutes", "mode", "note"], links)

    (HERE / "instance.toml").write_text(
        'name = "nl-2024"\n'
        'description = "Netherlands, 2024: the 96,002 reception places of the first Spreidingswet '
        "capacity estimate, split over the 342 municipalities by population, with regular and large "
        'candidate sites and the existing sites at Ter Apel and Budel."\n'
        'units = "places"\n'
        'currency = "EUR"\n'
        'planning_period = "1 year"\n'
        "\n"
        "[travel]\n"
        'mode = "network"\n'
        f"speed_kmh = {SPEED_KMH}\n"
        f"detour_factor = {DETOUR_FACTOR}\n",
        encoding="utf-8",
    )

    kinds: dict[tuple[str, str], int] = {}
    for s in sites:
        kinds[s[4], s[5]] = kinds.get((s[4], s[5]), 0) + 1
    print(
        f"{len(tasks)} provinces, task {sum(tasks.values())}; {len(by_code)} municipalities; "
        f"sites {dict(sorted(kinds.items()))}; {len(links)} links "
        f"({sum(link[3] == 'ferry' for link in links)} ferry)"
    )


if __name__ == "__main__":
    main()
