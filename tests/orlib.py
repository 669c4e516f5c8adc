"""Beasley's OR-Library capacitated warehouse location files, read and turned into instance folders.

File format (instances/orlib/README.md): whitespace-separated numbers

    m n                                  warehouses, customers
    m x  capacity fixed_cost             (capacity may be the word "capacity": capa/capb/capc)
    n x  demand c_1j ... c_mj            c_ij = cost of serving ALL of customer j's demand from i

The line layout differs between copies (costs wrapped at 7 per line, or one line per customer),
so the file is read as one token stream and lines are never counted. Numbers may be written
``7500.`` or ``.00000``.

``write_instance`` maps a file onto the project's instance format (matrix travel mode) so that,
under a policy with ``travel_value = 1``, the allocation model's objective is Beasley's:

    customer j   -> municipality j, demand d_j (population d_j), all in one province
    warehouse i  -> regular candidate site i, capacity s_i, fixed_cost f_i, min_size 0, cost_per_place 0
    c_ij         -> travel minutes t_ji = c_ij / d_j, the cost per unit of j's demand

so sum_ij t_ji placed[j,i] = sum_ij c_ij (placed[j,i] / d_j) = sum_ij c_ij x_ij, with x_ij the
fraction of j's demand served from i (demand may be split, as in Beasley's problem).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from allocator.data.instance import SITE_COLUMNS
from allocator.data.policy import load_policy

CAPACITY_WORD = "capacity"


@dataclass(frozen=True)
class CapProblem:
    """One capacitated warehouse location problem; ``cost[j][i]`` is c_ij (customer j, warehouse i)."""

    name: str
    m: int
    n: int
    capacity: tuple[float, ...]
    fixed_cost: tuple[float, ...]
    demand: tuple[float, ...]
    cost: tuple[tuple[float, ...], ...]
    n_tokens: int

    def objective(self, open_sites, fraction) -> float:
        """Beasley's objective sum_i f_i y_i + sum_ij c_ij x_ij; ``fraction[(j, i)]`` = x_ij."""
        return sum(self.fixed_cost[i] for i in open_sites) + sum(self.cost[j][i] * x for (j, i), x in fraction.items())


def expected_tokens(m: int, n: int) -> int:
    """Tokens in a well-formed file: the header, m warehouse records, n customer records."""
    return 2 + 2 * m + n * (1 + m)


