"""A team's own agent (module:function) through CallableUnderTest: its openai calls and traced tools become spans.

User agents are written to a temporary project folder, as a team's code would be, and imported from it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from harness.agent import instrument
from harness.agent.adapters import CallableUnderTest, make_agent_under_test
from harness.agent.under_test import CaseJob
from harness.mockllm import MockLLMServer
from harness.models import semconv as sc
from harness.models.cases import Case, Dataset, Variant
from harness.models.traces import RunTrace, Span

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "weather_agent"

Project = Callable[[str], str]


@pytest.fixture(scope="module")
def server() -> Iterator[MockLLMServer]:
    with MockLLMServer() as running:  # the default scenario: get_weather calls, greetings, coin flips, echoes
        yield running


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, server: MockLLMServer) -> Iterator[None]:
    monkeypatch.setattr(sys, "path", list(sys.path))  # the adapter puts the project folder on sys.path
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    yield
    instrument.uninstall()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Write ``source`` as a module in a project folder (the working directory); return ``module:answer``."""
    monkeypatch.chdir(tmp_path)
    counter = iter(range(100))

    def write(source: str) -> str:
        name = f"user_agent_{tmp_path.name.replace('-', '_')}_{next(counter)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return f"{name}:answer"

    return write


def _job(question: str | list[dict[str, Any]], run_id: str = "run-1", timeout_s: float = 30, **case: Any) -> CaseJob:
    return CaseJob(
        case=Case.model_validate({"id": case.pop("id", "case-1"), "input": question, **case}),
        variant=Variant(name="default", model="mock-gpt", params={"style": "terse"}),
        run_id=run_id,
        epoch=2,
        seed=5,
        base_url=None,
        timeout_s=timeout_s,
    )


def _run(agent: CallableUnderTest, job: CaseJob) -> RunTrace:
    return asyncio.run(agent.run_case(job))


def _by_op(trace: RunTrace, operation: str) -> list[Span]:
    return [s for s in trace.spans if s.operation == operation]


TOOL_LOOP = """
    import json
    import openai
    from harness.agent.instrument import trace_tool

    TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]

    @trace_tool
    def get_weather(city):
        return {"city": city, "temperature_c": 18}
"""


