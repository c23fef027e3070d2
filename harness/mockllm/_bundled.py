"""The scenarios that ship with agenteval: a light module, so that ``agenteval --help`` can name them without
loading the server."""

from __future__ import annotations

from importlib import resources

BUNDLED = resources.files("harness.mockllm") / "scenarios"


def bundled_scenarios() -> list[str]:
    """Names of the scenarios that ship with agenteval."""
    return sorted(p.name.removesuffix(".yaml") for p in BUNDLED.iterdir() if p.name.endswith(".yaml"))