def _number(token: str, where: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ValueError(f"{where}: not a number: {token!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: not a finite number: {token!r}")
    return value


def _count(token: str, where: str) -> int:
    value = _number(token, where)
    if value != int(value) or value <= 0:
        raise ValueError(f"{where}: expected a positive whole number, got {token!r}")
    return int(value)


def parse_cap_text(text: str, name: str = "cap", capacity: float | None = None) -> CapProblem:
    """Parse the text of an OR-Library cap file as a whitespace token stream.

    ``capacity`` replaces the word ``capacity`` (capa/capb/capc); without it such a file is refused.
    """
    tokens = text.split()
    if len(tokens) < 2:
        raise ValueError(f"{name}: fewer than 2 tokens")
    m = _count(tokens[0], f"{name}: m")
    n = _count(tokens[1], f"{name}: n")
    want = expected_tokens(m, n)
    if len(tokens) != want:
        raise ValueError(f"{name}: {len(tokens)} tokens, expected {want} for m={m}, n={n}")
    pos = 2
    caps, fixed = [], []
    for i in range(m):
        raw = tokens[pos]
        if raw.lower() == CAPACITY_WORD:
            if capacity is None:
                raise ValueError(f"{name}: warehouse {i + 1} has capacity {raw!r}; pass capacity=<value>")
            caps.append(float(capacity))
        else:
            caps.append(_number(raw, f"{name}: capacity of warehouse {i + 1}"))
        fixed.append(_number(tokens[pos + 1], f"{name}: fixed cost of warehouse {i + 1}"))
        pos += 2
    demand, cost = [], []
    for j in range(n):
        demand.append(_number(tokens[pos], f"{name}: demand of customer {j + 1}"))
        cost.append(
            tuple(
                _number(tokens[pos + 1 + i], f"{name}: cost of customer {j + 1}, warehouse {i + 1}") for i in range(m)
            )
        )
        pos += 1 + m
    for what, values in (("capacity", caps), ("fixed cost", fixed), ("demand", demand)):
        bad = [k + 1 for k, v in enumerate(values) if v < 0]
        if bad:
            raise ValueError(f"{name}: negative {what} at {bad[:5]}")
    if any(c < 0 for row in cost for c in row):
        raise ValueError(f"{name}: negative allocation cost")
    return CapProblem(name, m, n, tuple(caps), tuple(fixed), tuple(demand), tuple(cost), len(tokens))


def parse_cap(path: str | Path, capacity: float | None = None) -> CapProblem:
    path = Path(path)
    return parse_cap_text(path.read_text(encoding="ascii"), name=path.stem, capacity=capacity)


def customer_id(j: int, n: int) -> str:
    return f"C{j + 1:0{len(str(n))}d}"


def warehouse_id(i: int, m: int) -> str:
    return f"W{i + 1:0{len(str(m))}d}"


def _whole(value: float, what: str) -> int:
    if value != int(value):
        raise ValueError(f"{what} must be a whole number for the instance format, got {value!r}")
    return int(value)


def write_instance(cap_file: str | Path, folder: str | Path, capacity: float | None = None) -> CapProblem:
    """Write ``cap_file`` as an instance folder (matrix travel mode) at ``folder``; return the parsed problem.

    Zero-demand customers are refused: Beasley's formulation still makes them choose a warehouse
    (sum_i x_ij = 1 costs min c_ij), which a per-unit cost cannot express. None of the OR-Library
    cap files has one (smallest demand: 31 in cap41-cap134, 1 in capa/b/c).
    """
    problem = parse_cap(cap_file, capacity=capacity)
    zero = [j + 1 for j, d in enumerate(problem.demand) if d == 0]
    if zero:
        raise ValueError(f"{problem.name}: customers {zero[:10]} have zero demand; their cost per unit is undefined")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    m, n = problem.m, problem.n
    demand = [_whole(d, f"{problem.name}: demand of customer {j + 1}") for j, d in enumerate(problem.demand)]
    caps = [_whole(s, f"{problem.name}: capacity of warehouse {i + 1}") for i, s in enumerate(problem.capacity)]

    (folder / "instance.toml").write_text(
        f'name = "orlib-{problem.name}"\n'
        f'description = "OR-Library capacitated warehouse location problem {problem.name} (Beasley 1988): '
        f'{m} warehouses as sites, {n} customers as municipalities; travel minutes are allocation cost per unit of demand."\n'
        'units = "units of customer demand"\n'
        'currency = "OR-Library cost units"\n'
        'planning_period = "one problem"\n'
        "\n[travel]\n"
        'mode = "matrix"\n',
        encoding="utf-8",
    )
    _write_csv(folder / "provinces.csv", ["province", "name"], [["P", "All customers"]])
    _write_csv(
        folder / "municipalities.csv",
        ["municipality", "name", "province", "population", "lat", "lon", "demand"],
        # Coordinates only place the customers on a grid; nothing reads them in matrix mode.
        [
            [
                customer_id(j, n),
                f"customer {j + 1}",
                "P",
                demand[j],
                f"{50 + (j // 10) * 0.1:.1f}",
                f"{5 + (j % 10) * 0.1:.1f}",
                demand[j],
            ]
            for j in range(n)
        ],
    )
    home = customer_id(0, n)  # every site needs a municipality; in matrix mode it is only a label
    _write_csv(
        folder / "sites.csv",
        [c.name for c in SITE_COLUMNS if c.required],
        [
            [
                warehouse_id(i, m),
                f"warehouse {i + 1}",
                home,
                "P",
                "regular",
                "candidate",
                0,
                caps[i],
                repr(problem.fixed_cost[i]),
                0,
                "50.0",
                "5.0",
            ]
            for i in range(m)
        ],
    )
    _write_csv(
        folder / "travel_times.csv",
        ["municipality", "site", "minutes"],
        # repr() writes the shortest text that reads back as the same float.
        [
            [customer_id(j, n), warehouse_id(i, m), repr(problem.cost[j][i] / problem.demand[j])]
            for j in range(n)
            for i in range(m)
        ],
    )
    (folder / "README.md").write_text(
        f"# orlib-{problem.name}\n\nGenerated by tests/orlib.py from `{Path(cap_file).name}` "
        "(J.E. Beasley, OR-Library, capacitated warehouse location). See instances/orlib/README.md.\n",
        encoding="utf-8",
    )
    return problem


def _write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def read_optima(path: str | Path) -> dict[str, float]:
    """``optima.csv`` (instance, optimal_value, source) as {instance: value}."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return {row["instance"]: float(row["optimal_value"]) for row in csv.DictReader(fh)}


def orlib_policy(whole_places: bool = True):
    """OR-Library's problem as a policy: no large-site rule or travel limits, travel minutes are the cost
    per unit of demand, and unmet demand is never worth it."""
    return load_policy(
        "default",
        {
            "large_site_rule": "off",
            "max_travel_minutes": "none",
            "max_travel_minutes_regular": "none",
            "travel_value": 1,
            "unmet_penalty": 1e9,
            "whole_places": whole_places,
        },
    )
