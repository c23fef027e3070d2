"""The reference agent runtime: a tool loop with production guards, recording every run as a trace.

The reference support agent (an online shop's support desk) lives in :mod:`harness.agent.support`; build it with
:func:`harness.agent.reference.support_agent`.
"""

from harness.agent.guards import ApprovalPolicy, ApprovalRequest, CircuitBreaker, CircuitBreakers, Limits
from harness.agent.prompts import Prompt, available_versions
from harness.agent.redaction import NO_REDACTION, Redactor
from harness.agent.runtime import Agent, AgentResult, ModelSettings, TraceSink
from harness.agent.tools import Tool, ToolContext, ToolError, tool

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
