"""Provinces and sites by id or by name, as planners write them; an unknown name gets the nearest matches."""

from __future__ import annotations

import difflib

from ..core.errors import InputError, Problem


class UnknownName(InputError):
    """A province or site that cannot be found by the id or name given."""

    what = "names"


class SiteElsewhere(UnknownName):
    """A site given for one province that lies in another."""

    what = "sites given"


def resolve_province(instance, text: str, option: str = "--province") -> str:
    """The province id for a code (PV25) or a name (Gelderland), case-insensitive."""
    provinces = instance.provinces
    return _resolve(text, list(provinces.index), list(provinces["name"]), option, "province")


def resolve_sites(instance, texts, option: str) -> tuple[str, ...]:
    """Site ids for ids or names: an exact id, an exact site name, or the only site whose name starts with the text."""
    sites = instance.sites
    out, problems = [], []
    for text in texts:
        try:
            out.append(_resolve(text, list(sites.index), list(sites["name"]), option, "site", prefix=True))
        except UnknownName as exc:
            problems += exc.problems
    if problems:
        raise SiteElsewhere(problems)
    return tuple(out)


def _resolve(text: str, ids: list[str], names: list[str], option: str, what: str, prefix: bool = False) -> str:
    if text in ids:
        return text
    wanted = text.strip().casefold()
    exact = [i for i, n in zip(ids, names) if str(n).casefold() == wanted or i.casefold() == wanted]
    if len(exact) == 1:
        return exact[0]
    starts = [i for i, n in zip(ids, names) if prefix and str(n).casefold().startswith(wanted)] if not exact else exact
    if len(starts) == 1:
        return starts[0]
    label = dict(zip(ids, names))
    if starts:
        listed = "; ".join(f"{i} {label[i]}" for i in starts[:8]) + (
            f"; and {len(starts) - 8} more" if len(starts) > 8 else ""
        )
        raise UnknownName([Problem(option, f"names {len(starts)} {what}s ({listed}): give the id", value=text)])
    by_name = {str(n).casefold(): i for i, n in zip(ids, names)}
    close = difflib.get_close_matches(wanted, list(by_name) + [i.casefold() for i in ids], n=5, cutoff=0.6)
    suggestions = list(dict.fromkeys(by_name.get(c) or next(i for i in ids if i.casefold() == c) for c in close))
    if suggestions:
        hint = "; nearest: " + ", ".join(f"{i} ({label[i]})" for i in suggestions)
    elif len(ids) <= 20:
        hint = "; known: " + ", ".join(f"{i} ({label[i]})" for i in ids)
    else:
        hint = f"; `allocator list {what}s` lists them"
    raise UnknownName([Problem(option, f"no {what} with this id or name{hint}", value=text)])


def sites_of_province(instance, fixings: dict[str, tuple[str, ...]], province: str, why: str) -> None:
    """Refuse sites (by option, e.g. ``{"--force-site": ("L-GM0687",)}``) that lie in another province than
    ``province``, naming where each lies and ``why`` that matters."""
    sites, names = instance.sites, instance.provinces["name"]
    problems = [
        Problem(
            option,
            f"site {s} ({sites.at[s, 'name']}) lies in province {sites.at[s, 'province']} "
            f"({names[sites.at[s, 'province']]}), not in {province} ({names[province]}): {why}",
            value=s,
        )
        for option, ids in fixings.items()
        for s in ids
        if s in sites.index and sites.at[s, "province"] != province
    ]
    if problems:
        raise SiteElsewhere(problems)
