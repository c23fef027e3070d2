"""The layers of ARCHITECTURE.md: a module may import only from layers below it; siblings do not import each other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Top to bottom. Names are first-level modules of `harness` (packages or modules). `_yaml` (file loading with
# file:line errors, shared by scenarios, datasets and rubrics) sits just above `errors`; `_lazy` (packages that
# import their names on first use) sits beside it.
LAYERS: list[set[str]] = [
    {"cli"},
    {"api"},
    {"runner", "scorers", "reporting"},
    {"agent", "mockllm", "replay", "traces", "datasets"},
    {"config"},
    {"models"},
    {"_yaml", "_imports"},
    {"errors", "_lazy"},
]


def _layer_of(name: str) -> int:
    for index, layer in enumerate(LAYERS):
        if name in layer:
            return index
    raise AssertionError(f"harness.{name} is in no layer; add it to LAYERS in {__file__}")


def _harness_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "harness" and len(parts) > 1 and parts[1] != "__version__":
                found.add(parts[1])
    return found


def test_every_module_imports_only_downwards() -> None:
    violations = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        relative = path.relative_to(ROOT / "harness")
        if relative.parts == ("__init__.py",):
            continue
        own = relative.parts[0].removesuffix(".py")
        own_layer = _layer_of(own)
        for target in _harness_imports(path):
            if target == own:
                continue
            if _layer_of(target) <= own_layer:
                violations.append(f"harness/{relative} imports harness.{target}")
    assert not violations, "\n".join(violations)


def test_plugin_uses_only_the_api() -> None:
    allowed = {"api", "errors", "models", "config"}
    for path in (ROOT / "pytest_agenteval").rglob("*.py"):
        assert _harness_imports(path) <= allowed, path
