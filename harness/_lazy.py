"""Packages that import their public names on first use (PEP 562), so that importing a package costs nothing until
one of its names is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, where: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each name of ``where`` (name -> module) when it is first asked for, and
    keeps it in ``namespace`` (the package's ``globals()``) so that later lookups skip it.

    Use: ``__getattr__ = lazy_names(__name__, _WHERE, globals())``, with the same names imported under
    ``TYPE_CHECKING`` for type checkers.
    """

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
