"""Build the nl-2024 instance from the unchanged source files in sources/.

Rebuilding needs `pip install shapely pyproj` (only this script uses them).
Run from anywhere: python instances/nl-2024/build.py
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
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
from group_rules import by_population, housing_tasks, ukraine_places  # noqa: E402  (beside this file)

from allocator.data.demand import split_task  # noqa: E402

# Distances are taken in RD New (metres), the Dutch national grid.
TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)

SPEED_KMH = 70
DETOUR_FACTOR = 1.3
ADJACENT_M = 250  # bridges simplification gaps along shared borders and narrow crossings such as the Afsluitdijk

# Assumptions, explained in README.md (labels C1-C4, S1-S5).
HOLDING_COST_PER_PLACE = 6_600  # C1: a place held available for a year, occupied or not
COST_PER_PLACE = 20_300  # C2: on top of C1, for a place that is occupied
REGULAR_BASE_COST = 1_500_000  # C3: per regular location and year, whatever its size
LARGE_BASE_COST = 4_000_000  # C4: per large location and year
REGULAR_MIN_SIZE = 50
REGULAR_SIZES = (300, 1_000)  # S2: smallest and largest regular candidate
REGULAR_ROOM = 2  # S3: regular candidate places per place of the municipality's own task
LARGE_MIN_SIZE = 1_000
LARGE_CAPACITY = 2_000
LARGE_CANDIDATES_PER_PROVINCE = 3

# Demand groups (README.md, "Demand groups", assumptions G1-G9).
GROUPS = [  # group, name, target, sites that take it unless site_groups.csv says otherwise
    ("asylum", "asylum seekers", "province", "all"),
    ("amv", "unaccompanied minors", "province", "listed"),
    ("status_holders", "status holders waiting for a home", "province", "all"),
    ("ukraine", "displaced people from Ukraine", "national", "listed"),
]
STATUS_HOLDER_HALF_YEAR = "2025-H1"  # G3: the half-year in which the places must be ready
UKRAINE_REQUEST_DATE = "2024-02-01"  # G5: the latest request to municipalities in the data
UKRAINE_BEDS_DATE = "2024-09"  # G6: the latest count of municipal beds available
UKRAINE_NORM_PER_DAY = 83  # G7: EUR per realised place per day paid to municipalities, all in
UKRAINE_NEW_PLACES = 100  # G8: places a municipality can add to its reception for Ukraine
AMV_HOUSE = 20  # G4: youths in one small housing unit (kwv), the step in which a minors' unit grows
AMV_UNIT_SIZES = (AMV_HOUSE, 100)  # G4: one house; a region of houses
AMV_COST_PER_PLACE = HOLDING_COST_PER_PLACE + COST_PER_PLACE + REGULAR_BASE_COST // 600  # G4: 29,400

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


def holding_cost_2017() -> float:
    """EUR per empty place per year: COA's 2017 vacancy cost over its mean number of empty places in 2017.

    Empty places are capacity minus residents at the three dates of 2017 in coa_occupancy.csv,
    averaged over the year with straight lines between the dates.
    """
    rows = read_csv("coa_occupancy.csv")

    def value(date: str, column: str) -> int:
        [row] = [r for r in rows if r["date"] == date and r[column]]
        return int(row[column])

    points = [  # (day of 2017, empty places)
        (0, value("2017-01-01", "capacity") - value("2017-01-01", "residents")),
        (115, value("2017-04-26", "capacity") - value("2017-04-26", "residents")),
        (365, value("2018-01-01", "capacity") - value("2017-12-31", "residents")),
    ]
    mean_empty = sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in itertools.pairwise(points)) / 365
    [vacancy] = [r for r in read_csv("cost_facts.csv") if r["fact"].startswith("cost of vacancy")]
    return int(vacancy["value"]) / mean_empty


def regular_size_range() -> tuple[int, int]:
    """Smallest and largest capacity of the regular COA locations in coa_location_examples.csv."""
    sizes = []
    for row in read_csv("coa_location_examples.csv"):
        kind, capacity = row["type"], row["capacity"]
        if not (kind.startswith("azc") or kind == "regular") or "extension" in kind or "residents" in capacity:
            continue
        sizes += [int(n) for n in re.findall(r"\d+", capacity.split("(")[0])]
    return min(sizes), max(sizes)


def check_rationale() -> None:
    """The cost and size assumptions must still follow from the source files they are derived from."""
    require(
        round(holding_cost_2017(), -2) == HOLDING_COST_PER_PLACE,
        f"holding cost per place no longer matches the 2017 vacancy figures ({holding_cost_2017():.0f})",
    )
    facts = {row["fact"]: row for row in read_csv("cost_facts.csv")}
    average = int(facts["cost per place per year in a regular azc"]["value"])
    size = int(facts["smallest azc size that COA considers viable to run"]["value"])
    require(
        REGULAR_BASE_COST + (HOLDING_COST_PER_PLACE + COST_PER_PLACE) * size == average * size,
        "regular costs no longer give COA's average cost per place at its smallest viable size",
    )
    require(
        regular_size_range() == REGULAR_SIZES,
        f"regular sizes {REGULAR_SIZES} differ from the range of the COA examples {regular_size_range()}",
    )


def fixed_cost(base: int, capacity: int) -> int:
    """A location's cost per year before anyone lives there: its base cost and its places held available."""
    return base + HOLDING_COST_PER_PLACE * capacity


