"""Policy: the rules a plan must follow and the prices that rank plans.

A policy is read from a preset in models/*.toml, then overridden key by key
(``--set key=value``). Unknown keys are refused.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import NamedTuple

from ..core.errors import PolicyError, Problem
from ..core.paths import models_dir

NONE_WORDS = ("none", "off", "no", "")


class LargeSiteRule(enum.StrEnum):
    """How many large sites each province with demand opens (policy key large_site_rule)."""

    EXACTLY = "exactly"
    AT_MOST = "at_most"
    AT_LEAST = "at_least"
    OFF = "off"

    def allows(self, count: int) -> bool:
        """Whether ``count`` open large sites satisfy the rule."""
        if self is LargeSiteRule.EXACTLY:
            return count == 1
        if self is LargeSiteRule.AT_MOST:
            return count <= 1
        return count >= 1 if self is LargeSiteRule.AT_LEAST else True

    @property
    def needs_one(self) -> bool:
        """The rule asks for at least one large site."""
        return self in (LargeSiteRule.EXACTLY, LargeSiteRule.AT_LEAST)

    @property
    def caps_at_one(self) -> bool:
        """The rule allows at most one large site."""
        return self in (LargeSiteRule.EXACTLY, LargeSiteRule.AT_MOST)


LARGE_SITE_RULES = tuple(r.value for r in LargeSiteRule)


class Risk(enum.StrEnum):
    """What a plan for a demand band minimises (policy key risk): the weighted mean or the worst scenario."""

    EXPECTED = "expected"
    WORST = "worst"


RISKS = tuple(r.value for r in Risk)


@dataclass(frozen=True)
class Policy:
    """Every field is a policy key (models/README.md explains each)."""

    name: str = "default"
    description: str = ""
    large_site_rule: LargeSiteRule = LargeSiteRule.EXACTLY
    max_travel_minutes: float | None = None
    max_travel_minutes_regular: float | None = None
    max_travel_minutes_transit: float | None = 30.0  # a transit site lies near the home municipality (assumption T1)
    nearest_regular_sites: int | None = None
    mean_travel_limit_minutes: float | None = None
    allow_cross_province: bool = False
    keep_existing_open: bool = True
    unmet_penalty: float = 1_000_000.0
    # Scarcity rules (models/README.md, "Who stays unplaced"): a penalty per group, and a band around each
    # province's share of the places placed nationally.
    unmet_penalty_by_group: tuple[tuple[str, float], ...] = field(default_factory=tuple)  # group -> M_g
    fair_share_band: float | None = None  # None: no fair_share rows
    travel_value: float = 10.0
    budget: float | None = None  # None: the instance's budget; inf: no budget
    demand_scale: float = 1.0
    whole_places: bool = True
    force_sites: tuple[str, ...] = field(default_factory=tuple)
    forbid_sites: tuple[str, ...] = field(default_factory=tuple)
    # Plans over several periods (models/README.md, "Plans over several periods").
    risk: Risk = Risk.EXPECTED
    scenario_weights: tuple[tuple[str, float], ...] = field(default_factory=tuple)  # empty: equal weights
    discount_rate: float = 0.0
    move_cost: float = 0.0  # per person-move out of a site whose load falls (0: moves are only counted)
    max_moves_per_period: int | None = None  # person-moves per period and scenario; None: no limit
    # Status holders waiting for a home (models/README.md, "Housing rate"): the share of each period's housing
    # task that the municipalities house, nationally and per province (province -> rate).
    housing_rate: float = 1.0
    housing_rate_by_province: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    # The keys the preset file and the overrides set (not a policy key): a key that does not apply to an
    # instance is refused only when it was set.
    keys_set: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self):
        # Accept the rule's name too (Policy(large_site_rule="at_most")), so that it is always the enum.
        object.__setattr__(self, "large_site_rule", LargeSiteRule(self.large_site_rule))
        object.__setattr__(self, "risk", Risk(self.risk))

    def to_dict(self) -> dict:
        """Every key with a JSON-friendly value (as summary.json stores it)."""
        out = dataclasses.asdict(self)
        del out["keys_set"]
        out["large_site_rule"] = self.large_site_rule.value
        out["force_sites"] = list(self.force_sites)
        out["forbid_sites"] = list(self.forbid_sites)
        out["risk"] = self.risk.value
        out["scenario_weights"] = dict(self.scenario_weights)
        out["unmet_penalty_by_group"] = dict(self.unmet_penalty_by_group)
        out["housing_rate_by_province"] = dict(self.housing_rate_by_province)
        if out["budget"] is not None and math.isinf(out["budget"]):
            out["budget"] = "none"
        return out

    def with_(self, **changes) -> Policy:
        """A copy with some keys changed."""
        return dataclasses.replace(self, **changes)

    def penalty_of(self, group: str | None = None) -> float:
        """M_g: the penalty per unmet place of ``group`` (unmet_penalty_by_group), else unmet_penalty."""
        if group is None or not self.unmet_penalty_by_group:
            return self.unmet_penalty
        return dict(self.unmet_penalty_by_group).get(group, self.unmet_penalty)

    def housing_rate_of(self, province: str) -> float:
        """r_p: the housing rate of ``province`` (housing_rate_by_province), else housing_rate."""
        return dict(self.housing_rate_by_province).get(province, self.housing_rate)

    @property
    def houses_all(self) -> bool:
        """Every province houses its whole task (every rate 1): no backlog."""
        return self.housing_rate == 1 and all(r == 1 for _, r in self.housing_rate_by_province)

    def weights_for(self, scenarios) -> dict[str, float]:
        """π_ω for ``scenarios``, normalised to add up to 1 (equal when the policy sets none).

        Raises PolicyError when weights are set but miss a scenario or add up to 0.
        """
        scenarios = list(scenarios)
        if not self.scenario_weights:
            return {w: 1.0 / len(scenarios) for w in scenarios}
        given = dict(self.scenario_weights)
        missing = [w for w in scenarios if w not in given]
        label = f"policy '{self.name}'"
        if missing:
            raise PolicyError(
                [Problem(label, f"no weight for scenario {w}", column="scenario_weights") for w in missing]
            )
        total = sum(given[w] for w in scenarios)
        if total <= 0:
            raise PolicyError(
                [Problem(label, "the weights of the scenarios planned for add up to 0", column="scenario_weights")]
            )
        return {w: given[w] / total for w in scenarios}

    def effective_budget(self, instance_budget: float | None) -> float | None:
        """The budget the model applies: the policy's own, else the instance's; None = no limit."""
        if self.budget is None:
            return instance_budget
        return None if math.isinf(self.budget) else self.budget


KEYS = {f.name: f for f in fields(Policy) if f.name != "keys_set"}
OPTIONAL_NUMBER = {
    "max_travel_minutes",
    "max_travel_minutes_regular",
    "max_travel_minutes_transit",
    "mean_travel_limit_minutes",
    "budget",
    "nearest_regular_sites",
    "max_moves_per_period",
    "fair_share_band",
}
NUMBER = {"unmet_penalty", "travel_value", "demand_scale", "discount_rate", "move_cost", "housing_rate"}
BOOLEAN = {"allow_cross_province", "keep_existing_open", "whole_places"}
SITE_LISTS = {"force_sites", "forbid_sites"}
TEXT = {"name", "description"}


def preset_path(name_or_path: str | Path) -> Path:
    """A path as given, or the preset of that name in models/."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path
    return models_dir() / f"{name_or_path}.toml"


