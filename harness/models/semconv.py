"""Span attribute names: OpenTelemetry GenAI semantic conventions plus agenteval's own ``agenteval.*`` names.

agenteval follows the GenAI conventions as of semantic-conventions **v1.37.0** (status: Development), the first
release with ``gen_ai.provider.name``, ``gen_ai.input.messages`` / ``gen_ai.output.messages`` and
``gen_ai.system_instructions`` (what ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` selects).
The trace store projects its typed tables from these names, so the runtime and the store agree only through here.

Value shapes (in :class:`~harness.models.traces.Span` attributes; nested values become JSON strings on OTLP export):

- ``gen_ai.input.messages``: list of ``{"role", "parts": [...], "name"?}``; parts are ``{"type": "text", "content"}``,
  ``{"type": "tool_call", "id", "name", "arguments"}`` and ``{"type": "tool_call_response", "id", "response"}``.
- ``gen_ai.output.messages``: the same, each message with a ``finish_reason``.
- ``gen_ai.system_instructions``: list of ``{"type": "text", "content"}``.
- ``gen_ai.tool.definitions``: the ``tools`` list as sent to the model.
- ``agenteval.request.body`` / ``agenteval.response.body``: the full JSON request and response of a model call
  (the response of the final, successful attempt), so that a stored trace can serve as a cassette.
"""

from __future__ import annotations

SEMCONV_VERSION = "1.37.0"
"""Version of the OpenTelemetry semantic conventions whose GenAI attributes agenteval emits."""
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"

# Operations (gen_ai.operation.name)
OP_INVOKE_AGENT = "invoke_agent"
OP_CHAT = "chat"
OP_EXECUTE_TOOL = "execute_tool"

# GenAI semantic conventions
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
AGENT_NAME = "gen_ai.agent.name"
AGENT_ID = "gen_ai.agent.id"
AGENT_VERSION = "gen_ai.agent.version"
CONVERSATION_ID = "gen_ai.conversation.id"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_SEED = "gen_ai.request.seed"
REQUEST_STREAM = "gen_ai.request.stream"
RESPONSE_ID = "gen_ai.response.id"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
OUTPUT_TYPE = "gen_ai.output.type"
USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
TOOL_DEFINITIONS = "gen_ai.tool.definitions"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_DESCRIPTION = "gen_ai.tool.description"
TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT = "gen_ai.tool.call.result"
ERROR_TYPE = "error.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"

# agenteval's own attributes
RUN_ID = "agenteval.run.id"
RUN_STATUS = "agenteval.run.status"
RUN_STATUS_DETAIL = "agenteval.run.status_detail"
PROMPT_NAME = "agenteval.prompt.name"
PROMPT_VERSION = "agenteval.prompt.version"
PROMPT_SHA256 = "agenteval.prompt.sha256"
STEP = "agenteval.step"
REQUEST_BODY = "agenteval.request.body"
RESPONSE_BODY = "agenteval.response.body"
HTTP_STATUS = "agenteval.http.status_code"
ATTEMPTS = "agenteval.attempts"
"""Model-call attempts (1 = no retry) or tool-call attempts."""
LATENCY_MS = "agenteval.latency_ms"
"""Wall-clock milliseconds of the successful attempt (synthetic on replay)."""
TOOL_OUTCOME = "agenteval.tool.outcome"
"""``ok``, ``error``, ``invalid_arguments``, ``unknown_tool``, ``denied``, ``circuit_open``, ``awaiting_approval``."""
TOOL_RESULT_KIND = "agenteval.tool.result_kind"
"""How a traced user tool's return value was stored in ``gen_ai.tool.call.result``: ``text`` (a string, as is) or
``json`` (anything else, as JSON), so that a replay hands the agent back the same kind of value."""
TOOL_SIDE_EFFECTS = "agenteval.tool.side_effects"
TOOL_IDEMPOTENCY_KEY = "agenteval.tool.idempotency_key"
TOOL_REQUIRES_APPROVAL = "agenteval.tool.requires_approval"
REDACTED = "agenteval.redacted"
"""Number of PII values redacted in this span before it was stored."""

TOOL_OUTCOMES = ("ok", "error", "invalid_arguments", "unknown_tool", "denied", "circuit_open", "awaiting_approval")

# Event names
EVENT_RETRY = "agenteval.retry"
"""A failed model-call attempt that was retried: ``error.type``, ``agenteval.http.status_code``, ``delay_s``."""
EVENT_GUARD = "agenteval.guard"
"""A guard fired: ``guard`` (its name), ``detail``."""
EVENT_SECURITY = "agenteval.security"
"""A security event: ``kind`` (e.g. ``unauthorized_tool``), ``tool``, ``detail``."""
EVENT_EXCEPTION = "exception"
"""OTel exception event: ``exception.type``, ``exception.message``, ``exception.stacktrace``."""
