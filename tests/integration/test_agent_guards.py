"""Each guard of the agent runtime against the scripted server: the right status, and the right spans and events."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from harness.agent import Agent, ApprovalRequest, Limits, ModelSettings, Prompt, ToolError, tool
from harness.agent.runtime import AgentResult
from harness.mockllm import scenario_from_text
from harness.models import semconv as sc
from harness.models.traces import RunRecord, RunTrace, Span
from tests.conftest import MakeServer

FAST = Limits(backoff_initial_s=0.01, backoff_max_s=0.05, breaker_cooldown_s=60)


class MemorySink:
    """A trace sink that keeps what it is given."""

    def __init__(self) -> None:
        self.begun: list[RunRecord] = []
        self.traces: list[RunTrace] = []

    def begin_run(self, run: RunRecord) -> None:
        self.begun.append(run)

    def write_trace(self, trace: RunTrace) -> None:
        self.traces.append(trace)


class Lookup(BaseModel):
    key: str


class Refund(BaseModel):
    order_id: str
    amount: float


calls: dict[str, int] = {}


@tool
def lookup(args: Lookup) -> dict[str, str]:
    """Look something up."""
    calls["lookup"] = calls.get("lookup", 0) + 1
    return {"key": args.key, "value": "found"}


@tool
def flaky(args: Lookup) -> str:
    """Always fails."""
    calls["flaky"] = calls.get("flaky", 0) + 1
    raise ToolError("backend unavailable")


@tool(side_effects=True, requires_approval=lambda a: a.amount > 100)
def refund(args: Refund) -> dict[str, Any]:
    """Refund an order."""
    calls["refund"] = calls.get("refund", 0) + 1
    return {"refunded": args.amount}


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    calls.clear()


def _agent(server_url: str, tools: list[Any], **options: Any) -> tuple[Agent, MemorySink]:
    sink = MemorySink()
    options.setdefault("limits", FAST)
    agent = Agent(
        "guarded",
        Prompt.from_text("You are a careful agent."),
        tools,
        model=ModelSettings(base_url=server_url),
        trace_sink=sink,
        **options,
    )
    return agent, sink


def _children(result: AgentResult, operation: str) -> list[Span]:
    return [s for s in result.spans if s.operation == operation]


def _guard_events(result: AgentResult) -> list[str]:
    return [e.attributes["guard"] for e in result.spans[0].events if e.name == sc.EVENT_GUARD]


SIMPLE = "rules:\n  - text: done\n"


def test_rate_limit_then_success_is_retried_and_attempts_recorded(make_mockllm: MakeServer) -> None:
    server = make_mockllm(scenario_from_text(SIMPLE), faults="429:0.01@first 1")
    agent, sink = _agent(server.base_url, [])
    result = agent.run("hello")
    assert result.status == "completed"
    assert result.run.retries == 1
    chat = _children(result, sc.OP_CHAT)[0]
    assert chat.attributes[sc.ATTEMPTS] == 2
    retry = [e for e in chat.events if e.name == sc.EVENT_RETRY]
    assert len(retry) == 1
    assert retry[0].attributes[sc.HTTP_STATUS] == 429
    assert retry[0].attributes["delay_s"] == pytest.approx(0.01)  # Retry-After honoured
    assert sink.begun[0].status == "started"
    assert sink.traces[0].run.status == "completed"


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("400", "BadRequestError"),
        ("401", "invalid_api_key"),
        ("404", "model_not_found"),
        ("context_length", "context_length_exceeded"),
    ],
)
def test_client_errors_fail_at_once(make_mockllm: MakeServer, fault: str, error_type: str) -> None:
    server = make_mockllm(scenario_from_text(SIMPLE), faults=f"{fault}@first 1")
    agent, _ = _agent(server.base_url, [])
    result = agent.run("hello")
    assert result.status == "model_error"
    assert result.run.error_type == error_type
    assert result.run.retries == 0
    chat = _children(result, sc.OP_CHAT)[0]
    assert chat.attributes[sc.ATTEMPTS] == 1
    assert chat.status_code == "ERROR"
    assert server.engine.requests_total == 1  # nothing was retried


def test_retries_exhausted_on_persistent_5xx(make_mockllm: MakeServer) -> None:
    server = make_mockllm(scenario_from_text(SIMPLE), faults="503")
    agent, _ = _agent(server.base_url, [], limits=FAST.model_copy(update={"max_retries": 2}))
    result = agent.run("hello")
    assert result.status == "model_error"
    assert result.run.retries == 2
    assert server.engine.requests_total == 3


def test_model_call_timeout_is_retried_then_fails(make_mockllm: MakeServer) -> None:
    server = make_mockllm(scenario_from_text(SIMPLE), faults="timeout:3")
    limits = FAST.model_copy(update={"model_timeout_s": 0.2, "max_retries": 1})
    agent, _ = _agent(server.base_url, [], limits=limits)
    result = agent.run("hello")
    assert result.status == "model_error"
    assert result.run.error_type == "timeout"
    assert _children(result, sc.OP_CHAT)[0].attributes[sc.ATTEMPTS] == 2


def test_breaker_opens_after_consecutive_failures_and_ends_the_run(make_mockllm: MakeServer) -> None:
    # The model keeps calling the failing tool with new arguments (so loop detection stays out of it).
    scenario = scenario_from_text("rules:\n  - tool_calls: [{name: flaky, arguments: {key: 'k{{ turn }}'}}]\n")
    agent, _ = _agent(make_mockllm(scenario).base_url, [flaky])
    result = agent.run("go")
    assert result.status == "circuit_open"
    assert calls["flaky"] == 3  # the fourth call was refused without running
    outcomes = [s.attributes[sc.TOOL_OUTCOME] for s in _children(result, sc.OP_EXECUTE_TOOL)]
    assert outcomes == ["error", "error", "error", "circuit_open"]
    assert _guard_events(result) == ["circuit_breaker", "circuit_breaker"]  # opened, then refused
    assert "now unavailable" in _children(result, sc.OP_EXECUTE_TOOL)[2].attributes[sc.TOOL_CALL_RESULT]
    assert agent.breakers.get("flaky").state == "open"


def test_breaker_half_opens_after_cooldown() -> None:
    from harness.agent import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=10, clock=lambda: now[0])
    assert not breaker.record_failure()
    assert breaker.record_failure()
    assert not breaker.allow()
    now[0] = 10.0
    assert breaker.allow()
    assert breaker.state == "half_open"
    assert breaker.record_failure()  # one failure in half-open re-opens it
    now[0] = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"


def test_loop_detection_ends_the_run(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text("rules:\n  - tool_calls: [{name: lookup, arguments: {key: same}}]\n")
    agent, _ = _agent(make_mockllm(scenario).base_url, [lookup])
    result = agent.run("go")
    assert result.status == "loop_detected"
    assert calls["lookup"] == 2
    assert "lookup called 3 times with the same arguments" in (result.run.status_detail or "")
    assert _guard_events(result) == ["loop_detection"]


def test_token_budget_ends_the_run(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text("rules:\n  - tool_calls: [{name: lookup, arguments: {key: 'k{{ turn }}'}}]\n")
    agent, _ = _agent(make_mockllm(scenario).base_url, [lookup], limits=FAST.model_copy(update={"token_budget": 400}))
    result = agent.run("go")
    assert result.status == "token_budget"
    assert result.run.input_tokens + result.run.output_tokens > 400
    assert result.run.steps >= 2
    assert _guard_events(result) == ["token_budget"]


def test_max_steps_ends_the_run(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text("rules:\n  - tool_calls: [{name: lookup, arguments: {key: 'k{{ turn }}'}}]\n")
    agent, _ = _agent(make_mockllm(scenario).base_url, [lookup], limits=FAST.model_copy(update={"max_steps": 4}))
    result = agent.run("go")
    assert result.status == "max_steps"
    assert result.run.steps == 4
    assert len(_children(result, sc.OP_CHAT)) == 4


def test_run_timeout(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text("rules:\n  - text: slow\n    delay_ms: 2000\n")
    limits = FAST.model_copy(update={"run_timeout_s": 0.3})
    agent, sink = _agent(make_mockllm(scenario).base_url, [], limits=limits)
    result = agent.run("go")
    assert result.status == "timeout"
    assert _guard_events(result) == ["run_timeout"]
    assert sink.traces[0].run.end_ns is not None


def test_unauthorized_tool_is_refused_and_recorded_as_security_event(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text(
        "rules:\n"
        "  - when: {last_role: user}\n    tool_calls: [{name: delete_everything, arguments: {}}]\n"
        "  - when: {last_tool_result: 'not available'}\n    text: sorry\n"
    )
    agent, _ = _agent(make_mockllm(scenario).base_url, [lookup])
    result = agent.run("go")
    assert result.status == "completed"
    assert result.output == "sorry"
    assert result.run.security_events == 1
    events = [e for e in result.spans[0].events if e.name == sc.EVENT_SECURITY]
    assert events[0].attributes["kind"] == "unauthorized_tool"
    assert events[0].attributes["tool"] == "delete_everything"
    tool_span = _children(result, sc.OP_EXECUTE_TOOL)[0]
    assert tool_span.attributes[sc.TOOL_OUTCOME] == "unknown_tool"


def test_allow_list_narrower_than_the_tools_given(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text(
        "rules:\n  - when: {last_role: user}\n    tool_calls: [{name: lookup, arguments: {key: a}}]\n  - text: ok\n"
    )
    agent, _ = _agent(make_mockllm(scenario).base_url, [lookup, flaky], allowed_tools={"flaky"})
    result = agent.run("go")
    assert result.run.security_events == 1
    assert "lookup" not in calls


@pytest.fixture
def refund_server(make_mockllm: MakeServer) -> str:
    text = (
        "rules:\n"
        "  - when: {last_role: user, last_user: {regex: 'refund (?P<amount>\\d+)'}}\n"
        "    tool_calls: [{name: refund, arguments: {order_id: A1, amount: '{{ match.amount }}'}}]\n"
        "  - when: {last_role: tool}\n    text: 'result: {{ last_tool_result }}'\n"
    )
    return make_mockllm(scenario_from_text(text)).base_url


def test_approval_gate_without_policy_ends_awaiting_approval_without_running(refund_server: str) -> None:
    agent, _ = _agent(refund_server, [refund])
    result = agent.run("refund 250")
    assert result.status == "awaiting_approval"
    assert "refund" not in calls
    assert result.run.metadata["pending_approval"]["arguments"] == {"order_id": "A1", "amount": 250.0}
    assert _children(result, sc.OP_EXECUTE_TOOL)[0].attributes[sc.TOOL_OUTCOME] == "awaiting_approval"
    assert _guard_events(result) == ["approval_gate"]


def test_small_refund_needs_no_approval_and_gets_an_idempotency_key(refund_server: str) -> None:
    agent, _ = _agent(refund_server, [refund])
    result = agent.run("refund 40")
    assert result.status == "completed"
    assert calls["refund"] == 1
    span = _children(result, sc.OP_EXECUTE_TOOL)[0]
    assert len(span.attributes[sc.TOOL_IDEMPOTENCY_KEY]) == 32


@pytest.mark.parametrize(("policy", "ran", "outcome"), [("approve", True, "ok"), ("deny", False, "denied")])
def test_approval_policies(refund_server: str, policy: str, ran: bool, outcome: str) -> None:
    agent, _ = _agent(refund_server, [refund], approval=policy)
    result = agent.run("refund 250")
    assert result.status == "completed"
    assert ("refund" in calls) is ran
    assert _children(result, sc.OP_EXECUTE_TOOL)[0].attributes[sc.TOOL_OUTCOME] == outcome


def test_approval_callback_sees_the_arguments(refund_server: str) -> None:
    seen: list[ApprovalRequest] = []

    async def approve_small(request: ApprovalRequest) -> bool:
        seen.append(request)
        return request.arguments.amount < 500  # type: ignore[attr-defined, no-any-return]

    agent, _ = _agent(refund_server, [refund], approval=approve_small)
    assert agent.run("refund 300").status == "completed"
    assert calls["refund"] == 1
    assert (
        agent.run("refund 900").run.output_text
        == "result: Error: refund was denied by the approval policy. Do not retry it."
    )
    assert [r.tool for r in seen] == ["refund", "refund"]


class Verdict(BaseModel):
    verdict: str
    score: int


def test_invalid_structured_output_is_repaired_once(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text(
        "rules:\n"
        "  - when: {last_user: did not match the required JSON schema}\n    json: {verdict: good, score: 3}\n"
        "  - text: 'not json at all'\n"
    )
    agent, _ = _agent(make_mockllm(scenario).base_url, [], output_type=Verdict)
    result = agent.run("judge")
    assert result.status == "completed"
    assert result.output == Verdict(verdict="good", score=3)
    assert result.run.output_data == {"verdict": "good", "score": 3}
    assert _guard_events(result) == ["output_repair"]
    assert result.run.steps == 2


def test_output_still_invalid_after_repair_ends_invalid_output(make_mockllm: MakeServer) -> None:
    agent, _ = _agent(
        make_mockllm(scenario_from_text("rules:\n  - text: '{\"verdict\": 1}'\n")).base_url, [], output_type=Verdict
    )
    result = agent.run("judge")
    assert result.status == "invalid_output"
    assert result.run.steps == 2
    assert "score: Field required" in (result.run.status_detail or "")


def test_bad_arguments_and_tool_errors_go_back_to_the_model(make_mockllm: MakeServer) -> None:
    scenario = scenario_from_text(
        "rules:\n"
        "  - when: {turn: 0}\n    tool_calls: [{name: lookup, raw_arguments: '{\"key\": '}]\n"
        "  - when: {turn: 1}\n    tool_calls: [{name: lookup, arguments: {wrong: 1}}]\n"
        "  - when: {turn: 2}\n    tool_calls: [{name: flaky, arguments: {key: x}}]\n"
        "  - text: 'saw: {{ last_tool_result }}'\n"
    )
    agent, _ = _agent(make_mockllm(scenario).base_url, [lookup, flaky])
    result = agent.run("go")
    assert result.status == "completed"
    outcomes = [s.attributes[sc.TOOL_OUTCOME] for s in _children(result, sc.OP_EXECUTE_TOOL)]
    assert outcomes == ["invalid_arguments", "invalid_arguments", "error"]
    tool_messages = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert "not valid JSON" in tool_messages[0]
    assert "key: Field required" in tool_messages[1]
    assert tool_messages[2] == "Error: backend unavailable"
    assert result.run.tool_errors == 3
    assert "lookup" not in calls


def test_pii_is_redacted_everywhere_in_the_trace(make_mockllm: MakeServer) -> None:
    @tool
    def profile(args: Lookup) -> dict[str, str]:
        """Customer profile."""
        return {"email": "jane.doe@gmail.com", "phone": "(415) 555-0199", "card": "5555-5555-5555-4444"}

    scenario = scenario_from_text(
        "rules:\n  - when: {last_role: user}\n    tool_calls: [{name: profile, arguments: "
        "{key: me}}]\n  - text: 'Found {{ last_tool_result }}'\n"
    )
    agent, sink = _agent(make_mockllm(scenario).base_url, [profile])
    result = agent.run("my email is jane.doe@gmail.com, call me on +44 20 7946 0958")
    stored = sink.traces[0].model_dump_json()
    for secret in ("jane.doe", "555-0199", "5555-5555-5555-4444", "7946 0958"):
        assert secret not in stored
    assert "[EMAIL]@gmail.com" in stored
    assert "[CARD ****4444]" in stored
    assert "[PHONE]" in stored
    assert "jane.doe@gmail.com" in result.messages[1]["content"]  # in-process data is untouched
