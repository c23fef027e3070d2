"""make_agent_under_test: the built-in names, module:function, and the errors a user sees for a wrong spec."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.agent.adapters import (
    CallableUnderTest,
    RecordedUnderTest,
    SupportUnderTest,
    ToolCallingUnderTest,
    make_agent_under_test,
)
from harness.agent.adapters.callable import render_output
from harness.errors import ConfigError
from harness.models.cases import Dataset

WriteModule = Callable[[str, str], str]


@pytest.fixture
def write_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteModule:
    """Write a module into a fresh working directory; return its unique name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the adapter puts the cwd on sys.path; undo it
    counter = iter(range(1000))

    def write(stem: str, source: str) -> str:
        name = f"{stem}_{tmp_path.name.replace('-', '_')}_{next(counter)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return write


@pytest.mark.parametrize(
    ("spec", "kind"),
    [("support", SupportUnderTest), ("tool-calling", ToolCallingUnderTest), ("recorded", RecordedUnderTest)],
)
def test_built_in_names(spec: str, kind: type) -> None:
    agent = make_agent_under_test(spec)
    assert isinstance(agent, kind)
    assert agent.name == spec


def test_tool_names_per_adapter() -> None:
    dataset = Dataset.model_validate(
        {
            "name": "d",
            "cases": [
                {"id": "a", "input": "x", "tools": [{"name": "get_weather"}]},
                {"id": "b", "input": "y", "tools": [{"name": "math.factorial"}, {"name": "get_weather"}]},
            ],
        }
    )
    assert make_agent_under_test("support").tool_names(dataset) == {
        "lookup_order",
        "search_kb",
        "issue_refund",
        "send_email",
        "escalate_to_human",
    }
    assert make_agent_under_test("tool-calling").tool_names(dataset) == {"get_weather", "math.factorial"}
    assert make_agent_under_test("recorded").tool_names(dataset) is None


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"Unknown agent 'suport'.*support, tool-calling, recorded.*module:function"):
        make_agent_under_test("suport")


def test_module_function_is_imported_from_the_working_directory(write_module: WriteModule) -> None:
    name = write_module("agent", "def answer(question):\n    return question.upper()\n")
    agent = make_agent_under_test(f"{name}:answer")
    assert isinstance(agent, CallableUnderTest)
    assert agent.name == f"{name}:answer"
    assert agent.function("hi") == "HI"
    assert not agent.takes_context
    assert not agent.is_async


def test_missing_module_says_where_it_looked_and_how_to_fix(write_module: WriteModule, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_agent_under_test("no_such_agent_module:answer")
    message = str(caught.value)
    assert "module 'no_such_agent_module' was not found" in message
    assert str(tmp_path) in message
    assert "project root" in message
    assert "PYTHONPATH" in message


def test_missing_dependency_of_the_module_is_not_reported_as_the_module_missing(write_module: WriteModule) -> None:
    name = write_module("needs_dep", "import surely_not_installed_pkg\n\ndef answer(q):\n    return q\n")
    with pytest.raises(ConfigError, match=r"importing '.*' failed: No module named 'surely_not_installed_pkg'"):
        make_agent_under_test(f"{name}:answer")


def test_module_that_raises_on_import(write_module: WriteModule) -> None:
    name = write_module("broken", "def answer(q):\n    return q\n\nraise RuntimeError('no config file')\n")
    with pytest.raises(ConfigError, match=r"raised RuntimeError: no config file.*Fix the module"):
        make_agent_under_test(f"{name}:answer")


def test_missing_attribute_lists_the_functions_there(write_module: WriteModule) -> None:
    name = write_module("agent", "def answer(q):\n    return q\n\ndef helper(x):\n    return x\n")
    with pytest.raises(ConfigError, match=r"has no attribute 'answr'\. Functions defined there: answer, helper"):
        make_agent_under_test(f"{name}:answr")


def test_attribute_that_is_not_callable(write_module: WriteModule) -> None:
    name = write_module("agent", "answer = 'forty-two'\n")
    with pytest.raises(ConfigError, match=r"'answer' is a str, not a function.*def answer\(question: str\)"):
        make_agent_under_test(f"{name}:answer")


def test_spec_without_function_part() -> None:
    with pytest.raises(ConfigError, match="not a function reference"):
        CallableUnderTest("agent:")


def test_function_with_too_many_required_parameters(write_module: WriteModule) -> None:
    name = write_module("agent", "def answer(q, ctx, extra):\n    return q\n")
    with pytest.raises(ConfigError, match=r"takes 3 required positional parameter"):
        make_agent_under_test(f"{name}:answer")


@pytest.mark.parametrize(
    ("signature", "takes_context", "is_async"),
    [
        ("def answer(question):", False, False),
        ("def answer(question, ctx):", True, False),
        ("def answer(question, ctx=None):", True, False),
        ("async def answer(question):", False, True),
        ("async def answer(question, ctx):", True, True),
        ("def answer(*args):", True, False),
    ],
)
def test_context_and_async_detection(
    write_module: WriteModule, signature: str, takes_context: bool, is_async: bool
) -> None:
    name = write_module("agent", f"{signature}\n    return 'x'\n")
    agent = CallableUnderTest(f"{name}:answer")
    assert agent.takes_context is takes_context
    assert agent.is_async is is_async


def test_dotted_attribute_and_async_callable_object(write_module: WriteModule) -> None:
    name = write_module(
        "agent",
        """
        class Bot:
            async def __call__(self, question):
                return question

        bot = Bot()
        """,
    )
    agent = CallableUnderTest(f"{name}:bot")
    assert agent.is_async
    assert not agent.takes_context


def test_root_argument_imports_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    project = tmp_path / "project"
    project.mkdir()
    (project / "rooted_agent_mod.py").write_text("def answer(q):\n    return 'rooted'\n")
    agent = make_agent_under_test("rooted_agent_mod:answer", root=project)
    assert isinstance(agent, CallableUnderTest)
    assert agent.function("x") == "rooted"


def test_render_output_by_return_type() -> None:
    from pydantic import BaseModel

    class Reply(BaseModel):
        text: str
        score: int

    assert render_output("plain") == ("plain", None)
    assert render_output(None) == (None, None)
    assert render_output(Reply(text="hi", score=2)) == ('{"text":"hi","score":2}', {"text": "hi", "score": 2})
    assert render_output({"a": [1, 2]}) == ('{"a": [1, 2]}', {"a": [1, 2]})
    assert render_output([{"x": 1}]) == ('[{"x": 1}]', [{"x": 1}])
    assert render_output(42) == ("42", None)
