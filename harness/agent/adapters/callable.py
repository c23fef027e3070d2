"""A team's own agent as the agent under test: any function named ``module:function``.

The contract, for ``agent = "agent:answer"``::

    def answer(question: str) -> str: ...                       # or
    def answer(question: str, ctx: CaseContext) -> str: ...     # or either one as ``async def``

- ``question`` is the case's user message (the last one, for a conversation; ``ctx.messages`` has all of it).
- ``ctx`` (passed when the function takes a second positional parameter) is a :class:`CaseContext`: the variant
  (model, prompt version, params), run id, epoch, seed, endpoint and the case's id, tags and metadata.
- It returns the answer: a ``str`` (``output_text``), or a pydantic model, dict or list (``output_data``, and its
  JSON as ``output_text``). Anything else is kept as ``str(value)``.
- An exception is the run's result (status ``error``, with the exception on the root span), not a crash.
- Sync functions run in a worker thread, async ones on the runner's loop. Calls through the official openai client
  and tools decorated with :func:`harness.agent.instrument.trace_tool` become spans (see that module).
- The endpoint: the function builds its own client. ``openai.OpenAI()`` reads ``OPENAI_BASE_URL`` and
  ``OPENAI_API_KEY``, which the runner points at the scripted server when no endpoint is configured; ``ctx.base_url``
  has the job's endpoint for code that passes it explicitly.

The module is imported from the current directory (put on ``sys.path``), so run agenteval from the project root.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness._imports import import_attribute
from harness.agent.adapters._common import (
    Outcome,
    exception_event,
    finish_run,
    inner_timeout,
    input_messages,
    start_run,
)
from harness.agent.instrument import active_run, install
from harness.agent.redaction import Redactor
from harness.agent.under_test import CaseJob
from harness.errors import ConfigError
from harness.models.cases import Dataset, Variant
from harness.models.traces import RunTrace


@dataclass(frozen=True)
class CaseContext:
    """What a user agent may know about the case it runs (the optional second parameter)."""

    case_id: str
    """The dataset case."""
    variant: Variant
    """The variant: ``model``, ``prompt_version``, ``temperature``, ``max_tokens``, ``params`` (anything else)."""
    run_id: str
    """This run's id (as stored in the trace store)."""
    epoch: int
    """Epoch number, from 1."""
    seed: int | None
    """Sampling seed for this execution (pass it to the model for reproducible reruns)."""
    base_url: str | None
    """The endpoint the runner chose for this job (also in ``OPENAI_BASE_URL`` when it started a scripted server)."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    """The case's input as chat messages: the whole conversation, for conversation inputs."""
    tags: list[str] = field(default_factory=list)
    """The case's tags."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """The case's metadata."""

    @property
    def model(self) -> str | None:
        """The variant's model, if it names one."""
        return self.variant.model

    @property
    def params(self) -> dict[str, Any]:
        """The variant's free-form parameters."""
        return self.variant.params


class CallableUnderTest:
    """Runs each case through a user function, tracing its openai calls and traced tools."""

    def __init__(self, spec: str, *, root: str | Path | None = None, redactor: Redactor | None = None) -> None:
        """Import the function now, so that a wrong spec fails before anything runs.

        Args:
            spec: ``module:function`` (``function`` may be dotted: ``module:Class.method`` of an importable object).
            root: the folder to import from (put first on ``sys.path``); the current directory by default.
            redactor: PII redaction of the stored trace (on by default).

        Raises:
            ConfigError: the module cannot be imported, has no such attribute, or it is not a usable function.
        """
        self.name = spec
        self.redactor = redactor if redactor is not None else Redactor()
        # Before the user's module is imported: a with_raw_response view built before the patch would bypass it.
        install()
        self.function = load_function(spec, root)
        self.takes_context = _takes_context(spec, self.function)
        self.is_async = inspect.iscoroutinefunction(self.function) or inspect.iscoroutinefunction(
            type(self.function).__call__  # callable objects with an async __call__
        )

    def tool_names(self, dataset: Dataset) -> set[str] | None:
        """Unknown: user agents bring their own tools."""
        return None

    async def run_case(self, job: CaseJob) -> RunTrace:
        """Call the function once; whatever it raises or however long it takes, a trace comes back."""
        case, variant = job.case, job.variant
        run = start_run(job, self.name, variant.model or "unknown", variant.prompt_version)
        ctx = CaseContext(
            case_id=case.id,
            variant=variant,
            run_id=job.run_id,
            epoch=job.epoch,
            seed=job.seed,
            base_url=job.base_url,
            messages=input_messages(case),
            tags=list(case.tags),
            metadata=dict(case.metadata),
        )
        args: tuple[Any, ...] = (case.user_message, ctx) if self.takes_context else (case.user_message,)
        deadline = inner_timeout(job.timeout_s)
        with active_run(run.tracer, run.root):
            try:
                async with asyncio.timeout(deadline):
                    value = await self._call(args)
                text, data = render_output(value)
                outcome = Outcome("completed", output_text=text, output_data=data)
            except TimeoutError:
                # A sync function keeps running in its thread; its later calls are no longer recorded.
                outcome = Outcome("timeout", f"the agent did not return within {deadline:g}s")
            except Exception as exc:  # the user's agent failed: that is this run's result
                exception_event(run.root, exc)
                outcome = Outcome("error", f"{type(exc).__name__}: {exc}", type(exc).__name__, str(exc))
        return finish_run(job, run, outcome, self.redactor)

    async def _call(self, args: tuple[Any, ...]) -> Any:
        if self.is_async:
            return await self.function(*args)
        # to_thread copies the context: the active run is visible to the openai patch in the worker thread.
        value = await asyncio.to_thread(self.function, *args)
        return await value if inspect.isawaitable(value) else value


def render_output(value: Any) -> tuple[str | None, Any]:
    """``(output_text, output_data)`` for a user function's return value."""
    if value is None or isinstance(value, str):
        return value, None
    if isinstance(value, BaseModel):
        return value.model_dump_json(), value.model_dump(mode="json")
    if isinstance(value, dict | list | tuple):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text, json.loads(text)
    return str(value), None


def load_function(spec: str, root: str | Path | None = None) -> Callable[..., Any]:
    """Import ``module:function`` from ``root`` (default: the current directory) or anywhere on ``sys.path``.

    Raises:
        ConfigError: with what is wrong and how to fix it.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"Agent '{spec}' is not a function reference. Use module:function, e.g. agent:answer for the function "
            "answer in agent.py (or one of the built-in agents: support, tool-calling, recorded)."
        )
    target = import_attribute(spec, "Agent", root)
    if not callable(target):
        raise ConfigError(
            f"Agent '{spec}': '{attribute}' is a {type(target).__name__}, not a function. Name a function that takes "
            f"the case's input, e.g. def {attribute.split('.')[-1]}(question: str) -> str."
        )
    function: Callable[..., Any] = target
    return function


def _takes_context(spec: str, function: Callable[..., Any]) -> bool:
    """Whether to pass a :class:`CaseContext` (the function takes two positional arguments)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # some builtins have no signature: pass the question only
        return False
    positional = [
        p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    variadic = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if len(required) > 2 or (not positional and not variadic):
        raise ConfigError(
            f"Agent '{spec}' takes {len(required) if positional else 'no'} required positional parameter(s); an agent "
            "function takes the question, and optionally a CaseContext: def answer(question: str, ctx=None) -> str."
        )
    return len(positional) >= 2 or variadic
