"""BFCL importer on the vendored samples: categories, schema dialect, acceptable answers, irrelevance."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harness.datasets.importers import dump_dataset, import_bfcl
from harness.datasets.importers.bfcl import convert_schema, first_value
from harness.errors import ConfigError, FileFormatError
from harness.models.cases import Case, Dataset
from tests.unit.datasets.importers._paths import UPSTREAM

SRC = UPSTREAM / "bfcl"


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return {d.name: d for d in import_bfcl(SRC)}


def _case(datasets: dict[str, Dataset], name: str, case_id: str) -> Case:
    return next(c for c in datasets[name].cases if c.id == case_id)


def test_one_dataset_per_category_and_multi_turn_is_skipped(datasets: dict[str, Dataset]) -> None:
    assert {name: len(d.cases) for name, d in datasets.items()} == {
        "bfcl/irrelevance": 2,
        "bfcl/multiple": 4,
        "bfcl/parallel": 2,
        "bfcl/parallel_multiple": 2,
        "bfcl/simple_python": 3,
    }
    for dataset in datasets.values():
        assert (dataset.agent, dataset.license) == ("tool-calling", "Apache-2.0")
        assert "gorilla" in (dataset.source or "")
        # Through the writer and back, exactly.
        assert Dataset.model_validate(yaml.safe_load(dump_dataset(dataset))) == dataset


def test_the_question_becomes_the_input_and_functions_the_tools(datasets: dict[str, Dataset]) -> None:
    case = _case(datasets, "bfcl/simple_python", "simple_python_1")
    assert case.input == "Calculate the factorial of 5 using math functions."
    [tool] = case.tools
    assert tool.name == "math_factorial"  # OpenAI-safe, as BFCL names functions for OpenAI models
    assert tool.parameters == {
        "type": "object",
        "properties": {
            "number": {"type": "integer", "description": "The number for which factorial needs to be calculated."}
        },
        "required": ["number"],
    }
    assert case.metadata == {
        "source": "bfcl",
        "upstream_id": "simple_python_1",
        "category": "simple_python",
        "upstream_names": {"math_factorial": "math.factorial"},
    }
    assert case.tags == ["bfcl", "bfcl/simple_python"]


def test_the_type_dialect_becomes_json_schema() -> None:
    schema = {
        "type": "dict",
        "properties": {
            "point": {"type": "tuple", "items": {"type": "float"}},
            "data": {"type": "any", "description": "anything"},
            "flag": {"type": "boolean", "default": True, "optional": True},
            "nested": {"type": "array", "items": {"type": "dict", "properties": {"x": {"type": "float"}}}},
        },
        "required": ["point"],
    }
    assert convert_schema(schema) == {
        "type": "object",
        "properties": {
            "point": {"type": "array", "items": {"type": "number"}},
            "data": {"description": "anything"},
            "flag": {"type": "boolean", "default": True},
            "nested": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}},
        },
        "required": ["point"],
    }


def test_samples_with_tuple_and_any_convert(datasets: dict[str, Dataset]) -> None:
    text = yaml.safe_dump([t.parameters for d in datasets.values() for c in d.cases for t in c.tools])
    for bfcl_only in ("type: dict", "type: float", "type: tuple", "type: any", "optional:"):
        assert bfcl_only not in text
    assert "type: array" in text


def test_acceptable_answers_and_optional_arguments(datasets: dict[str, Dataset]) -> None:
    [call] = _case(datasets, "bfcl/simple_python", "simple_python_0").expected.tool_calls
    assert call.name == "calculate_triangle_area"
    assert call.acceptable == {"base": [10], "height": [5], "unit": ["units", ""]}
    # "" means the argument may be left out, so it is not among the arguments that must be given.
    assert call.arguments == {"base": 10, "height": 5}


def test_nested_dict_answers_are_collapsed_for_arguments_and_kept_for_acceptable(datasets: dict[str, Dataset]) -> None:
    [call] = _case(datasets, "bfcl/multiple", "multiple_8").expected.tool_calls
    assert call.acceptable is not None
    assert call.acceptable["budget"] == [{"min": [300000], "max": [400000]}]
    assert call.arguments["budget"] == {"min": 300000, "max": 400000}
    assert call.arguments["location"] == "SD"
    assert first_value([{"a": [1], "b": ["", 2]}]) == {"a": 1}


def test_parallel_calls_match_in_any_order(datasets: dict[str, Dataset]) -> None:
    expected = _case(datasets, "bfcl/parallel", "parallel_0").expected
    assert expected.tool_call_match == "unordered"
    assert [(c.name, c.arguments) for c in expected.tool_calls] == [
        ("spotify_play", {"artist": "Taylor Swift", "duration": 20}),
        ("spotify_play", {"artist": "Maroon 5", "duration": 15}),
    ]
    names = {c.name for c in _case(datasets, "bfcl/parallel_multiple", "parallel_multiple_0").expected.tool_calls}
    assert names == {"math_toolkit_sum_of_multiples", "math_toolkit_product_of_primes"}


def test_irrelevance_expects_no_tool_call(datasets: dict[str, Dataset]) -> None:
    for case in datasets["bfcl/irrelevance"].cases:
        assert case.expected.no_tool_calls
        assert case.expected.tool_calls == []
        assert case.tools


def test_a_folder_without_question_files_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no BFCL_v4_"):
        import_bfcl(tmp_path)


def test_a_malformed_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    shutil.copyfile(SRC / "BFCL_v4_simple_python.json", tmp_path / "BFCL_v4_simple_python.json")
    with (tmp_path / "BFCL_v4_simple_python.json").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "broken", "question": \n')
    with pytest.raises(FileFormatError) as caught:
        import_bfcl(tmp_path)
    assert f"{tmp_path / 'BFCL_v4_simple_python.json'}:4:" in str(caught.value)


def test_a_category_without_answers_is_imported_without_expected_calls(tmp_path: Path) -> None:
    shutil.copyfile(SRC / "BFCL_v4_multiple.json", tmp_path / "BFCL_v4_multiple.json")
    [dataset] = import_bfcl(tmp_path)
    assert all(case.expected.tool_calls == [] for case in dataset.cases)
    assert "no possible_answer" in dataset.description
