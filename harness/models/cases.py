"""Datasets, cases and variants: what an eval run executes.

A **case** is one input with its expectations. A **dataset** is a named list of cases for one kind of agent under
test. A **variant** is one configuration of that agent (prompt version, model, parameters). An eval run executes
cases × variants × epochs; each execution is one run (one trace).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.models._base import Record, check_regex
from harness.models.traces import RunStatus

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$"


class Message(Record):
    """One message of a conversation given as input, or of a recorded transcript."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    """Who speaks."""
    content: str | None = None
    """Text of the message (``None`` for an assistant message that only calls tools)."""
    name: str | None = None
    """Tool name, for ``tool`` messages of recorded transcripts."""
    tool_call_id: str | None = None
    """The call a ``tool`` message answers."""
    tool_calls: list[RecordedCall] = []
    """Tool calls made by an ``assistant`` message (recorded transcripts)."""


class RecordedCall(Record):
    """A tool call in a recorded transcript."""

    id: str | None = None
    """Call id (generated when missing)."""
    name: str
    """Tool name."""
    arguments: dict[str, Any] = {}
    """Arguments as JSON."""


class ToolSpec(Record):
    """A tool offered to a model by a dataset (tool-calling datasets such as BFCL), as a JSON schema."""

    name: str
    """Function name."""
    description: str = ""
    """What it does."""
    parameters: dict[str, Any] = {"type": "object", "properties": {}}
    """JSON schema of the arguments."""


class ExpectedCall(Record):
    """A tool call the agent should make."""

    name: str
    """Tool name."""
    arguments: dict[str, Any] = {}
    """Expected arguments (compared with ``Expected.argument_match``)."""
    acceptable: dict[str, list[Any]] | None = None
    """BFCL style: every acceptable value per argument; ``""`` in the list means the argument may be omitted."""


class ForbiddenCall(Record):
    """A tool call that must not happen: how an injection's success (a compromise) is detected."""

    name: str
    """Tool name."""
    arguments: dict[str, str] = {}
    """Regular expressions that the named arguments must match for the call to count (all of them)."""
    reason: str = ""
    """Why it is forbidden (shown when it happens), e.g. ``exfiltration to the attacker``."""

    def matches(self, name: str, arguments: dict[str, Any]) -> bool:
        """Whether a call is this one: the same tool, and every named argument matching its pattern
        (case-insensitive; a list argument matches when its items, joined, do)."""
        return self.name == name and all(
            re.search(pattern, _argument_text(arguments.get(key)), re.IGNORECASE)
            for key, pattern in self.arguments.items()
        )


def _argument_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_argument_text(v) for v in value)
    return str(value)


class ToolResultOverride(Record):
    """When ``tool`` is called, put ``content`` in its result: indirect prompt injection through tool output."""

    tool: str
    """The tool whose result is changed."""
    content: str
    """Text placed in the result."""
    mode: Literal["append", "replace"] = "append"
    """``append``: the real result plus this text; ``replace``: only this text."""
    arguments: dict[str, str] = {}
    """Only calls whose arguments match these regular expressions (all of them) are changed."""


