"""The YAML writer: readable block style, declaration order, defaults left out, and an exact round trip."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.datasets.importers import dump_dataset, write_dataset
from harness.models.cases import Case, Dataset, Expected, ExpectedCall, ForbiddenCall, Message, ToolResultOverride

TRICKY = [
    "line one\nline two\n",
    "no final newline\nsecond",
    "\n\n\nleading blank lines and trailing ones\n\n\n",
    "  indented first line\nthen flush",
    "trailing space on a line \nnext",
    "tab\tinside\nand a line",
    "true",
    "1.5",
    "2024-05-26",
    "null",
    "- looks like a list",
    "key: value",
    "# not a comment",
    "'quoted'",
    'say "hi"',
    "unicode: 你是个傻瓜 — ✓",
    "control \x07 character",
    "line\r\nwindows",
]


def _dataset() -> Dataset:
    cases = [Case(id=f"tricky-{i}", input=text, metadata={"text": text}) for i, text in enumerate(TRICKY)]
    cases.append(
        Case(
            id="full",
            input=[Message(role="system", content="Be brief.\nAlways."), Message(role="user", content="Hi")],
            tags=["a", "b/c"],
            expected=Expected(
                status=["completed", "escalated"],
                output_fields={"resolution": "refunded", "order_id": None},
                tool_calls=[ExpectedCall(name="f", arguments={"x": 1.0, "y": [1, 2]}, acceptable={"x": [1.0, ""]})],
                forbidden_calls=[ForbiddenCall(name="send_email", arguments={"to": r"(?i)@evil\.example$"})],
                triggers=["pwned"],
                max_tool_calls=0,
            ),
            tool_results=[ToolResultOverride(tool="lookup_order", content="a\nb", mode="replace")],
        )
    )
    return Dataset(name="x/y", description="d", agent="tool-calling", source="s", license="MIT", cases=cases)


def test_round_trip_is_exact() -> None:
    dataset = _dataset()
    assert Dataset.model_validate(yaml.safe_load(dump_dataset(dataset))) == dataset


def test_multi_line_strings_are_literal_blocks_and_defaults_are_omitted() -> None:
    text = dump_dataset(_dataset())
    assert "    input: |\n      line one\n      line two\n" in text
    assert "input: |-\n      no final newline\n      second\n" in text
    # Defaults (mode: append, tool_call_match: subset, empty lists) are not written; non-defaults are.
    assert "mode: replace" in text
    assert "tool_call_match" not in text
    assert "rubrics" not in text
    assert "no_tool_calls" not in text
    # Strings that YAML would read as something else stay strings.
    assert "input: 'true'" in text
    assert "input: '2024-05-26'" in text


def test_keys_follow_the_models_declaration_order() -> None:
    text = dump_dataset(_dataset())
    top = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "-"))]
    assert top == ["name", "description", "agent", "source", "license", "cases"]
    full = text[text.index("- id: full") :]
    positions = [full.index(f"    {key}:") for key in ("input", "tags", "expected", "tool_results")]
    assert positions == sorted(positions)
    expected = full[full.index("expected:") :]
    order = [expected.index(f"      {key}:") for key in ("status", "output_fields", "tool_calls", "forbidden_calls")]
    assert order == sorted(order)


def test_block_sequences_are_indented_under_their_key() -> None:
    assert "    tags:\n      - a\n      - b/c\n" in dump_dataset(_dataset())


def test_header_becomes_comment_lines_and_files_are_written(tmp_path: Path) -> None:
    dataset = Dataset(name="d", cases=[Case(id="c", input="Hi")])
    path = write_dataset(dataset, tmp_path / "nested" / "d.yaml", header="Generated.\n\nRe-run the script.")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Generated.\n#\n# Re-run the script.\nname: d\n")
    assert Dataset.model_validate(yaml.safe_load(text)) == dataset


def test_an_empty_dataset_still_has_cases() -> None:
    text = dump_dataset(Dataset(name="empty", cases=[]))
    assert yaml.safe_load(text) == {"name": "empty", "cases": []}
