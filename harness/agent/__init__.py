"""The reference agent runtime: a tool loop with production guards, recording every run as a trace.

The reference support agent (an online shop's support desk) lives in :mod:`harness.agent.support`; build it with
:func:`harness.agent.reference.support_agent`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness._lazy import lazy_names

if TYPE_CHECKING:
    from harness.agent.guards import ApprovalPolicy, ApprovalRequest, CircuitBreaker, CircuitBreakers, Limits
    from harness.agent.prompts import Prompt, available_versions
    from harness.agent.redaction import NO_REDACTION, Redactor
    from harness.agent.runtime import Agent, AgentResult, ModelSettings, TraceSink
    from harness.agent.tools import Tool, ToolContext, ToolError, tool

# Each name is imported when it is first asked for: an eval run of another agent kind, or the trace writer that only
# wants the redactor, need not load the runtime, its prompts (jinja2) and tools (about 60 ms).
_WHERE: dict[str, str] = {
    **dict.fromkeys(
        ("ApprovalPolicy", "ApprovalRequest", "CircuitBreaker", "CircuitBreakers", "Limits"), "harness.agent.guards"
    ),
    **dict.fromkeys(("Prompt", "available_versions"), "harness.agent.prompts"),
    **dict.fromkeys(("NO_REDACTION", "Redactor"), "harness.agent.redaction"),
    **dict.fromkeys(("Agent", "AgentResult", "ModelSettings", "TraceSink"), "harness.agent.runtime"),
    **dict.fromkeys(("Tool", "ToolContext", "ToolError", "tool"), "harness.agent.tools"),
}

__all__ = [
    "NO_REDACTION",
    "Agent",
    "AgentResult",
    "ApprovalPolicy",
    "ApprovalRequest",
    "CircuitBreaker",
    "CircuitBreakers",
    "Limits",
    "ModelSettings",
    "Prompt",
    "Redactor",
    "Tool",
    "ToolContext",
    "ToolError",
    "TraceSink",
    "available_versions",
    "tool",
]


__getattr__ = lazy_names(__name__, _WHERE, globals())