def test_sync_agent_with_sync_client_and_traced_tool(project: Project) -> None:
    spec = project(
        TOOL_LOOP
        + """
    def answer(question, ctx):
        client = openai.OpenAI()  # OPENAI_BASE_URL / OPENAI_API_KEY from the environment
        messages = [{"role": "user", "content": question}]
        reply = client.chat.completions.create(model=ctx.model, messages=messages, tools=TOOLS, seed=ctx.seed)
        call = reply.choices[0].message.tool_calls[0]
        result = get_weather(**json.loads(call.function.arguments))
        messages += [reply.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}]
        final = client.chat.completions.create(model=ctx.model, messages=messages, tools=TOOLS)
        client.close()
        return final.choices[0].message.content + f" [{ctx.case_id} e{ctx.epoch} {ctx.params['style']}]"
    """
    )
    agent = make_agent_under_test(spec)
    trace = _run(agent, _job("What's the weather in Paris?"))
    run = trace.run
    assert run.status == "completed", run.status_detail
    assert run.output_text is not None
    assert run.output_text.startswith("Here is what the tools returned:")
    assert run.output_text.endswith("[case-1 e2 terse]")
    assert (run.agent_name, run.model, run.run_id, run.epoch) == (spec, "mock-gpt", "run-1", 2)
    assert (run.steps, run.llm_calls, run.tool_calls, run.tool_errors) == (2, 2, 1, 0)
    root = trace.spans[0]
    assert root.operation == sc.OP_INVOKE_AGENT
    assert root.parent_span_id is None
    assert root.attributes[sc.AGENT_NAME] == spec
    assert [s.name for s in trace.spans[1:]] == ["chat mock-gpt", "execute_tool get_weather", "chat mock-gpt"]
    assert all(s.parent_span_id == root.span_id for s in trace.spans[1:])
    first, tool, second = trace.spans[1:]
    assert first.kind == "CLIENT"
    assert first.attributes[sc.REQUEST_SEED] == 5
    assert first.attributes[sc.ATTEMPTS] == 1
    assert first.attributes[sc.HTTP_STATUS] == 200
    assert first.attributes[sc.LATENCY_MS] > 0
    assert first.attributes[sc.USAGE_INPUT_TOKENS] > 0
    assert first.attributes[sc.REQUEST_BODY]["messages"] == [
        {"role": "user", "content": "What's the weather in Paris?"}
    ]
    assert first.attributes[sc.RESPONSE_BODY]["choices"][0]["finish_reason"] == "tool_calls"
    (part,) = first.attributes[sc.OUTPUT_MESSAGES][0]["parts"]
    assert (part["type"], part["name"], part["arguments"]) == ("tool_call", "get_weather", {"city": "Paris"})
    assert json.loads(tool.attributes[sc.TOOL_CALL_ARGUMENTS]) == {"city": "Paris"}
    assert json.loads(tool.attributes[sc.TOOL_CALL_RESULT]) == {"city": "Paris", "temperature_c": 18}
    assert tool.attributes[sc.STEP] == 1
    # The assistant message was passed back as the openai object: the request body holds it as JSON.
    assert second.attributes[sc.REQUEST_BODY]["messages"][1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second.attributes[sc.STEP] == 2
    assert run.input_tokens == sum(s.attributes[sc.USAGE_INPUT_TOKENS] for s in (first, second))


def test_async_agent_with_async_client_raw_response_and_stream(project: Project) -> None:
    spec = project(
        TOOL_LOOP
        + """
    async def answer(question):
        async with openai.AsyncOpenAI() as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="mock-gpt", messages=[{"role": "user", "content": question}], tools=TOOLS
            )
            call = raw.parse().choices[0].message.tool_calls[0]
            get_weather(**json.loads(call.function.arguments))
            stream = await client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": "hello"}], stream=True,
                stream_options={"include_usage": True},
            )
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        return {"greeting": text, "city": call.function.arguments}
    """
    )
    trace = _run(make_agent_under_test(spec), _job("weather in Oslo"))
    run = trace.run
    assert run.status == "completed", run.status_detail
    assert run.output_data == {
        "greeting": "Hello! I'm mockllm, a scripted model. How can I help?",
        "city": '{"city":"Oslo"}',
    }
    assert json.loads(run.output_text or "") == run.output_data
    raw_chat, tool, streamed = trace.spans[1:]
    assert raw_chat.attributes[sc.RESPONSE_BODY]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == (
        "get_weather"
    )
    assert raw_chat.attributes[sc.HTTP_STATUS] == 200
    assert tool.attributes[sc.TOOL_NAME] == "get_weather"
    assert streamed.attributes[sc.REQUEST_STREAM] is True
    assert streamed.status_code == "OK"
    assert streamed.attributes[sc.OUTPUT_MESSAGES][0]["parts"] == [
        {"type": "text", "content": "Hello! I'm mockllm, a scripted model. How can I help?"}
    ]
    assert streamed.attributes[sc.USAGE_OUTPUT_TOKENS] > 0
    assert streamed.attributes[sc.RESPONSE_BODY]["object"] == "chat.completion"


def test_sync_stream_read_to_the_end_is_recorded_and_an_abandoned_one_is_noted(project: Project) -> None:
    spec = project(
        """
    import openai

    def answer(question):
        with openai.OpenAI() as client:
            stream = client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": question}], stream=True
            )
            text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
            abandoned = client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            next(iter(abandoned))
            abandoned.close()
        return text
    """
    )
    trace = _run(make_agent_under_test(spec), _job("flip a coin"))
    assert trace.run.output_text in ("Heads.", "Tails.")
    done, abandoned = _by_op(trace, sc.OP_CHAT)
    assert done.status_code == "OK"
    assert done.attributes[sc.OUTPUT_MESSAGES][0]["parts"][0]["content"] == trace.run.output_text
    assert abandoned.status_code == "ERROR"
    assert "still open" in abandoned.attributes[instrument.NOTE]


def test_exception_in_the_user_agent_is_an_error_run_that_keeps_its_spans(project: Project) -> None:
    spec = project(
        """
    import openai

    def answer(question):
        client = openai.OpenAI(max_retries=0)
        try:
            client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "hello"}])
            client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": question}],
                extra_headers={"x-mockllm-fault": "500"},
            )
        finally:
            client.close()
        return "unreachable"
    """
    )
    trace = _run(make_agent_under_test(spec), _job("will fail"))
    run = trace.run
    assert run.status == "error"
    assert run.error_type == "InternalServerError"
    assert run.status_detail is not None
    assert run.status_detail.startswith("InternalServerError:")
    root = trace.spans[0]
    assert root.status_code == "ERROR"
    (event,) = [e for e in root.events if e.name == sc.EVENT_EXCEPTION]
    assert event.attributes["exception.type"] == "InternalServerError"
    assert "answer" in event.attributes["exception.stacktrace"]
    ok, failed = _by_op(trace, sc.OP_CHAT)
    assert ok.status_code == "OK"
    assert failed.status_code == "ERROR"
    assert failed.attributes[sc.HTTP_STATUS] == 500
    assert failed.attributes[sc.ERROR_TYPE]
    assert failed.events[0].name == sc.EVENT_EXCEPTION
    assert (run.llm_calls, run.steps) == (2, 1)


def test_slow_agent_times_out_with_its_spans(project: Project) -> None:
    spec = project(
        """
    import asyncio
    from harness.agent.instrument import trace_tool

    @trace_tool
    async def slow_search(query):
        await asyncio.sleep(30)

    async def answer(question):
        await slow_search(question)
    """
    )
    trace = _run(make_agent_under_test(spec), _job("anything", timeout_s=0.5))
    assert trace.run.status == "timeout"
    (tool,) = _by_op(trace, sc.OP_EXECUTE_TOOL)
    assert tool.status_code == "ERROR"
    assert tool.attributes[sc.TOOL_NAME] == "slow_search"


def test_conversation_input_reaches_the_agent_through_ctx(project: Project) -> None:
    spec = project(
        """
    def answer(question, ctx):
        return " | ".join(f"{m['role']}:{m['content']}" for m in ctx.messages) + f" -> {question}"
    """
    )
    conversation = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"},
    ]
    trace = _run(make_agent_under_test(spec), _job(conversation))
    assert trace.run.output_text == "user:hi | assistant:hello | user:bye -> bye"
    assert trace.run.input == "bye"


