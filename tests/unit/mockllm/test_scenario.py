from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.mockllm import bundled_scenarios, load_scenario, scenario_from_text


def _error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value).replace(str(path), "scenario.yaml")


def test_bundled_default_loads() -> None:
    assert "default" in bundled_scenarios()
    scenario = load_scenario()
    assert scenario.name == "default"
    assert scenario.rules
    assert scenario.fallback is not None


def test_unknown_key_names_line_suggestion_and_valid_keys(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "name: x\nrules:\n  - text: hi\n    when:\n      last_usr: hello\n")
    assert "scenario.yaml:5: rules[0].when.last_usr: unknown key 'last_usr' (did you mean 'last_user'?)" in message
    assert "Valid keys here:" in message
    assert "tools_offered" in message


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    text = (
        "rules:\n"
        "  - when: {last_user: {regex: '(unclosed'}}\n"  # line 2
        "    text: hi\n"
        "  - when: {last_role: robot}\n"  # line 4
        "    text: hi\n"
        "  - name: nothing to say\n"  # line 6
    )
    message = _error_for(tmp_path, text)
    assert "scenario.yaml:2: rules[0].when.last_user.regex: invalid regex '(unclosed'" in message
    assert "scenario.yaml:4: rules[1].when.last_role: Input should be 'system', 'developer', 'user'" in message
    assert "scenario.yaml:6: rules[2]: a rule needs an answer" in message


def test_template_with_unknown_variable_is_rejected_at_load(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "rules:\n  - text: 'Hi {{ usr }}'\n")
    assert "scenario.yaml:2:" in message
    assert "unknown variable(s) usr" in message
    assert "last_user" in message  # lists what is available


def test_template_syntax_error_is_rejected_at_load(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "rules:\n  - tool_calls:\n      - name: x\n        arguments: {a: '{{ match.x '}\n")
    assert "scenario.yaml:3:" in message or "scenario.yaml:4:" in message
    assert "template syntax error" in message


def test_yaml_syntax_and_duplicate_keys(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "name: x\nrules:\n  - text: [unclosed\n")
    assert "scenario.yaml:4: expected ',' or ']'" in message
    assert "while parsing a flow sequence at line 3" in message
    message = _error_for(tmp_path, "name: a\nname: b\n")
    assert "scenario.yaml:2: key 'name' appears twice" in message


def test_alternatives_and_direct_answer_conflict(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "rules:\n  - text: x\n    alternatives: [{text: y}]\n")
    assert "either alternatives or text/json/tool_calls" in message


def test_missing_file_and_unknown_bundled_name() -> None:
    with pytest.raises(ScenarioError, match="no bundled scenario by that name"):
        load_scenario("no-such-scenario")
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(Path("/nonexistent/dir/s.yaml"))


def test_shorthands_expand() -> None:
    text = "models: [a, {id: b, context_window: 10}]\nrules:\n  - when: {last_user: hi}\n    text: x\n"
    scenario = scenario_from_text(text)
    assert [m.id for m in scenario.models] == ["a", "b"]
    assert scenario.rules[0].when.last_user is not None
    assert scenario.rules[0].when.last_user.contains == ["hi"]
