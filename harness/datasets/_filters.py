"""Select cases with ``--filter`` expressions: by tag, by id glob, or either; ``-`` in front excludes."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from harness.errors import ConfigError
from harness.models.cases import Case

FILTER_HELP = (
    "`tag:NAME` (the tag, or tags under it: `tag:injection` keeps `injection/indirect`), `id:GLOB` (e.g. "
    "`id:refund-*`), or a bare word matching either; several filters keep cases matching any of them; a leading `-` "
    "excludes (`-tag:slow`)."
)
"""How filters read, for help texts."""


def filter_cases(cases: Sequence[Case], filters: Sequence[str] = (), limit: int | None = None) -> list[Case]:
    """The cases that the filters keep, in their original order, at most ``limit`` of them.

    Args:
        cases: The cases to choose from.
        filters: ``tag:NAME`` (a tag equal to NAME or under it, ``NAME/...``), ``id:GLOB`` (fnmatch on the case id,
            case-sensitive) or a bare word that matches a tag or an id glob. A case is kept when it matches any
            filter without ``-`` (or there is none) and no filter with a leading ``-``.
        limit: Keep at most this many cases (``None``: all).

    Raises:
        ConfigError: A filter is empty (``tag:``, ``-``) or ``limit`` is negative.
    """
    if limit is not None and limit < 0:
        raise ConfigError(f"--limit must be 0 or more, not {limit}.")
    include: list[str] = []
    exclude: list[str] = []
    for text in filters:
        negated = text.startswith("-")
        body = text[1:] if negated else text
        kind, _, value = body.partition(":")
        if not body or (kind in ("tag", "id") and not value):
            raise ConfigError(f"Empty filter {text!r}. Filters are {FILTER_HELP}")
        (exclude if negated else include).append(body)
    kept = [
        case
        for case in cases
        if (not include or any(_matches(case, f) for f in include)) and not any(_matches(case, f) for f in exclude)
    ]
    return kept if limit is None else kept[:limit]


def _matches(case: Case, expression: str) -> bool:
    kind, _, value = expression.partition(":")
    if kind == "tag":
        return _has_tag(case, value)
    if kind == "id":
        return fnmatchcase(case.id, value)
    # A bare word; case ids may contain ':' themselves, so an unknown prefix is part of the word.
    return _has_tag(case, expression) or fnmatchcase(case.id, expression)


def _has_tag(case: Case, name: str) -> bool:
    return any(tag == name or tag.startswith(f"{name}/") for tag in case.tags)
