"""What a solve is asked (SolveOptions) and what it reports (Status, SolveResult)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    """How a solve ended; only OPTIMAL and TIME_LIMIT come with a plan."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"  # a plan was found, not proven optimal within the gap
    TIME_LIMIT_NO_PLAN = "time_limit_no_plan"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INTERRUPTED = "interrupted"
    ERROR = "error"


# From the worst to the best: the status of several solves together is the worst of theirs.
SEVERITY = (
    Status.INFEASIBLE,
    Status.UNBOUNDED,
    Status.ERROR,
    Status.INTERRUPTED,
    Status.TIME_LIMIT_NO_PLAN,
    Status.TIME_LIMIT,
    Status.OPTIMAL,
)


def worst_status(statuses) -> Status:
    """The status of several solves (or blocks) together: the worst of ``statuses``, OPTIMAL for none."""
    return min(statuses, key=SEVERITY.index, default=Status.OPTIMAL)


@dataclass(frozen=True)
class SolveOptions:
    """Limits and settings of one solve."""

    time_limit: float = 300.0  # seconds, for the whole solve
    # Relative MIP gap. Tight: large sites differ by tens of thousands of euros on a national objective of
    # billions, and a looser gap lets the plan pick a site that a what-if ranks second.
    gap: float = 1e-6
    threads: int = 1  # HiGHS threads per block
    seed: int = 0
    workers: int = 0  # worker processes for independent blocks; 0 = one per core
    scheduler: str | None = None  # a Dask scheduler's address: independent blocks run on its cluster
    decompose: bool = True
    log: bool = False
    track_progress: bool = False  # record objective and bound over time (SolveResult.progress)

    def __post_init__(self):
        problems = []
        if not (isinstance(self.time_limit, (int, float)) and math.isfinite(self.time_limit) and self.time_limit >= 0):
            problems.append(f"time_limit must be a finite number of seconds >= 0, is {self.time_limit!r}")
        if not (isinstance(self.gap, (int, float)) and math.isfinite(self.gap) and 0 <= self.gap <= 1):
            problems.append(f"gap must be a relative gap between 0 and 1, is {self.gap!r}")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class BlockOutcome:
    """One independent block of a solve: its variables, and the status, objective and bound HiGHS reached for it."""

    variables: tuple  # the Pyomo VarData of the block's columns
    status: Status
    objective: float | None
    bound: float | None

    @property
    def absolute_gap(self) -> float | None:
        """Objective minus bound of this block."""
        if self.objective is None or self.bound is None:
            return None
        return max(self.objective - self.bound, 0.0)


@dataclass
class SolveResult:
    """The outcome of a solve: status, objective, bound and gap, and the plan's values when there is one."""

    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    blocks: int = 0
    values: dict | None = None  # id(VarData) -> value, only when a plan exists
    progress: list[dict] = field(default_factory=list)  # with track_progress: {seconds, objective, bound, gap}
    block_outcomes: list[BlockOutcome] = field(default_factory=list)  # one per independent block

    @property
    def has_plan(self) -> bool:
        """A plan was found (optimal or at the time limit)."""
        return self.values is not None

    @property
    def absolute_gap(self) -> float | None:
        """Objective minus bound, in the instance's currency."""
        if self.objective is None or self.bound is None:
            return None
        return max(self.objective - self.bound, 0.0)