def regular_sizes(task: int) -> list[int]:
    """Capacities of a municipality's regular candidates: room for REGULAR_ROOM x its task (at least
    one smallest location), in as few equal locations of at most the largest size as hold it."""
    smallest, largest = REGULAR_SIZES
    room = max(smallest, REGULAR_ROOM * task)
    count = -(-room // largest)
    return [-(-room // count)] * count


def amv_places() -> int:
    """Places for unaccompanied minors in the Spreidingswet capacity estimate (coa_capacity_needs.csv)."""
    [row] = [r for r in read_csv("coa_capacity_needs.csv") if r["decision_or_page"].startswith("Spreidingswet")]
    require(int(row["places_needed"]) == 96_000, "the capacity estimate row no longer says 96,000 places")
    [places] = re.findall(r"of which ([\d,]+) amv places", row["notes"])
    return int(places.replace(",", ""))


def status_holder_task() -> int:
    return housing_tasks(SOURCES)[STATUS_HOLDER_HALF_YEAR]


def ukraine_request() -> int:
    [row] = [
        r
        for r in read_csv("inflow_forecasts.csv")
        if r["measure"] == "ukraine_reception_places_requested" and r["year_forecast"] == UKRAINE_REQUEST_DATE
    ]
    return int(row["middle"])


def ukraine_beds() -> int:
    return ukraine_places(SOURCES)[UKRAINE_BEDS_DATE]


def unit_sizes(demand: int, sizes: tuple[int, int]) -> list[int]:
    """Room for REGULAR_ROOM x ``demand`` (at least the smallest size) in as few equal units of at most the largest size."""
    smallest, largest = sizes
    room = max(smallest, REGULAR_ROOM * demand)
    count = -(-room // largest)
    return [-(-room // count)] * count


def group_demand(
    tasks: dict[str, int], demand: dict[str, int], municipalities: list[dict]
) -> dict[str, dict[str, int]]:
    """Demand per group and municipality (README.md, "Demand groups"): the task split into minors,
    status holders and the other asylum seekers; Ukraine's national request on top."""
    population = {m["municipality_code"]: int(m["population_2024_01_01"]) for m in municipalities}
    province_of = {m["municipality_code"]: m["province_code"] for m in municipalities}
    province_amv = split_task(amv_places(), tasks)
    gelderland = {p["province_code"]: p["amv_places_included"] for p in read_csv("spreidingswet_2024.csv")}["PV25"]
    require(
        province_amv["PV25"] == int(gelderland),
        f"Gelderland's minors {province_amv['PV25']} differ from its reported {gelderland}",
    )
    amv: dict[str, int] = {}
    for code, places in province_amv.items():
        amv.update(split_task(places, {c: n for c, n in population.items() if province_of[c] == code}))
    status = by_population(status_holder_task(), population)
    asylum = {c: demand[c] - amv[c] - status[c] for c in demand}
    require(min(asylum.values()) >= 0, "a municipality's minors and status holders exceed its task")
    return {
        "asylum": asylum,
        "amv": amv,
        "status_holders": status,
        "ukraine": by_population(ukraine_request(), population),
    }


def main() -> None:
    check_rationale()

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

    def site_row(site, name, m, kind, status, min_size, capacity, base_cost, lat, lon):
        return [
            site,
            name,
            m["municipality_code"],
            m["province_code"],
            kind,
            status,
            min_size,
            capacity,
            fixed_cost(base_cost, capacity),
            COST_PER_PLACE,
            lat,
            lon,
        ]

    sites = []
    for c, m in by_code.items():
        sizes = regular_sizes(demand[c])
        sites += [
            site_row(
                f"R-{c}-{k:02d}",
                f"{m['municipality_name']} (regular {k} of {len(sizes)})",
                m,
                "regular",
                "candidate",
                REGULAR_MIN_SIZE,
                size,
                REGULAR_BASE_COST,
                m["interior_lat"],
                m["interior_lon"],
            )
            for k, size in enumerate(sizes, start=1)
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
                LARGE_BASE_COST,
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
                LARGE_BASE_COST,
                row["lat"],
                row["lon"],
            )
        )
    groups = group_demand(tasks, demand, municipalities)
    site_groups = []
    beds = by_population(ukraine_beds(), {c: int(m["population_2024_01_01"]) for c, m in by_code.items()})
    ukraine_cost = UKRAINE_NORM_PER_DAY * 365
    for c, m in by_code.items():
        sizes = unit_sizes(groups["amv"][c], AMV_UNIT_SIZES)
        for k, size in enumerate(sizes, start=1):
            site = f"A-{c}-{k:02d}"
            sites.append(
                [
                    site,
                    f"{m['municipality_name']} (minors unit {k} of {len(sizes)})",
                    c,
                    m["province_code"],
                    "regular",
                    "candidate",
                    0,
                    size,
                    HOLDING_COST_PER_PLACE * AMV_HOUSE,
                    AMV_COST_PER_PLACE,
                    m["interior_lat"],
                    m["interior_lon"],
                ]
            )
            site_groups.append([site, "amv"])
        require(beds[c] > 0, f"{m['municipality_name']} gets no municipal reception beds")
        # Beds in place are paid whether used or not (a fixed cost); new places are paid as they are realised.
        for site, name, status, size, fixed, per_place in (
            (f"U-{c}", "municipal reception, Ukraine", "existing", beds[c], ukraine_cost * beds[c], 0),
            (f"UN-{c}", "new municipal reception, Ukraine", "candidate", UKRAINE_NEW_PLACES, 0, ukraine_cost),
        ):
            sites.append(
                [
                    site,
                    f"{m['municipality_name']} ({name})",
                    c,
                    m["province_code"],
                    "regular",
                    status,
                    0,
                    size,
                    fixed,
                    per_place,
                    m["interior_lat"],
                    m["interior_lon"],
                ]
            )
            site_groups.append([site, "ukraine"])
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

    write_csv("groups.csv", ["group", "name", "target", "sites"], [list(g) for g in GROUPS])
    write_csv(
        "group_demand.csv",
        ["municipality", "group", "demand"],
        [[c, g, groups[g][c]] for c in sorted(by_code) for g, *_ in GROUPS if groups[g][c] > 0],
    )
    write_csv("site_groups.csv", ["site", "group"], sorted(site_groups))

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