def test_pii_is_redacted_from_user_agent_traces(project: Project) -> None:
    spec = project(
        """
    import openai

    def answer(question):
        with openai.OpenAI() as client:
            reply = client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": question}])
        return reply.choices[0].message.content
    """
    )
    trace = _run(make_agent_under_test(spec), _job("mail me at jane.doe@example.com"))
    text = json.dumps([s.attributes for s in trace.spans]) + (trace.run.output_text or "") + trace.run.input
    assert "jane.doe@example.com" not in text
    assert "[EMAIL]@example.com" in text


def test_openai_calls_outside_a_run_pass_through(server: MockLLMServer) -> None:
    instrument.install()
    with openai.OpenAI() as client:
        reply = client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "Hello! I'm mockllm, a scripted model. How can I help?"
    assert instrument.current_run() is None


def test_concurrent_user_runs_keep_their_spans_apart(project: Project) -> None:
    spec = project(
        TOOL_LOOP
        + """
    import asyncio

    async def answer(question):
        async with openai.AsyncOpenAI() as client:
            for _ in range(2):
                reply = await client.chat.completions.create(
                    model="mock-gpt", messages=[{"role": "user", "content": question}], tools=TOOLS
                )
                call = reply.choices[0].message.tool_calls[0]
                await asyncio.to_thread(get_weather, **json.loads(call.function.arguments))
        return question
    """
    )
    agent = make_agent_under_test(spec)

    async def both() -> list[RunTrace]:
        jobs = [_job("weather in Paris", run_id="run-p", id="p"), _job("weather in Tokyo", run_id="run-t", id="t")]
        return list(await asyncio.gather(*(agent.run_case(j) for j in jobs)))

    for trace, city in zip(asyncio.run(both()), ("Paris", "Tokyo"), strict=True):
        spans = trace.spans
        assert len(spans) == 5
        assert {s.run_id for s in spans} == {trace.run.run_id}
        assert {s.trace_id for s in spans} == {trace.run.trace_id}
        assert {s.parent_span_id for s in spans[1:]} == {spans[0].span_id}
        for tool in _by_op(trace, sc.OP_EXECUTE_TOOL):
            assert json.loads(tool.attributes[sc.TOOL_CALL_ARGUMENTS]) == {"city": city}
        for chat in _by_op(trace, sc.OP_CHAT):
            assert chat.attributes[sc.REQUEST_BODY]["messages"][0]["content"] == f"weather in {city}"
    first, second = asyncio.run(both())
    assert first.run.trace_id != second.run.trace_id