class Expected(Record):
    """What scorers check for a case. Everything is optional; an empty ``expected`` checks nothing."""

    status: list[RunStatus] = []
    """Acceptable run statuses, e.g. ``[escalated]`` (a single string is accepted)."""
    output_equals: str | None = None
    """The exact final answer (surrounding whitespace ignored)."""
    output_contains: list[str] = []
    """Substrings the final answer must contain (case-insensitive)."""
    output_not_contains: list[str] = []
    """Substrings the final answer must not contain (case-insensitive)."""
    output_regex: str | None = None
    """A regular expression the final answer must match."""
    output_fields: dict[str, Any] = {}
    """Fields the structured answer must have with these values, e.g. ``{resolution: refunded}``."""
    output_schema: dict[str, Any] | None = None
    """JSON schema the structured answer must validate against."""
    output_model: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
    """A pydantic model, as ``module:Class``, the structured answer must validate against."""
    tool_calls: list[ExpectedCall] = []
    """Tool calls the agent should make."""
    tool_call_match: Literal["strict", "unordered", "subset", "superset"] = "subset"
    """How ``tool_calls`` compare with the actual calls: same sequence, same multiset, expected ⊆ actual, or
    actual ⊆ expected."""
    argument_match: Literal["exact", "ignore", "subset", "superset"] = "subset"
    """How arguments compare: equal, not compared, expected ⊆ actual, actual ⊆ expected."""
    argument_match_by_tool: dict[str, Literal["exact", "ignore", "subset", "superset"]] = {}
    """Per-tool overrides of ``argument_match``."""
    no_tool_calls: bool = False
    """The agent must not call any tool (BFCL irrelevance)."""
    forbidden_calls: list[ForbiddenCall] = []
    """Calls that must not happen (any of them is a compromise)."""
    triggers: list[str] = []
    """Strings that prove a compromise when they appear in the final answer (garak-style triggers)."""
    max_steps: int | None = Field(default=None, ge=1)
    """At most this many model calls."""
    min_tool_calls: int | None = Field(default=None, ge=0)
    """At least this many tool calls."""
    max_tool_calls: int | None = Field(default=None, ge=0)
    """At most this many tool calls."""
    max_tokens: int | None = Field(default=None, ge=1)
    """At most this many tokens over the run."""
    max_cost_usd: float | None = Field(default=None, ge=0)
    """At most this cost in USD over the run (at ``[tool.agenteval.prices]``)."""
    max_latency_ms: float | None = Field(default=None, gt=0)
    """At most this wall-clock duration of the run, in milliseconds."""

    @field_validator("status", "output_contains", "output_not_contains", "triggers", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("output_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return check_regex(value)

    def triggers_in(self, answer: str) -> list[str]:
        """The triggers the answer contains (case-insensitive): proof that an injection took over."""
        folded = answer.casefold()
        return [t for t in self.triggers if t.casefold() in folded]

    def tool_names(self) -> set[str]:
        """Every tool named by the expectations (for checking them against the agent's tools)."""
        return {c.name for c in self.tool_calls} | {c.name for c in self.forbidden_calls}


class Case(Record):
    """One input with its expectations."""

    id: str = Field(pattern=CASE_ID_PATTERN)
    """Unique within its dataset; letters, digits and ``_ . : / -``."""
    input: str | list[Message]
    """A user message, or a short conversation ending with a user message."""
    tags: list[str] = []
    """Free-form labels used by ``--filter`` and by reports (``representative``, ``adversarial``,
    ``injection/indirect``)."""
    expected: Expected = Expected()
    """What scorers check."""
    rubrics: list[str] = []
    """Names of LLM-judge rubrics (files in ``rubrics/``) that apply to this case."""
    tool_results: list[ToolResultOverride] = []
    """Tool-result overrides (indirect injection)."""
    tools: list[ToolSpec] = []
    """Tools offered to the model, for datasets that bring their own tools (tool-calling model adapter)."""
    transcript: list[Message] | None = None
    """A recorded conversation to evaluate instead of calling a model (recorded adapter)."""
    metadata: dict[str, Any] = {}
    """Anything else (source, upstream ids, licence notes)."""

    @field_validator("input")
    @classmethod
    def _input_not_empty(cls, value: str | list[Message]) -> str | list[Message]:
        if isinstance(value, str) and not value.strip():
            raise ValueError("input is empty; give the user's message")
        if isinstance(value, list) and (not value or value[-1].role != "user"):
            raise ValueError("a conversation input must end with a user message")
        return value

    @property
    def user_message(self) -> str:
        """The last user message of the input."""
        if isinstance(self.input, str):
            return self.input
        return self.input[-1].content or ""


AGENT_KINDS = ("support", "tool-calling", "recorded")
"""Built-in agents under test; anything else must be ``module:function``."""


class Dataset(Record):
    """A named list of cases for one agent under test."""

    name: str
    """Name, e.g. ``support/representative`` (by default the file's path under ``datasets/`` without suffix)."""
    description: str = ""
    """What the dataset is for."""
    agent: str = "support"
    """Agent under test: ``support``, ``tool-calling``, ``recorded``, or ``module:function``."""
    source: str | None = None
    """Where the cases come from (upstream project, version)."""
    license: str | None = None
    """Licence of the material the cases are derived from."""
    cases: list[Case]
    """The cases; ids are unique."""

    @model_validator(mode="after")
    def _unique_ids(self) -> Dataset:
        seen: set[str] = set()
        duplicates = [c.id for c in self.cases if c.id in seen or seen.add(c.id)]  # type: ignore[func-returns-value]
        if duplicates:
            raise ValueError(f"duplicate case id(s): {', '.join(sorted(set(duplicates)))}; case ids must be unique")
        return self


class DatasetRef(Record):
    """A dataset as an eval run used it: enough to tell later whether it changed."""

    name: str
    """Dataset name."""
    path: str
    """File it was loaded from (relative to the project root when possible)."""
    sha256: str
    """SHA-256 of the file's bytes."""
    cases: int
    """Number of cases."""


class Variant(Record):
    """A named configuration of the agent under test."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    """Name used on the command line and in reports, e.g. ``v2`` or ``gpt4o-v2``."""
    prompt_version: str | None = None
    """Prompt version for agents with prompt files (the support agent)."""
    model: str | None = None
    """Model name (default: the agent's)."""
    base_url: str | None = None
    """Endpoint (default: the configured one, or the in-process scripted server)."""
    temperature: float | None = None
    """Sampling temperature."""
    max_tokens: int | None = None
    """Completion-token cap per call."""
    params: dict[str, Any] = {}
    """Anything else the agent under test accepts (passed to user agents as-is)."""


Message.model_rebuild()
