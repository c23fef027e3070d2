"""Agents under test: one small protocol the eval runner drives, whatever the agent is.

Built in: the reference ``support`` agent, a ``tool-calling`` model adapter (offers a case's tool schemas to a model
and records the calls it makes), a ``recorded`` adapter (evaluates a transcript given in the case), and any user
callable named ``module:function`` (see :mod:`harness.agent.adapters`).

The runner owns the run id, writes the ``started`` row, and stores the returned trace; an adapter never writes to the
trace store itself and never raises for a failure of the agent: that becomes a run with status ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.models.cases import Case, Dataset, Variant
from harness.models.traces import RunTrace


@dataclass(frozen=True)
class CaseJob:
    """One execution of a case: what the runner hands to an agent under test."""

    case: Case
    """The case."""
    variant: Variant
    """The variant to run it under."""
    run_id: str
    """The run id to use (the runner has already recorded it as ``started``)."""
    epoch: int
    """Epoch number, from 1."""
    seed: int | None
    """Sampling seed for this execution (differs per epoch, so epochs vary like real reruns)."""
    base_url: str | None
    """Endpoint to call: the variant's, the configured one, or the in-process scripted server."""
    timeout_s: float
    """Per-case wall-clock limit (the runner also enforces it)."""
    labels: dict[str, Any] = field(default_factory=dict)
    """Run-record fields the runner sets afterwards (eval_run_id, dataset, ...), for adapters that want them."""
    client: Any = None
    """An ``openai.AsyncOpenAI`` for ``base_url`` shared by every case of the eval run (owned and closed by the
    runner). Reuse it: a client per case costs a TLS context and a connection pool each (~30 ms)."""


class AgentUnderTest(Protocol):
    """What the eval runner needs from an agent."""

    name: str
    """Shown in reports (``support``, ``tool-calling``, ``module:function``)."""

    def tool_names(self, dataset: Dataset) -> set[str] | None:
        """Tools this agent can call for ``dataset`` (to reject expectations naming unknown tools before anything
        runs); ``None`` when unknown (user agents)."""
        ...

    async def run_case(self, job: CaseJob) -> RunTrace:
        """Execute one case and return its trace (run record with ``job.run_id``, spans)."""
        ...
