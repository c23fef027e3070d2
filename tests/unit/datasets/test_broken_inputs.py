"""Every kind of broken dataset input fails `agenteval datasets validate` with exit 2 and a `file:line:` problem.

Each row writes one broken file and checks the exact line and a phrase of the message: the line is what sends a user
to the right place, the phrase says what is wrong there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


@dataclass(frozen=True)
class Broken:
    kind: str
    filename: str
    content: str | bytes
    line: int
    phrase: str


CASE = "cases:\n  - id: a\n    input: hi\n"

BROKEN = [
    Broken("bad YAML syntax", "d.yaml", "cases:\n  - id: a\n    input: [hi\n  - id: b\n", 4, "Fix the YAML syntax"),
    Broken(
        "bad JSON on a JSONL line",
        "d.jsonl",
        '{"id": "a", "input": "hi"}\n{"id": "b", "input": "hi",}\n',
        2,
        "not valid JSON",
    ),
    Broken("empty file", "d.yaml", "", 1, "the file is empty"),
    Broken("whitespace-only file", "d.jsonl", "  \n\n\t\n", 1, "only whitespace"),
    Broken("binary file (NUL byte)", "d.yaml", b"cases:\n  - id: a\x00\n", 2, "binary content (a NUL byte)"),
    Broken("not UTF-8", "d.yaml", b"cases:\n  - id: a\n    input: caf\xe9\n", 3, "byte 0xe9 is not UTF-8"),
    Broken("YAML top level is a list", "d.yaml", "# cases\n- id: a\n  input: hi\n", 2, "put it under `cases:`"),
    Broken("YAML top level is a scalar", "d.yaml", "just some text\n", 1, "the top level is a single value"),
    Broken("a JSONL line is not an object", "d.jsonl", '{"id": "a", "input": "hi"}\n["b"]\n', 2, "not a JSON object"),
    Broken("cases missing", "d.yaml", "name: x\nagent: support\n", 1, "required key 'cases' is missing"),
    Broken("cases not a list", "d.yaml", "name: x\ncases:\n  id: a\n", 2, "cases: must be a list"),
    Broken("cases empty list", "d.yaml", "name: x\ncases: []\n", 2, "the list is empty"),
    Broken("JSONL with only a header", "d.jsonl", '\n{"dataset": {"name": "x"}}\n', 2, "no cases"),
    Broken(
        "duplicate case ids",
        "d.yaml",
        CASE + "  - id: b\n    input: hi\n  - id: a\n    input: again\n",
        6,
        "duplicate case id 'a' (first used at line 2)",
    ),
    Broken(
        "duplicate case ids in JSONL",
        "d.jsonl",
        '{"id": "a", "input": "hi"}\n\n{"id": "a", "input": "hi"}\n',
        3,
        "duplicate case id 'a' (first used at line 1)",
    ),
    Broken("unknown top-level key", "d.yaml", "descripton: x\n" + CASE, 1, "did you mean 'description'?"),
    Broken(
        "unknown nested key",
        "d.yaml",
        CASE + "    expected:\n      tool_cals: []\n",
        5,
        "unknown key 'tool_cals' (did you mean 'tool_calls'?)",
    ),
    Broken(
        "unknown key in a JSONL header",
        "d.jsonl",
        '{"dataset": {"agnt": "support"}}\n{"id": "a", "input": "hi"}\n',
        1,
        "did you mean 'agent'?",
    ),
    Broken("wrong type: tags: 5", "d.yaml", CASE + "    tags: 5\n", 4, "cases[0].tags: must be a list, not a number"),
    Broken(
        "wrong type: input: 3",
        "d.yaml",
        "cases:\n  - id: a\n    input: 3\n",
        3,
        "must be the user's message (a string)",
    ),
    Broken("missing id", "d.yaml", CASE + "  - input: hello\n", 4, "required key 'id' is missing"),
    Broken(
        "missing input", "d.jsonl", '{"id": "a", "input": "hi"}\n{"id": "b"}\n', 2, "required key 'input' is missing"
    ),
    Broken(
        "invalid case id characters",
        "d.yaml",
        "cases:\n  - id: refund 1!\n    input: hi\n",
        2,
        "invalid case id 'refund 1!'",
    ),
    Broken("empty input", "d.yaml", "cases:\n  - id: a\n    input: '   '\n", 3, "the input is empty"),
    Broken(
        "conversation not ending with a user message",
        "d.yaml",
        "cases:\n  - id: a\n    input:\n      - {role: user, content: hi}\n      - {role: assistant, content: yo}\n",
        3,
        "must end with a user message (the last one here is 'assistant')",
    ),
    Broken(
        "unknown message role",
        "d.yaml",
        "cases:\n  - id: a\n    input:\n      - {role: usr, content: hi}\n",
        4,
        "unknown role 'usr' (did you mean 'user'?)",
    ),
    Broken(
        "invalid regex",
        "d.yaml",
        CASE + "    expected:\n      output_regex: '(unclosed'\n",
        5,
        "invalid regex '(unclosed': missing ), unterminated subpattern at position 0. Fix the pattern",
    ),
    Broken(
        "unknown status",
        "d.yaml",
        CASE + "    expected:\n      status: [completed, escalatd]\n",
        5,
        "unknown status 'escalatd' (did you mean 'escalated'?)",
    ),
    Broken(
        "unknown agent kind",
        "d.yaml",
        "name: x\nagent: suport\n" + CASE,
        2,
        "unknown agent 'suport' (did you mean 'support'?)",
    ),
    Broken(
        "expected tool call not among the case's tools",
        "d.yaml",
        "agent: tool-calling\n" + CASE + "    tools: [{name: get_weather}]\n    expected:\n"
        "      tool_calls:\n        - {name: get_wether}\n",
        8,
        "unknown tool 'get_wether' (did you mean 'get_weather'?)",
    ),
    Broken(
        "forbidden call not among the case's tools",
        "d.yaml",
        "agent: tool-calling\n" + CASE + "    tools: [{name: get_weather}]\n    expected:\n"
        "      forbidden_calls: [{name: send_email}]\n",
        7,
        "forbidden_calls[0].name: unknown tool 'send_email'",
    ),
    Broken(
        "tool_results override for a tool the case does not have",
        "d.jsonl",
        '{"dataset": {"agent": "tool-calling"}}\n'
        '{"id": "a", "input": "hi", "tools": [{"name": "f"}], "tool_results": [{"tool": "g", "content": "x"}]}\n',
        2,
        "tool_results[0].tool: unknown tool 'g'",
    ),
    Broken(
        "support dataset naming a tool the support agent lacks",
        "d.yaml",
        CASE + "    expected:\n      tool_calls: [{name: refund}]\n",
        5,
        "unknown tool 'refund' (did you mean 'issue_refund'?)",
    ),
    Broken(
        "duplicate YAML keys", "d.yaml", "cases:\n  - id: a\n    input: hi\n    id: b\n", 4, "key 'id' appears twice"
    ),
    Broken("duplicate JSON keys", "d.jsonl", '{"id": "a", "input": "hi", "id": "b"}\n', 1, "key 'id' appears twice"),
    Broken("comments only", "d.yaml", "# nothing here yet\n", 1, "holds only comments"),
    Broken(
        "dataset header not on the first line",
        "d.jsonl",
        '{"id": "a", "input": "hi"}\n{"dataset": {}}\n',
        2,
        "must be the first line",
    ),
    Broken("unsupported suffix", "d.txt", CASE, 1, "unsupported file type '.txt'"),
]


def validate(*paths: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["datasets", "validate", *map(str, paths)])
    return result.exit_code, result.stderr


@pytest.mark.parametrize("broken", BROKEN, ids=[b.kind for b in BROKEN])
def test_broken_input_fails_with_file_line_and_reason(tmp_path: Path, broken: Broken) -> None:
    path = tmp_path / broken.filename
    if isinstance(broken.content, bytes):
        path.write_bytes(broken.content)
    else:
        path.write_text(broken.content, encoding="utf-8")
    code, err = validate(path)
    assert code == 2, err
    matching = [line for line in err.splitlines() if f"{path}:{broken.line}:" in line]
    assert matching, f"no problem at {path}:{broken.line}:\n{err}"
    assert any(broken.phrase in line for line in matching), err


def test_there_are_at_least_twenty_kinds() -> None:
    assert len({b.kind for b in BROKEN}) >= 20


def test_missing_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    code, err = validate(missing)
    assert code == 2
    assert f"{missing}: no such file" in err


def test_folder_without_dataset_files_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("not a dataset")
    code, err = validate(tmp_path)
    assert code == 2
    assert f"{tmp_path}: no dataset files (.yaml, .yml, .jsonl)" in err


def test_every_problem_of_every_file_is_listed_in_line_order(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text(
        "agent: suport\ncases:\n  - id: x y\n    input: ''\n  - id: ok\n    input: hi\n    tags: 5\n", encoding="utf-8"
    )
    second = tmp_path / "b.jsonl"
    second.write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    code, err = validate(first, second)
    assert code == 2
    lines = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    assert [line.split(": ")[0] for line in lines] == [
        f"{first}:1",
        f"{first}:3",
        f"{first}:4",
        f"{first}:7",
        f"{second}:1",
        f"{second}:2",
    ]
    assert "2 of 2 dataset file(s) invalid (6 problem(s))" in err


def test_markup_like_text_in_a_problem_is_printed_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(CASE + "    expected:\n      output_regex: '[red]('\n", encoding="utf-8")
    code, err = validate(path)
    assert code == 2
    assert "invalid regex '[red]('" in err
