"""The scripted model server: an OpenAI-compatible HTTP server on loopback that needs no key and no network.

Behaviour comes from a scenario (YAML rules matched against the conversation); faults (rate limits, 5xx, stalls,
dropped connections, broken bodies) are injected by schedule or per request. Identical requests get byte-identical
responses.
"""

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
    bundled_scenarios,
    load_scenario,
    scenario_from_text,
)
from harness.mockllm.server import MockLLMServer, background_server

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
