"""Agents under test: the adapters the eval runner drives (see :mod:`harness.agent.under_test`).

``make_agent_under_test(spec)`` turns a dataset's or the config's ``agent`` value into one:

- ``support``: the reference support agent, fresh per case, with the case's tool-result overrides;
- ``tool-calling``: one model call offering the case's ``tools``; the calls it makes are recorded, not executed;
- ``recorded``: the case's ``transcript`` turned into a trace, with no model call;
- ``module:function``: a team's own agent, traced through :mod:`harness.agent.instrument`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness._lazy import lazy_names
from harness.agent.guards import Limits
from harness.agent.under_test import AgentUnderTest
from harness.errors import ConfigError
from harness.models.cases import AGENT_KINDS

if TYPE_CHECKING:
    from harness.agent.adapters.callable import CallableUnderTest, CaseContext
    from harness.agent.adapters.recorded import RecordedUnderTest
    from harness.agent.adapters.support import SupportUnderTest
    from harness.agent.adapters.tool_calling import ToolCallingUnderTest

# Each adapter is imported when it is asked for: an eval run uses one, and the support agent alone (its shop, tools
# and prompts) takes tens of milliseconds to import.
_WHERE: dict[str, str] = {
    "CallableUnderTest": "harness.agent.adapters.callable",
    "CaseContext": "harness.agent.adapters.callable",
    "RecordedUnderTest": "harness.agent.adapters.recorded",
    "SupportUnderTest": "harness.agent.adapters.support",
    "ToolCallingUnderTest": "harness.agent.adapters.tool_calling",
}


def make_agent_under_test(spec: str, *, limits: Limits | None = None, root: str | Path | None = None) -> AgentUnderTest:
    """The agent under test named by ``spec``: ``support``, ``tool-calling``, ``recorded`` or ``module:function``.

    Args:
        spec: the ``agent`` of a dataset or of ``[tool.agenteval]``.
        limits: guard settings for the built-in agents that call a model (retries, backoff, timeouts).
        root: the project root, where ``module:function`` is imported from (default: the current directory).

    Raises:
        ConfigError: an unknown name, or a ``module:function`` that cannot be imported (the message says why and
            how to fix it).
    """
    name = spec.strip()
    if name == "support":
        from harness.agent.adapters.support import SupportUnderTest

        return SupportUnderTest(limits=limits)
    if name == "tool-calling":
        from harness.agent.adapters.tool_calling import ToolCallingUnderTest

        return ToolCallingUnderTest(limits=limits)
    if name == "recorded":
        from harness.agent.adapters.recorded import RecordedUnderTest

        return RecordedUnderTest()
    if ":" in name:
        from harness.agent.adapters.callable import CallableUnderTest

        return CallableUnderTest(name, root=root)
    raise ConfigError(
        f"Unknown agent '{spec}'. Use one of the built-in agents ({', '.join(AGENT_KINDS)}) or your own function as "
        "module:function, e.g. agent:answer for answer() in agent.py."
    )


__all__ = [
    "CallableUnderTest",
    "CaseContext",
    "RecordedUnderTest",
    "SupportUnderTest",
    "ToolCallingUnderTest",
    "make_agent_under_test",
]


__getattr__ = lazy_names(__name__, _WHERE, globals())
