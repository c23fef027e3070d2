"""Scenarios: the scripted model's behaviour, declared as rules in a YAML file.

A request is answered by the first rule whose ``when`` matches the conversation; when none does, by ``fallback``.
A rule answers with text, tool calls, structured JSON, or a weighted choice among ``alternatives``::

    name: support-demo
    rules:
      - name: look up the order
        when:
          last_user: {regex: "order #?(?P<order_id>\\d+)"}
          tools_offered: [get_order]
          tools_not_called: [get_order]
        tool_calls:
          - name: get_order
            arguments: {order_id: "{{ match.order_id }}"}
      - name: answer from the tool result
        when: {last_tool_result: {tool: get_order, contains: shipped}}
        alternatives:                      # picked by temperature and the request's seed
          - {weight: 3, text: "Your order has shipped."}
          - {weight: 1, text: "It shipped; tracking follows by e-mail."}

Strings in ``text``, tool-call ``name``/``arguments``/``raw_arguments`` and ``json`` are jinja2 templates; they see
``last_user``, ``system``, ``model``, ``turn``, ``tools`` (names offered), ``last_tool_result`` (text),
``tool_json`` (the last tool result parsed as JSON, or none), ``match`` (groups of the ``regex`` tests that matched:
``match.name`` or ``match[1]``) and ``request`` (the whole request body).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
from pydantic import ConfigDict, Field, field_validator, model_validator

from harness import _yaml
from harness.errors import ScenarioError
from harness.mockllm._bundled import BUNDLED, bundled_scenarios
from harness.mockllm.faults import FaultSpec
from harness.models import Record, check_regex

TEMPLATE_NAMES = frozenset(
    {"last_user", "system", "model", "turn", "tools", "last_tool_result", "tool_json", "match", "request"}
)
Role = Literal["system", "developer", "user", "assistant", "tool"]

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@functools.lru_cache(maxsize=4096)
def compile_template(source: str) -> jinja2.Template:
    """Compile (and cache) a template; raise ``ValueError`` on syntax errors or unknown variables."""
    try:
        parsed = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"template syntax error in {source!r}: {exc.message}") from None
    unknown = jinja2.meta.find_undeclared_variables(parsed) - TEMPLATE_NAMES
    if unknown:
        raise ValueError(
            f"template {source!r} uses unknown variable(s) {', '.join(sorted(unknown))}; "
            f"available: {', '.join(sorted(TEMPLATE_NAMES))}"
        )
    return _ENV.from_string(source)


def is_template(text: str) -> bool:
    """Whether a string needs rendering at all (most scenario strings are literal)."""
    return "{{" in text or "{%" in text


def _check_templates(value: Any) -> None:
    if isinstance(value, str):
        if is_template(value):
            compile_template(value)
    elif isinstance(value, dict):
        for item in value.values():
            _check_templates(item)
    elif isinstance(value, list):
        for item in value:
            _check_templates(item)


class TextMatch(Record):
    """Tests on one piece of text; all given tests must pass. In YAML a plain string means ``{contains: ...}``."""

    contains: list[str] = []
    """Every one of these substrings must occur (a single string is accepted)."""
    not_contains: list[str] = []
    """None of these substrings may occur."""
    equals: str | None = None
    """The whole text must be exactly this (surrounding whitespace ignored)."""
    regex: str | None = None
    """A regular expression searched in the text; its groups are available to templates as ``match``."""
    ignore_case: bool = False
    """Compare without regard to case."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"contains": [data]}
        if isinstance(data, dict):
            data = dict(data)
            for key in ("contains", "not_contains"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
        return data

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return check_regex(value)

    def test(self, text: str | None) -> dict[str | int, str] | None:
        """Return the regex groups (empty when there is no regex) if ``text`` passes, else ``None``."""
        if text is None:
            return None
        folded = text.casefold() if self.ignore_case else text
        for needle in self.contains:
            if (needle.casefold() if self.ignore_case else needle) not in folded:
                return None
        for needle in self.not_contains:
            if (needle.casefold() if self.ignore_case else needle) in folded:
                return None
        if self.equals is not None:
            expected = self.equals.casefold() if self.ignore_case else self.equals
            if folded.strip() != expected.strip():
                return None
        if self.regex is None:
            return {}
        found = re.search(self.regex, text, re.IGNORECASE if self.ignore_case else 0)
        if found is None:
            return None
        groups: dict[str | int, str] = {0: found.group(0)}
        for index, value in enumerate(found.groups(), start=1):
            groups[index] = value if value is not None else ""
        for name, value in found.groupdict().items():
            groups[name] = value if value is not None else ""
        return groups


class ToolResultMatch(TextMatch):
    """Tests on a tool result (a ``tool`` message), optionally only results of the named tool."""

    tool: str | None = None
    """Only results of this tool count (resolved through the assistant's ``tool_call_id``)."""


class When(Record):
    """Conditions on the conversation; all given conditions must hold. An empty ``when`` matches every request."""

    model: TextMatch | None = None
    """Tests on the requested model name."""
    system: TextMatch | None = None
    """Tests on the system and developer messages, joined by newlines."""
    last_user: TextMatch | None = None
    """Tests on the last user message."""
    any_user: TextMatch | None = None
    """Passes when any user message passes these tests."""
    last_role: Role | None = None
    """Role of the last message: ``tool`` means the model is being shown tool results."""
    last_tool_result: ToolResultMatch | None = None
    """Tests on the most recent tool result (of the named tool, when ``tool`` is given)."""
    any_tool_result: ToolResultMatch | None = None
    """Passes when any tool result in the conversation passes these tests."""
    tools_offered: list[str] = []
    """Every one of these tools is offered in the request's ``tools``."""
    tools_not_offered: list[str] = []
    """None of these tools is offered."""
    tools_called: list[str] = []
    """The assistant has already called every one of these tools in this conversation."""
    tools_not_called: list[str] = []
    """The assistant has called none of these tools yet."""
    structured_output: bool | None = None
    """Whether the request asks for ``response_format`` ``json_schema``."""
    turn: int | None = Field(default=None, ge=0)
    """How many assistant messages the conversation already holds (0 for the first model call)."""


class ToolCallSpec(Record):
    """A tool call the model makes."""

    name: str
    """Name of the tool (template)."""
    arguments: dict[str, Any] = {}
    """Arguments as a JSON object; string values are templates."""
    raw_arguments: str | None = None
    """The arguments string sent verbatim instead of ``arguments`` (template): how to send malformed JSON."""
    id: str | None = None
    """Tool-call id; by default a stable id derived from the request."""

    @model_validator(mode="after")
    def _templates(self) -> ToolCallSpec:
        _check_templates([self.name, self.arguments, self.raw_arguments])
        return self


class Reply(Record):
    """What the model answers: text, structured JSON and/or tool calls."""

    text: str | None = None
    """Assistant message content (template). With ``json_schema`` requested it is sent as-is, valid or not."""
    json_: Any = Field(default=None, alias="json")
    """Structured content. With ``json_schema`` requested, missing fields are filled so the content validates."""
    tool_calls: list[ToolCallSpec] = []
    """Tool calls, several allowed (parallel tool calls)."""
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter"] | None = None
    """Override the finish reason (default: ``tool_calls`` when there are calls, else ``stop``)."""
    delay_ms: float = Field(default=0, ge=0)
    """Simulated latency before the answer, in milliseconds."""

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _templates(self) -> Reply:
        _check_templates([self.text, self.json_])
        return self

    def has_content(self) -> bool:
        """Whether the reply says anything at all."""
        return self.text is not None or self.json_ is not None or bool(self.tool_calls)


class Alternative(Reply):
    """One of a rule's weighted answers."""

    weight: float = Field(default=1.0, gt=0)
    """Relative weight; temperature 0 always picks the heaviest, higher temperatures flatten the odds."""


class Rule(Reply):
    """``when`` the conversation matches, answer with this rule's reply or one of its ``alternatives``."""

    name: str | None = None
    """Shown in logs and in the ``x-mockllm-rule`` response header."""
    when: When = When()
    """Conditions; all must hold."""
    alternatives: list[Alternative] = []
    """Weighted answers chosen by temperature and seed, instead of a single reply."""

    @model_validator(mode="after")
    def _one_answer(self) -> Rule:
        if self.alternatives and self.has_content():
            raise ValueError("give either alternatives or text/json/tool_calls, not both")
        if not self.alternatives and not self.has_content():
            raise ValueError("a rule needs an answer: text, json, tool_calls or alternatives")
        return self


class ModelInfo(Record):
    """A model the server lists under ``/v1/models``. A plain string is shorthand for ``{id: ...}``."""

    id: str
    """Model name."""
    context_window: int | None = Field(default=None, gt=0)
    """Prompt plus ``max_tokens`` above this many tokens fails with ``context_length_exceeded``, as providers do."""
    owned_by: str = "agenteval-mockllm"
    """Shown in the models list."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"id": data} if isinstance(data, str) else data


DEFAULT_FALLBACK = Reply(text="mockllm: no scenario rule matched. You said: {{ last_user }}")


class Scenario(Record):
    """A scripted model: listed models, ordered rules, the fallback answer, and faults to inject."""

    name: str = "default"
    """Shown in banners and in the ``x-mockllm-scenario`` response header."""
    description: str = ""
    """What this scenario is for."""
    models: list[ModelInfo] = [ModelInfo(id="mock-gpt"), ModelInfo(id="mock-gpt-mini")]
    """Models to list. Requests may name any model; a listed one with ``context_window`` enforces it."""
    rules: list[Rule] = []
    """Tried in order; the first whose ``when`` matches answers."""
    fallback: Reply | None = DEFAULT_FALLBACK
    """Answer when no rule matches; ``null`` makes an unmatched request fail with a 400 that says so."""
    faults: list[FaultSpec] = []
    """Faults injected by this scenario, before any given on the command line."""
    stream_delay_ms: float = Field(default=0, ge=0)
    """Pause between streamed chunks, in milliseconds (to exercise time-to-first-token measurements)."""

    def model_info(self, model: str) -> ModelInfo | None:
        """The listed model called ``model``, if any."""
        return next((m for m in self.models if m.id == model), None)


def load_scenario(source: str | Path | None = None) -> Scenario:
    """Load a scenario from a YAML file, or a bundled one by name (``None`` gives ``default``).

    Raises:
        ScenarioError: the file is missing, is not YAML, or does not describe a valid scenario; the message lists
            every problem with ``file:line`` and how to fix it.
    """
    if source is None:
        source = "default"
    path = Path(source)
    if not path.exists() and isinstance(source, str) and re.fullmatch(r"[\w-]+", source):
        bundled = BUNDLED / f"{source}.yaml"
        if not bundled.is_file():
            raise ScenarioError(
                f"Scenario {source!r} not found.",
                [
                    f"{source}: no such file, and no bundled scenario by that name "
                    f"(bundled: {', '.join(bundled_scenarios())}). Pass a path to a YAML file."
                ],
            )
        doc = _yaml.parse_yaml(bundled.read_text(encoding="utf-8"), Path(f"<bundled>/{source}.yaml"), ScenarioError)
    else:
        doc = _yaml.load_yaml(path, ScenarioError)
    return parse_scenario_document(doc)


def parse_scenario_document(doc: _yaml.YamlDocument) -> Scenario:
    """Validate a parsed YAML document as a scenario."""
    if doc.data is None:
        return Scenario()
    if not isinstance(doc.data, dict):
        raise ScenarioError(
            f"{doc.path} is not a valid scenario.",
            [f"{doc.path}:1: the top level must be a mapping with keys such as name, models, rules, fallback."],
        )
    return _yaml.validate_document(doc, Scenario, ScenarioError)


def scenario_from_text(text: str, path: str = "<scenario>") -> Scenario:
    """Parse a scenario from YAML text (tests and inline scenarios)."""
    return parse_scenario_document(_yaml.parse_yaml(text, Path(path), ScenarioError))