def available_presets() -> list[str]:
    """The names of the policy presets."""
    return sorted(p.stem for p in models_dir().glob("*.toml"))


def load_policy(preset: str | Path | None = None, overrides: Mapping[str, object] | None = None) -> Policy:
    """Read a preset (default: models/default.toml) and apply ``overrides``; raise PolicyError listing every problem."""
    problems: list[Problem] = []
    path = preset_path(preset or "default")
    label = str(path)
    values: dict[str, object] = {}
    if not path.is_file():
        known = ", ".join(available_presets()) or "none found"
        problems.append(Problem(label, f"no such policy file or preset (presets: {known})"))
    else:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(label, f"not valid TOML: {exc}"))
            data = {}
        for key, raw in data.items():
            _accept(key, raw, label, values, problems, from_text=False)
        values.setdefault("name", path.stem)
    for key, raw in (overrides or {}).items():
        _accept(key, raw, "--set", values, problems, from_text=isinstance(raw, str))
    if problems:
        raise PolicyError(problems)
    policy = Policy(**values, keys_set=frozenset(values) - {"name"})
    ensure_consistent(policy)
    return policy


def load_policy_dict(data: Mapping[str, object], label: str = "summary.json policy") -> Policy:
    """A Policy from a dict such as ``Policy.to_dict()`` wrote (unknown keys refused)."""
    problems: list[Problem] = []
    values: dict[str, object] = {}
    for key, raw in data.items():
        if raw is None and key in OPTIONAL_NUMBER:
            values[key] = None
            continue
        _accept(key, raw, label, values, problems, from_text=False)
    if problems:
        raise PolicyError(problems)
    return Policy(**values)


