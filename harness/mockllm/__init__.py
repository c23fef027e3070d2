"""The scripted model server: an OpenAI-compatible HTTP server on loopback that needs no key and no network.

Behaviour comes from a scenario (YAML rules matched against the conversation); faults (rate limits, 5xx, stalls,
dropped connections, broken bodies) are injected by schedule or per request. Identical requests get byte-identical
responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness._lazy import lazy_names

# Names are resolved on first use: the eval runner and most commands never start a server, and the server's modules
# (scenarios with their jinja2 templates, faults, the HTTP engine) take a tenth of a second to import.
_WHERE: dict[str, str] = {
    "FaultPlan": "harness.mockllm.faults",
    "FaultSpec": "harness.mockllm.faults",
    "Schedule": "harness.mockllm.faults",
    "load_faults": "harness.mockllm.faults",
    "parse_faults": "harness.mockllm.faults",
    "resolve_faults": "harness.mockllm.faults",
    "Alternative": "harness.mockllm.scenario",
    "ModelInfo": "harness.mockllm.scenario",
    "Reply": "harness.mockllm.scenario",
    "Rule": "harness.mockllm.scenario",
    "Scenario": "harness.mockllm.scenario",
    "TextMatch": "harness.mockllm.scenario",
    "ToolCallSpec": "harness.mockllm.scenario",
    "ToolResultMatch": "harness.mockllm.scenario",
    "When": "harness.mockllm.scenario",
    "load_scenario": "harness.mockllm.scenario",
    "scenario_from_text": "harness.mockllm.scenario",
    "bundled_scenarios": "harness.mockllm._bundled",
    "MockLLMServer": "harness.mockllm.server",
    "background_server": "harness.mockllm.server",
}

__all__ = [
    "Alternative",
    "FaultPlan",
    "FaultSpec",
    "MockLLMServer",
    "ModelInfo",
    "Reply",
    "Rule",
    "Scenario",
    "Schedule",
    "TextMatch",
    "ToolCallSpec",
    "ToolResultMatch",
    "When",
    "background_server",
    "bundled_scenarios",
    "load_faults",
    "load_scenario",
    "parse_faults",
    "resolve_faults",
    "scenario_from_text",
]

if TYPE_CHECKING:
    from harness.mockllm._bundled import bundled_scenarios
    from harness.mockllm.faults import FaultPlan, FaultSpec, Schedule, load_faults, parse_faults, resolve_faults
    from harness.mockllm.scenario import (
        Alternative,
        ModelInfo,
        Reply,
        Rule,
        Scenario,
        TextMatch,
        ToolCallSpec,
        ToolResultMatch,
        When,
        load_scenario,
        scenario_from_text,
    )
    from harness.mockllm.server import MockLLMServer, background_server


__getattr__ = lazy_names(__name__, _WHERE, globals())