def test_weather_example_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    monkeypatch.delitem(sys.modules, "agent", raising=False)
    dataset = Dataset.model_validate(yaml.safe_load((EXAMPLE / "datasets" / "weather.yaml").read_text()))
    assert dataset.agent == "agent:answer"
    with MockLLMServer(EXAMPLE / "scenario.yaml") as weather:
        monkeypatch.setenv("OPENAI_BASE_URL", weather.base_url)
        agent = make_agent_under_test(dataset.agent)

        async def all_cases() -> list[RunTrace]:
            jobs = [
                CaseJob(case, Variant(name="default", model="mock-gpt"), f"run-{case.id}", 1, 3, weather.base_url, 30)
                for case in dataset.cases
            ]
            return list(await asyncio.gather(*(agent.run_case(j) for j in jobs)))

        traces = {t.run.case_id: t for t in asyncio.run(all_cases())}
    sys.modules.pop("agent", None)
    assert {t.run.status for t in traces.values()} == {"completed"}
    for case in dataset.cases:
        trace = traces[case.id]
        made = [
            (s.attributes[sc.TOOL_NAME], json.loads(s.attributes[sc.TOOL_CALL_ARGUMENTS]))
            for s in _by_op(trace, sc.OP_EXECUTE_TOOL)
        ]
        for expected in case.expected.tool_calls:  # subset argument match, as the dataset's default
            assert any(n == expected.name and expected.arguments.items() <= a.items() for n, a in made), case.id
        if case.expected.no_tool_calls:
            assert made == []
        text = (trace.run.output_text or "").lower()
        assert all(s.lower() in text for s in case.expected.output_contains), (case.id, text)
        assert not any(s.lower() in text for s in case.expected.output_not_contains), (case.id, text)
        assert trace.run.llm_calls == len(_by_op(trace, sc.OP_CHAT)) >= 1
    unknown = traces["unknown-city"]
    (failed_tool,) = _by_op(unknown, sc.OP_EXECUTE_TOOL)
    assert failed_tool.attributes[sc.TOOL_OUTCOME] == "error"
    assert failed_tool.attributes[sc.ERROR_TYPE] == "UnknownCityError"
    assert unknown.run.tool_errors == 1
    two = traces["two-cities"]
    assert [s.attributes[sc.STEP] for s in _by_op(two, sc.OP_EXECUTE_TOOL)] == [1, 1]
