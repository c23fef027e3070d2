"""Import a user's object named ``module:attribute`` (an agent function, a scorer, an output model) from the project."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any

from harness.errors import ConfigError


def import_attribute(spec: str, what: str, root: str | Path | None = None) -> Any:
    """The object named ``module:attribute`` (dotted attributes allowed), imported from ``root`` (default: the current
    directory, put on ``sys.path`` as when running a script there) or anywhere on ``sys.path``.

    Raises:
        ConfigError: ``{what} '{spec}' cannot be imported: ...`` with what is wrong and how to fix it.
    """
    module_name, _, attribute = spec.partition(":")
    failed = f"{what} '{spec}' cannot be imported"
    if not module_name or not attribute:
        raise ConfigError(f"{failed}: name it as module:attribute, e.g. mymodule:name for name in mymodule.py.")
    folder = str(Path(root).resolve()) if root is not None else os.getcwd()
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            path = module_name.replace(".", "/")
            raise ConfigError(
                f"{failed}: module '{module_name}' was not found (looked in {folder} and on sys.path). Run agenteval "
                f"from the project root that contains {path}.py (or {path}/__init__.py), or add its folder to "
                "PYTHONPATH."
            ) from None
        raise ConfigError(
            f"{failed}: importing '{module_name}' failed: {exc}. Install the missing package in the environment "
            "agenteval runs in."
        ) from exc
    except Exception as exc:
        raise ConfigError(
            f"{failed}: importing '{module_name}' raised {type(exc).__name__}: {exc}. Fix the module so that it "
            f"imports (python -c 'import {module_name}')."
        ) from exc
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            functions = sorted(
                name
                for name, value in vars(module).items()
                if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__
            )
            listed = ", ".join(functions) if functions else "none"
            raise ConfigError(
                f"{failed}: module '{module_name}' ({getattr(module, '__file__', '?')}) has no attribute "
                f"'{attribute}'. Functions defined there: {listed}."
            )
        target = getattr(target, part)
    return target
