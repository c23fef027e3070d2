"""Turn one HTTP request into a planned response: routing, fault injection, rule matching, rendering, usage.

Everything here is synchronous and free of I/O, so it can be unit-tested without a socket; the HTTP layer only
sleeps, writes, truncates or drops as the plan says. Responses depend on nothing but the request and the
server's configuration (no clock, no global randomness), which makes identical requests byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.errors import FaultSpecError
from harness.mockllm import _tokens
from harness.mockllm._schema import instance_for
from harness.mockllm.faults import FaultPlan, FaultSpec
from harness.mockllm.scenario import Reply, Rule, Scenario, compile_template, is_template
from harness.models.chat import message_text

_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"
_STREAM_PIECE = 24
_BASE_CREATED = 1_700_000_000


@dataclass
class HttpRequest:
    """A parsed HTTP request; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Planned:
    """What to send back, and how: normally, after a delay, cut short, or not at all."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: list[bytes] | None = None
    """Server-sent events to stream (each a complete ``data: ...`` event) instead of ``body``."""
    delay: float = 0.0
    """Seconds to wait before sending anything."""
    chunk_delay: float = 0.0
    """Seconds to wait between streamed chunks."""
    action: Literal["send", "drop", "truncate"] = "send"
    rule: str | None = None
    """Name of the rule that answered (for logs)."""
    fault: str | None = None
    """Kind of the fault injected, if any (for logs)."""


class RequestError(Exception):
    """A request a real provider would reject with an error status."""

    def __init__(self, status: int, message: str, kind: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": kind, "param": param, "code": code}}


_FAULT_ERRORS: dict[str, tuple[int, str, str, str | None]] = {
    "rate_limit": (
        429,
        "Rate limit reached for requests (scripted by mockllm). Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    "server_error": (
        500,
        "The server had an error while processing your request. Sorry about that! (scripted by mockllm)",
        "server_error",
        None,
    ),
    "unavailable": (
        503,
        "The engine is currently overloaded, please try again later. (scripted by mockllm)",
        "server_error",
        None,
    ),
    "bad_request": (400, "Invalid request (scripted by mockllm).", "invalid_request_error", None),
    "unauthorized": (
        401,
        "Incorrect API key provided (scripted by mockllm).",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "not_found": (
        404,
        "The model does not exist or you do not have access to it (scripted by mockllm).",
        "invalid_request_error",
        "model_not_found",
    ),
    "context_length": (
        400,
        "This model's maximum context length was exceeded (scripted by mockllm). Please reduce the length of the "
        "messages.",
        "invalid_request_error",
        "context_length_exceeded",
    ),
}


@dataclass
class Conversation:
    """The facts about a chat request that rules test and templates see."""

    request: dict[str, Any]
    model: str
    system: str
    users: list[str]
    last_role: str
    tool_results: list[tuple[str | None, str]]
    tools_offered: list[str]
    tools_called: list[str]
    turn: int
    schema: dict[str, Any] | None
    is_structured: bool
    key: str

    @property
    def last_user(self) -> str | None:
        return self.users[-1] if self.users else None


class MockEngine:
    """Answers requests for one scenario and fault plan. Owned by a single event loop; not thread-safe."""

    def __init__(self, scenario: Scenario, faults: list[FaultSpec] | None = None) -> None:
        self.scenario = scenario
        self.plan = FaultPlan([*scenario.faults, *(faults or [])])
        self.requests_total = 0
        self.rule_hits: dict[str, int] = {}
        self.faults_injected: dict[str, int] = {}
        # Synthetic, deliberately secret-shaped values (never real ones): a provider sends an organization, a project
        # and a cookie with every response, and recordings must prove they scrub them. Shaped like the real thing so
        # that `agenteval cassettes scan` would report any that slipped through.
        self._base_headers = [
            ("openai-organization", "org-mockllm0000000000000000"),
            ("openai-project", "proj_mockllm000000000000000000"),
            ("openai-version", "2020-10-01"),
            ("x-mockllm-scenario", _header_safe(scenario.name)),
        ]

    # -- routing ---------------------------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> Planned:
        """Plan the response to one request."""
        self.requests_total += 1
        path = request.path.rstrip("/") or "/"
        if path.startswith("/v1/"):
            path = path[3:]
        try:
            if path == "/chat/completions":
                if request.method != "POST":
                    raise RequestError(405, f"Method {request.method} not allowed; use POST.", "invalid_request_error")
                return self._chat(request)
            if path == "/models":
                self._require_get(request)
                return self._json(
                    200, {"object": "list", "data": [self._model_card(m.id) for m in self.scenario.models]}
                )
            if path.startswith("/models/"):
                self._require_get(request)
                name = path.removeprefix("/models/")
                if self.scenario.model_info(name) is None:
                    raise RequestError(
                        404,
                        f"The model `{name}` does not exist or you do not have access to it.",
                        "invalid_request_error",
                        "model_not_found",
                    )
                return self._json(200, self._model_card(name))
            if path in ("/", "/health"):
                return self._json(200, {"status": "ok", "scenario": self.scenario.name})
            raise RequestError(404, f"Unknown request URL: {request.method} {request.path}.", "invalid_request_error")
        except RequestError as exc:
            return self._json(exc.status, exc.body)

    @staticmethod
    def _require_get(request: HttpRequest) -> None:
        if request.method != "GET":
            raise RequestError(405, f"Method {request.method} not allowed; use GET.", "invalid_request_error")

    def _model_card(self, name: str) -> dict[str, Any]:
        info = self.scenario.model_info(name)
        owner = info.owned_by if info is not None else "agenteval-mockllm"
        return {"id": name, "object": "model", "created": _BASE_CREATED, "owned_by": owner}

    def _json(self, status: int, payload: Any, extra: list[tuple[str, str]] | None = None) -> Planned:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = [("content-type", _JSON), *self._base_headers, *(extra or [])]
        return Planned(status=status, headers=headers, body=body)

    # -- chat completions ------------------------------------------------------------------------------------

    def _chat(self, request: HttpRequest) -> Planned:
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise RequestError(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                "HTTP library correctly. The OpenAI API expects a JSON payload.)",
                "invalid_request_error",
            ) from None
        if not isinstance(body, dict):
            raise RequestError(400, "The request body must be a JSON object.", "invalid_request_error")
        # Transport-only fields stay out of the key: streaming or not, the model says the same thing.
        semantic = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        key = hashlib.sha256(json.dumps(semantic, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        fault = self._pick_fault(request, key)
        request_headers = [("x-request-id", f"req_{key[:32]}"), ("set-cookie", _cookie(key))]
        if fault is not None:
            self.faults_injected[fault.kind] = self.faults_injected.get(fault.kind, 0) + 1
            request_headers.append(("x-mockllm-fault", fault.kind))
            if fault.kind in _FAULT_ERRORS:
                return self._fault_error(fault, request_headers)
            if fault.kind == "drop":
                return Planned(action="drop", fault=fault.kind)
        conversation = _conversation(body, key)
        planned = self._complete(conversation, body, request_headers, fault)
        if fault is not None:
            planned.fault = fault.kind
            if fault.kind == "timeout":
                planned.delay += fault.stall_seconds
            elif fault.kind == "truncate":
                planned.action = "truncate"
            elif fault.kind == "malformed_json":
                _corrupt(planned)
        return planned

    def _pick_fault(self, request: HttpRequest, key: str) -> FaultSpec | None:
        header = request.headers.get("x-mockllm-fault")
        if header is None:
            return self.plan.next_fault()
        try:
            return self.plan.fault_from_header(header, key)
        except FaultSpecError as exc:
            raise RequestError(400, str(exc), "invalid_request_error", param="x-mockllm-fault") from None

    def _fault_error(self, fault: FaultSpec, headers: list[tuple[str, str]]) -> Planned:
        status, message, kind, code = _FAULT_ERRORS[fault.kind]
        extra = list(headers)
        retry_after = (
            fault.retry_after if fault.retry_after is not None else (1.0 if fault.kind == "rate_limit" else None)
        )
        if retry_after is not None:
            extra.append(("retry-after", f"{max(0, round(retry_after))}"))
            extra.append(("retry-after-ms", f"{round(retry_after * 1000)}"))
        param = "messages" if fault.kind == "context_length" else None
        planned = self._json(
            status, {"error": {"message": fault.message or message, "type": kind, "param": param, "code": code}}, extra
        )
        planned.fault = fault.kind
        return planned

    def _complete(
        self, conv: Conversation, body: dict[str, Any], headers: list[tuple[str, str]], fault: FaultSpec | None
    ) -> Planned:
        prompt_tokens = _prompt_tokens(body)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        info = self.scenario.model_info(conv.model)
        if info is not None and info.context_window is not None:
            wanted = prompt_tokens + (int(limit) if isinstance(limit, int) else 0)
            if wanted > info.context_window:
                raise RequestError(
                    400,
                    f"This model's maximum context length is {info.context_window} tokens. However, you requested "
                    f"{wanted} tokens ({prompt_tokens} in the messages, {wanted - prompt_tokens} in the completion). "
                    "Please reduce the length of the messages or completion.",
                    "invalid_request_error",
                    "context_length_exceeded",
                    "messages",
                )
        rule, groups = self._match(conv)
        rule_name = (rule.name or f"rules[{self.scenario.rules.index(rule)}]") if rule is not None else "fallback"
        self.rule_hits[rule_name] = self.rule_hits.get(rule_name, 0) + 1
        count = body.get("n") or 1
        if not isinstance(count, int) or not 1 <= count <= 128:
            raise RequestError(400, "'n' must be an integer between 1 and 128.", "invalid_request_error", param="n")
        choices: list[dict[str, Any]] = []
        completion_tokens = 0
        delay_ms = 0.0
        for index in range(count):
            reply = self._choose(rule, conv, body, index) if rule is not None else self.scenario.fallback
            if reply is None:
                raise RequestError(
                    400,
                    f"mockllm: no rule of scenario '{self.scenario.name}' matched and it has no fallback. "
                    f"Last user message: {conv.last_user!r}; last role: {conv.last_role}; "
                    f"tools offered: {conv.tools_offered}. Add a rule that matches this conversation.",
                    "invalid_request_error",
                    "mockllm_no_rule",
                )
            delay_ms = max(delay_ms, reply.delay_ms)
            message, finish, tokens = self._render(reply, conv, groups, index, limit, fault)
            completion_tokens += tokens
            choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": finish})
        usage = _usage(prompt_tokens, completion_tokens)
        created = _BASE_CREATED + int(conv.key[:8], 16) % 100_000_000
        head = {"id": f"chatcmpl-{conv.key[:29]}", "created": created, "model": conv.model}
        extra = [*headers, ("x-mockllm-rule", _header_safe(rule_name))]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _stream_chunks(head, choices, usage if include_usage else None)
            planned = Planned(
                headers=[("content-type", _SSE), ("cache-control", "no-cache"), *self._base_headers, *extra],
                chunks=chunks,
                chunk_delay=self.scenario.stream_delay_ms / 1000,
            )
        else:
            payload = {
                "id": head["id"],
                "object": "chat.completion",
                "created": created,
                "model": conv.model,
                "choices": choices,
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_mockllm",
            }
            planned = self._json(200, payload, extra)
        planned.delay = delay_ms / 1000
        planned.rule = rule_name
        return planned

    def _match(self, conv: Conversation) -> tuple[Rule | None, dict[str | int, str]]:
        for rule in self.scenario.rules:
            groups = _when_matches(rule, conv)
            if groups is not None:
                return rule, groups
        return None, {}

    @staticmethod
    def _choose(rule: Rule, conv: Conversation, body: dict[str, Any], index: int) -> Reply:
        if not rule.alternatives:
            return rule
        temperature = body.get("temperature")
        temperature = 1.0 if not isinstance(temperature, int | float) else float(temperature)
        options = rule.alternatives
        if temperature <= 0:
            return max(options, key=lambda a: a.weight)
        # Temperature reshapes the odds like softmax sampling: below 1 sharpens, above 1 flattens.
        weights = [a.weight ** (1 / temperature) for a in options]
        rng = random.Random(int(hashlib.sha256(f"{conv.key}:{index}".encode()).hexdigest()[:16], 16))
        return rng.choices(options, weights=weights)[0]

    def _render(
        self,
        reply: Reply,
        conv: Conversation,
        groups: dict[str | int, str],
        index: int,
        limit: Any,
        fault: FaultSpec | None,
    ) -> tuple[dict[str, Any], str, int]:
        context = _template_context(conv, groups)
        content: str | None = None
        if reply.json_ is not None and (conv.is_structured or reply.text is None):
            data = _render_value(reply.json_, context)
            if conv.schema is not None:
                data = instance_for(conv.schema, data)
            content = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        elif reply.text is not None:
            content = _render_value(reply.text, context)
        elif conv.schema is not None and not reply.tool_calls:
            content = json.dumps(instance_for(conv.schema), ensure_ascii=False, separators=(",", ":"))
        calls: list[dict[str, Any]] = []
        for number, spec in enumerate(reply.tool_calls):
            if spec.raw_arguments is not None:
                arguments = _render_value(spec.raw_arguments, context)
            else:
                arguments = json.dumps(
                    _render_value(spec.arguments, context), ensure_ascii=False, separators=(",", ":")
                )
            if fault is not None and fault.kind == "bad_tool_args":
                arguments = arguments[: max(1, len(arguments) // 2)]
            call_id = spec.id or "call_" + hashlib.sha256(f"{conv.key}:{index}:{number}".encode()).hexdigest()[:24]
            calls.append(
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": _render_value(spec.name, context), "arguments": arguments},
                }
            )
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        if content is not None and isinstance(limit, int) and limit >= 0 and _tokens.count_tokens(content) > limit:
            content = _tokens.truncate_to_tokens(content, limit)
            finish = "length"
        tokens = _tokens.count_tokens(content) + sum(
            _tokens.count_tokens(c["function"]["name"]) + _tokens.count_tokens(c["function"]["arguments"]) + 3
            for c in calls
        )
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
        if calls:
            message["tool_calls"] = calls
        return message, finish, tokens


# -- conversation facts ----------------------------------------------------------------------------------------


def _conversation(body: dict[str, Any], key: str) -> Conversation:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "you must provide a model parameter", "invalid_request_error", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(
            400, "'messages' must be a non-empty array of messages.", "invalid_request_error", param="messages"
        )
    system: list[str] = []
    users: list[str] = []
    results: list[tuple[str | None, str]] = []
    called: list[str] = []
    call_names: dict[str, str] = {}
    turn = 0
    last_role = ""
    for position, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise RequestError(
                400,
                f"messages[{position}] must be an object with a 'role'.",
                "invalid_request_error",
                param=f"messages[{position}]",
            )
        role = message["role"]
        last_role = role
        text = message_text(message.get("content"))
        if role in ("system", "developer"):
            system.append(text)
        elif role == "user":
            users.append(text)
        elif role == "assistant":
            turn += 1
            for call in message.get("tool_calls") or []:
                name = (call.get("function") or {}).get("name")
                if name:
                    called.append(name)
                    call_names[call.get("id", "")] = name
        elif role == "tool":
            results.append((call_names.get(message.get("tool_call_id", "")), text))
    offered = [
        (tool.get("function") or {}).get("name", "") for tool in body.get("tools") or [] if isinstance(tool, dict)
    ]
    offered += [fn.get("name", "") for fn in body.get("functions") or [] if isinstance(fn, dict)]
    response_format = body.get("response_format") or {}
    schema: dict[str, Any] | None = None
    is_structured = False
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise RequestError(
                400,
                "response_format.json_schema.schema must be a JSON schema object.",
                "invalid_request_error",
                param="response_format",
            )
        is_structured = True
    return Conversation(
        request=body,
        model=model,
        system="\n".join(system),
        users=users,
        last_role=last_role,
        tool_results=results,
        tools_offered=offered,
        tools_called=called,
        turn=turn,
        schema=schema,
        is_structured=is_structured,
        key=key,
    )


def _when_matches(rule: Rule, conv: Conversation) -> dict[str | int, str] | None:
    when = rule.when
    groups: dict[str | int, str] = {}

    def test(matcher: Any, text: str | None) -> bool:
        found = matcher.test(text)
        if found is None:
            return False
        groups.update(found)
        return True

    if when.last_role is not None and conv.last_role != when.last_role:
        return None
    if when.turn is not None and conv.turn != when.turn:
        return None
    if when.structured_output is not None and conv.is_structured != when.structured_output:
        return None
    if any(name not in conv.tools_offered for name in when.tools_offered):
        return None
    if any(name in conv.tools_offered for name in when.tools_not_offered):
        return None
    if any(name not in conv.tools_called for name in when.tools_called):
        return None
    if any(name in conv.tools_called for name in when.tools_not_called):
        return None
    if when.model is not None and not test(when.model, conv.model):
        return None
    if when.system is not None and not test(when.system, conv.system):
        return None
    if when.last_user is not None and not test(when.last_user, conv.last_user):
        return None
    if when.any_user is not None and not any(test(when.any_user, text) for text in conv.users):
        return None
    if when.last_tool_result is not None:
        matcher = when.last_tool_result
        candidates = [text for name, text in conv.tool_results if matcher.tool is None or name == matcher.tool]
        if not candidates or not test(matcher, candidates[-1]):
            return None
    if when.any_tool_result is not None:
        matcher = when.any_tool_result
        candidates = [text for name, text in conv.tool_results if matcher.tool is None or name == matcher.tool]
        if not any(test(matcher, text) for text in candidates):
            return None
    return groups


def _template_context(conv: Conversation, groups: dict[str | int, str]) -> dict[str, Any]:
    last_result = conv.tool_results[-1][1] if conv.tool_results else ""
    try:
        tool_json = json.loads(last_result) if last_result else None
    except ValueError:
        tool_json = None
    return {
        "last_user": conv.last_user or "",
        "system": conv.system,
        "model": conv.model,
        "turn": conv.turn,
        "tools": conv.tools_offered,
        "last_tool_result": last_result,
        "tool_json": tool_json,
        "match": groups,
        "request": conv.request,
    }


def _render_value(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return compile_template(value).render(context) if is_template(value) else value
    if isinstance(value, dict):
        return {k: _render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v, context) for v in value]
    return value


# -- usage and streaming ---------------------------------------------------------------------------------------


def _prompt_tokens(body: dict[str, Any]) -> int:
    total = _tokens.REPLY_PRIMING
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        total += _tokens.MESSAGE_OVERHEAD + _tokens.count_tokens(message_text(message.get("content")))
        if message.get("name"):
            total += _tokens.count_tokens(str(message["name"]))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            total += _tokens.count_tokens(function.get("name")) + _tokens.count_tokens(function.get("arguments"))
    if body.get("tools"):
        total += _tokens.count_tokens(json.dumps(body["tools"], sort_keys=True))
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        total += _tokens.count_tokens(json.dumps(response_format, sort_keys=True))
    return total


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _pieces(text: str) -> list[str]:
    out: list[str] = []
    for word in _tokens.split_for_stream(text):
        out.extend(word[i : i + _STREAM_PIECE] for i in range(0, len(word), _STREAM_PIECE))
    return out


def _stream_chunks(head: dict[str, Any], choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> list[bytes]:
    """Chat-completion chunks as OpenAI streams them: role, content deltas, tool-call deltas, finish, usage."""
    base = {
        "id": head["id"],
        "object": "chat.completion.chunk",
        "created": head["created"],
        "model": head["model"],
        "service_tier": "default",
        "system_fingerprint": "fp_mockllm",
    }
    events: list[dict[str, Any]] = []

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        event: dict[str, Any] = {
            **base,
            "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage is not None:
            event["usage"] = None
        events.append(event)

    for choice in choices:
        index = choice["index"]
        message = choice["message"]
        chunk(index, {"role": "assistant", "content": "", "refusal": None})
        for piece in _pieces(message["content"] or ""):
            chunk(index, {"content": piece})
        for number, call in enumerate(message.get("tool_calls") or []):
            chunk(
                index,
                {
                    "tool_calls": [
                        {
                            "index": number,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""},
                        }
                    ]
                },
            )
            arguments = call["function"]["arguments"]
            for start in range(0, len(arguments), _STREAM_PIECE):
                piece = arguments[start : start + _STREAM_PIECE]
                chunk(index, {"tool_calls": [{"index": number, "function": {"arguments": piece}}]})
        chunk(index, {}, choice["finish_reason"])
    if usage is not None:
        events.append({**base, "choices": [], "usage": usage})
    encoded = [b"data: " + json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n" for e in events]
    encoded.append(b"data: [DONE]\n\n")
    return encoded


def _corrupt(planned: Planned) -> None:
    """Break the JSON of a 200 response: the body is cut mid-object, or one streamed event is."""
    if planned.chunks is None:
        planned.body = planned.body[: len(planned.body) // 2]
        return
    index = min(1, len(planned.chunks) - 1)
    event = planned.chunks[index]
    planned.chunks[index] = event[: len(event) // 2] + b"\n\n"


def _cookie(key: str) -> str:
    return f"__cf_bm=mockllm{key[32:56]}; path=/; HttpOnly; Secure; SameSite=None"


def _header_safe(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)[:200]