def parse_assignments(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["key=value", ...]`` from the command line into a dict; bad items raise PolicyError."""
    out: dict[str, str] = {}
    problems = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", "expected key=value", value=item))
        else:
            out[key.strip()] = value.strip()
    if problems:
        raise PolicyError(problems)
    return out


def _accept(key: str, raw: object, label: str, values: dict, problems: list[Problem], from_text: bool) -> None:
    if key not in KEYS:
        problems.append(Problem(label, f"unknown policy key (known: {', '.join(KEYS)})", column=key))
        return
    try:
        values[key] = _coerce(key, raw, from_text)
    except ValueError as exc:
        problems.append(Problem(label, str(exc), column=key, value=raw))


def _coerce(key: str, raw: object, from_text: bool):
    if key in TEXT:
        if not isinstance(raw, str):
            raise ValueError("must be text")
        return raw
    if key == "large_site_rule":
        if raw not in LARGE_SITE_RULES:
            raise ValueError(f"must be one of {', '.join(LARGE_SITE_RULES)}")
        return LargeSiteRule(raw)
    if key in PARSED_KEYS:
        return PARSED_KEYS[key](raw, from_text)
    if key in BOOLEAN:
        return _boolean(raw, from_text)
    if key in SITE_LISTS:
        return _site_list(raw)
    if key in OPTIONAL_NUMBER and isinstance(raw, str) and raw.strip().lower() in NONE_WORDS:
        return math.inf if key == "budget" else None
    return _bounded_number(key, _number(raw, from_text))


def _risk(raw: object, from_text: bool) -> Risk:
    if raw not in RISKS:
        raise ValueError(f"must be one of {', '.join(RISKS)}")
    return Risk(raw)


def _boolean(raw: object, from_text: bool) -> bool:
    if isinstance(raw, bool):
        return raw
    if from_text and str(raw).lower() in ("true", "yes", "1", "false", "no", "0"):
        return str(raw).lower() in ("true", "yes", "1")
    raise ValueError("must be true or false")


def _site_list(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(s.strip() for s in raw.split(",") if s.strip())
    if isinstance(raw, (list, tuple)) and all(isinstance(s, str) for s in raw):
        return tuple(raw)
    raise ValueError("must be a list of site ids")


# Upper limits: beyond them figures stop being plans (or reach HiGHS as coefficients it takes for infinity).
UPPER = {
    "unmet_penalty": 1e12,  # per place
    "travel_value": 1e9,  # per place-minute
    "budget": 1e15,
    "demand_scale": 1000.0,
    "max_travel_minutes": 1e4,
    "max_travel_minutes_regular": 1e4,
    "max_travel_minutes_transit": 1e4,
    "mean_travel_limit_minutes": 1e4,
    "nearest_regular_sites": 1e6,
    "move_cost": 1e9,  # per person-move
    "max_moves_per_period": 1e9,
}


# Keys that are a fraction, with what a value means.
FRACTIONS = {
    "discount_rate": "a rate per year: 0.03 for 3 %",
    "housing_rate": "the share of each period's housing task housed: 0.8 for 80 %",
}


def _bounded_number(key: str, number: float):
    if key in ("demand_scale", "unmet_penalty", "travel_value", "move_cost") and number < 0:
        raise ValueError("must be >= 0")
    if key in UPPER and number > UPPER[key]:
        raise ValueError(f"must be <= {UPPER[key]:g}")
    if key in OPTIONAL_NUMBER and number < 0:
        raise ValueError('must be >= 0 (or "none")')
    if key == "fair_share_band" and number > 1:
        raise ValueError("must be between 0 and 1 (a fraction: 0.05 lets a province fall 5 % below its share)")
    if key in FRACTIONS and not 0 <= number <= 1:
        raise ValueError(f"must be between 0 and 1 ({FRACTIONS[key]})")
    if key == "nearest_regular_sites":
        if number < 1 or number != int(number):
            raise ValueError('must be a whole number >= 1 (or "none")')
        return int(number)
    if key == "max_moves_per_period":
        if number != int(number):
            raise ValueError('must be a whole number >= 0 (or "none")')
        return int(number)
    return number


def _pairs(
    raw: object, from_text: bool, what: str, example: str, upper: float | None = None
) -> tuple[tuple[str, float], ...]:
    """name = number pairs from a TOML table ``{ a = 1, b = 2 }`` or text ``a:1,b:2``; numbers >= 0 (and <= ``upper``)."""
    if isinstance(raw, str) and from_text:
        pairs = []
        for item in (x.strip() for x in raw.split(",") if x.strip()):
            name, sep, number = item.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"must be {what} pairs, e.g. {example}")
            pairs.append((name.strip(), number))
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        table = "{ " + ", ".join(item.replace(":", " = ") for item in example.split(",")) + " }"
        raise ValueError(f"must be a table of {what.replace(':', ' = ')}, e.g. {table}")
    out = {}
    for name, number in pairs:
        value = _number(number, from_text=isinstance(number, str))
        if value < 0:
            raise ValueError(f"the {what.partition(':')[2]} of {name} must be >= 0")
        if upper is not None and value > upper:
            raise ValueError(f"the {what.partition(':')[2]} of {name} must be <= {upper:g}")
        out[str(name)] = value
    return tuple(out.items())


def _weights(raw: object, from_text: bool) -> tuple[tuple[str, float], ...]:
    """Scenario weights from a TOML table ``{ low = 0.25, mid = 0.5 }`` or text ``low:0.25,mid:0.5``."""
    return _pairs(raw, from_text, "scenario:weight", "low:0.25,mid:0.5,high:0.25")


def _group_penalties(raw: object, from_text: bool) -> tuple[tuple[str, float], ...]:
    """Penalties per group from a TOML table ``{ amv = 5e6 }`` or text ``amv:5e6``."""
    return _pairs(raw, from_text, "group:penalty", "amv:5000000", UPPER["unmet_penalty"])


def _province_rates(raw: object, from_text: bool) -> tuple[tuple[str, float], ...]:
    """Housing rates per province from a TOML table ``{ PV20 = 0.6 }`` or text ``PV20:0.6``."""
    return _pairs(raw, from_text, "province:rate", "PV20:0.6,PV21:0.8", 1.0)


PARSED_KEYS = {
    "risk": _risk,
    "scenario_weights": _weights,
    "unmet_penalty_by_group": _group_penalties,
    "housing_rate_by_province": _province_rates,
}


def _number(raw: object, from_text: bool) -> float:
    if isinstance(raw, bool):
        raise ValueError("must be a number")
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif from_text:
        try:
            value = float(str(raw).replace("_", ""))
        except ValueError:
            raise ValueError("must be a number") from None
    else:
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def with_fixings(policy: Policy, force_sites=(), forbid_sites=()) -> Policy:
    """``policy`` with more sites forced open and forbidden (each listed once); a site both forced and forbidden is refused."""
    if not force_sites and not forbid_sites:
        return policy
    policy = policy.with_(
        force_sites=tuple(dict.fromkeys(policy.force_sites + tuple(force_sites))),
        forbid_sites=tuple(dict.fromkeys(policy.forbid_sites + tuple(forbid_sites))),
    )
    ensure_consistent(policy)
    return policy


def ensure_consistent(policy: Policy) -> None:
    """Rules that involve more than one key."""
    both = sorted(set(policy.force_sites) & set(policy.forbid_sites))
    if both:
        raise PolicyError(
            [
                Problem(
                    f"policy '{policy.name}'",
                    "a site cannot be both forced and forbidden",
                    column="force_sites",
                    value=s,
                )
                for s in both
            ]
        )


class Fixing(NamedTuple):
    """A site decision the policy takes out of the plan's hands: its value and why."""

    value: int  # 1 open, 0 closed
    reason: str  # "existing" (keep_existing_open), "forced" (force_sites) or "forbidden" (forbid_sites)

    @property
    def key(self) -> str:
        """The policy key behind the fixing."""
        return FIXING_KEYS[self.reason]


FIXING_KEYS = {"existing": "keep_existing_open", "forced": "force_sites", "forbidden": "forbid_sites"}


def site_fixings(instance, policy: Policy) -> dict[str, Fixing]:
    """Every fixed site, in the instance's site order: existing sites kept open, then forced, then forbidden (the later wins)."""
    fixed: dict[str, Fixing] = {}
    if policy.keep_existing_open:
        fixed.update({s: Fixing(1, "existing") for s in instance.sites.index[instance.sites["status"] == "existing"]})
    fixed.update({s: Fixing(1, "forced") for s in policy.force_sites})
    fixed.update({s: Fixing(0, "forbidden") for s in policy.forbid_sites})
    order = {s: k for k, s in enumerate(instance.sites.index)}
    return dict(sorted(fixed.items(), key=lambda item: order.get(item[0], len(order))))


def _has_periods(instance) -> bool:
    return getattr(instance, "horizon", None) is not None


def _has_groups(instance) -> bool:
    return getattr(instance, "groups", None) is not None


# Keys that bear on some instances only: (whether the instance has what the key is about, why it does not apply).
APPLIES = {
    key: (_has_periods, "it applies to plans over several periods only, and the instance has no periods (periods.csv)")
    for key in ("risk", "scenario_weights", "discount_rate", "move_cost", "max_moves_per_period")
}
APPLIES["unmet_penalty_by_group"] = (
    _has_groups,
    "it sets a penalty per demand group, and the instance has no demand groups (groups.csv)",
)


def not_applying(policy: Policy, instance) -> list[Problem]:
    """A problem for each key the policy sets that does not apply to ``instance``, with the reason."""
    return [
        Problem(f"policy '{policy.name}'", f"does not apply to instance {instance.name}: {why}", column=key)
        for key, (applies, why) in APPLIES.items()
        if key in policy.keys_set and not applies(instance)
    ]


def unknown_groups(policy: Policy, instance) -> list[Problem]:
    """A problem for each group of unmet_penalty_by_group that the instance lacks (none on an instance without
    groups: the key is refused there as not applying)."""
    if not _has_groups(instance):
        return []
    known = instance.groups.ids
    return [
        Problem(
            f"policy '{policy.name}'",
            f"unknown group id (the groups of instance {instance.name}: {', '.join(known)})",
            column="unmet_penalty_by_group",
            value=group,
        )
        for group, _ in policy.unmet_penalty_by_group
        if group not in known
    ]


HOUSING_KEYS = ("housing_rate", "housing_rate_by_province")


def housing_problems(policy: Policy, instance) -> list[Problem]:
    """The housing keys the policy sets on an instance without periods or without a group of the housing task,
    and unknown provinces of housing_rate_by_province."""
    label = f"policy '{policy.name}'"
    keys = [k for k in HOUSING_KEYS if k in policy.keys_set]
    if not keys:
        return []
    if not _has_periods(instance) and getattr(instance, "period", None) is None:
        why = "it applies to plans over several periods only, and the instance has no periods (periods.csv)"
    elif not _has_groups(instance) or instance.groups.housing is None:
        why = (
            "it sets the share of each period's housing task that is housed, and no demand group of the instance "
            "is that task (mark the status holders' group with housing = task in groups.csv)"
        )
    else:
        known = list(instance.provinces.index)
        return [
            Problem(
                label,
                f"unknown province id (the provinces of instance {instance.name}: {', '.join(known)})",
                column="housing_rate_by_province",
                value=p,
            )
            for p, _ in policy.housing_rate_by_province
            if p not in known
        ]
    return [Problem(label, f"does not apply to instance {instance.name}: {why}", column=key) for key in keys]


def check_policy(policy: Policy, instance) -> None:
    """Problems that need the instance: keys that do not apply to it, unknown site, group and province ids, and
    forbidding a site that must stay open."""
    problems: list[Problem] = (
        not_applying(policy, instance) + unknown_groups(policy, instance) + housing_problems(policy, instance)
    )
    sites = instance.sites
    for key in ("force_sites", "forbid_sites"):
        for site in getattr(policy, key):
            if site not in sites.index:
                problems.append(Problem(f"policy '{policy.name}'", "unknown site id", column=key, value=site))
    if policy.keep_existing_open:
        for site in policy.forbid_sites:
            if site in sites.index and sites.at[site, "status"] == "existing":
                problems.append(
                    Problem(
                        f"policy '{policy.name}'",
                        "an existing site stays open while keep_existing_open = true; set keep_existing_open=false to close it",
                        column="forbid_sites",
                        value=site,
                    )
                )
    if problems:
        raise PolicyError(problems)
