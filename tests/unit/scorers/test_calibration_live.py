"""Live judge calibration: labelled pairs judged now with a pairwise rubric, by a scripted judge whose verdicts are
known in advance, so that every figure of the report can be worked out by hand; recorded, then replayed offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.api._judge import SCRIPTED_NOTE, calibrate_live
from harness.errors import ConfigError
from harness.scorers.calibration import (
    CalibrationError,
    LabelledPair,
    detect_pairs_format,
    judged_item,
    pair_contexts,
    pairs_dataset,
    read_pairs,
)
from harness.scorers.judges import JUDGE_MARKER, OrderVerdict, PairwiseResult, pairwise_cassette_path

PANDALM = Path(__file__).resolve().parents[2] / "fixtures" / "calibration" / "pandalm" / "testset-v1.json"

RUBRIC = """---
name: test/calibration-pairwise
kind: pairwise
---
Which response answers better?
{{ input }}
Response A: {{ output_a }}
Response B: {{ output_b }}
"""
POINTWISE_RUBRIC = """---
name: test/pointwise
scale: {min: 1, max: 5}
---
{{ output }}
"""
# A judge that reads content: it prefers the response holding PREFERRED, never answers about one holding GARBLED
# (not even after the repair request), and calls the rest a tie.
CONTENT_JUDGE = rf"""
rules:
  - when: {{system: {{contains: "{JUDGE_MARKER}"}}, any_user: {{regex: '<final_answer_[ab] id="\w+">[^<]*?GARBLED'}}}}
    text: "Both are fine, I suppose."
  - when: {{system: {{contains: "{JUDGE_MARKER}"}}, any_user: {{regex: '<final_answer_a id="\w+">[^<]*?PREFERRED'}}}}
    json: {{reasoning: "A holds the marker.", label: A}}
  - when: {{system: {{contains: "{JUDGE_MARKER}"}}, any_user: {{regex: '<final_answer_b id="\w+">[^<]*?PREFERRED'}}}}
    json: {{reasoning: "B holds the marker.", label: B}}
  - when: {{system: {{contains: "{JUDGE_MARKER}"}}}}
    json: {{reasoning: "Neither holds the marker.", label: tie}}
"""
# A judge that only looks at position: whatever it is shown first wins.
FIRST_WINS_JUDGE = f"""
rules:
  - when: {{system: {{contains: "{JUDGE_MARKER}"}}}}
    json: {{reasoning: "The first response is better.", label: A}}
"""
# (output_1, output_2, gold label) and what the content judge answers in each order, by hand.
PAIRS = [
    ("PREFERRED: Paris.", "Lyon.", 1),  # "1", "1": right twice
    ("Lyon.", "PREFERRED: Paris.", 2),  # "2", "2": right twice
    ("Paris.", "PREFERRED: Lyon.", 1),  # "2", "2": consistently wrong
    ("Paris, France.", "Paris.", 2),  # "tie", "tie": wrong twice (LLMBar's gold labels are never tie)
    ("GARBLED", "Paris.", 1),  # None, None: two parse failures
]


def write_pairs(folder: Path, pairs: list[tuple[str, str, int]] = PAIRS) -> Path:
    """An LLMBar-format ``dataset.json`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataset.json"
    items = [{"input": f"Question {i}: capital of France?", "output_1": a, "output_2": b, "label": label}
             for i, (a, b, label) in enumerate(pairs)]  # fmt: skip
    path.write_text(json.dumps(items, indent=1), encoding="utf-8")
    return path


def write_project(root: Path, scenario: str = CONTENT_JUDGE) -> tuple[Path, Path]:
    """A project whose scripted server plays ``scenario``: (the pairwise rubric, the LLMBar pairs)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.agenteval]\nscenario = 'judge.yaml'\n", encoding="utf-8")
    (root / "judge.yaml").write_text(scenario, encoding="utf-8")
    (root / "pairwise.md").write_text(RUBRIC, encoding="utf-8")
    (root / "pointwise.md").write_text(POINTWISE_RUBRIC, encoding="utf-8")
    return root / "pairwise.md", write_pairs(root / "Natural")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)
    return write_project(tmp_path)


# -- reading labelled pairs ----------------------------------------------------------------------------------------


def test_llmbar_pairs_are_read_with_their_gold_labels(tmp_path: Path) -> None:
    path = write_pairs(tmp_path)
    pairs, format, labels = read_pairs(path)
    assert (format, labels, detect_pairs_format(path)) == ("llmbar", None, "llmbar")
    assert [(p.id, p.output_1, p.labels) for p in pairs[:2]] == [
        ("0", "PREFERRED: Paris.", ("1",)),
        ("1", "Lyon.", ("2",)),
    ]


def test_pandalm_pairs_join_instruction_and_input_and_keep_three_annotators() -> None:
    pairs, format, _ = read_pairs(PANDALM)
    raw = json.loads(PANDALM.read_text(encoding="utf-8"))
    assert format == "pandalm"
    assert len(pairs) == len(raw) == 500
    assert pairs[0].input == f"{raw[0]['instruction']}\n\n{raw[0]['input']}"
    assert pairs[0].labels == ("2", "2", "2")
    # Upstream quirks: a response stored as JSON true, and an instruction that is one space (its input is the task).
    by_id = {p.id: p for p in pairs}
    assert by_id["158"].output_1 == "True"
    assert by_id["466"].input == "Truthfulness"


def test_bad_pairs_name_every_bad_item_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "dataset.json"
    items = [
        {"input": "q", "output_1": "a", "output_2": "b", "label": 1},
        {"input": "q", "output_1": "a", "output_2": "b", "label": 0},
        {"input": "  ", "output_1": "a", "output_2": "b", "label": 2},
        {"input": "q", "output_1": None, "output_2": "b", "label": 2},
    ]
    path.write_text(json.dumps(items), encoding="utf-8")
    with pytest.raises(CalibrationError) as caught:
        read_pairs(path)
    assert caught.value.problems == [
        f"{path}: item 1: label is 0; expected 1 or 2 (the better output)",
        f"{path}: item 2: input is empty; a judge needs the user's input",
        f"{path}: item 3: output_1 missing or not text; expected input, output_1, output_2 as strings",
    ]
    with pytest.raises(CalibrationError, match=r"LLMBar's dataset\.json carries its own gold labels"):
        read_pairs(path, "llmbar", tmp_path / "labels.json")
    recorded = tmp_path / "result.json"
    recorded.write_text(json.dumps([{"label": 1, "results": []}]), encoding="utf-8")
    with pytest.raises(CalibrationError, match="give recorded verdicts with --recorded"):
        read_pairs(recorded)


def test_a_list_label_is_a_calibration_error_not_a_type_error(tmp_path: Path) -> None:
    path = tmp_path / "dataset.json"
    items = [
        {"input": "q", "output_1": "a", "output_2": "b", "label": [1]},
        {"input": "q", "output_1": "a", "output_2": "b", "label": {"1": 1}},
    ]
    path.write_text(json.dumps(items), encoding="utf-8")
    with pytest.raises(CalibrationError) as caught:
        read_pairs(path)
    assert caught.value.problems == [
        f"{path}: item 0: label is [1]; expected 1 or 2 (the better output)",
        f"{path}: item 1: label is {{'1': 1}}; expected 1 or 2 (the better output)",
    ]


# -- pairs as runs, results as judged items ------------------------------------------------------------------------


def test_each_pair_is_a_case_with_two_runs_and_a_readable_cassette_path(tmp_path: Path) -> None:
    path = write_pairs(tmp_path / "Adversarial" / "GPT Inst")
    dataset = pairs_dataset(path)
    assert dataset == "calibration/GPT_Inst/dataset"
    pair = LabelledPair(id="7", input="q?", output_1="one", output_2="two", labels=("1",))
    a, b = pair_contexts(pair, dataset, 7)
    assert (a.case.id, a.run.variant, a.output_text, b.run.variant, b.output_text) == (
        "7",
        "output_1",
        "one",
        "output_2",
        "two",
    )
    assert a.tool_calls == []
    cassette = pairwise_cassette_path(tmp_path / "cassettes", a, b, "test/calibration-pairwise")
    relative = cassette.relative_to(tmp_path / "cassettes").as_posix()
    assert relative == "calibration/GPT_Inst/dataset/pairwise/output_1-vs-output_2/7.e1.test_calibration-pairwise.yaml"
    odd = pair.model_copy(update={"id": "#7 (dup)"})
    assert pair_contexts(odd, dataset, 3)[0].case.id == "item-3"


def test_a_result_becomes_an_item_named_in_original_order_and_a_failed_order_is_a_parse_failure() -> None:
    pair = LabelledPair(id="3", input="q", output_1="x", output_2="y", labels=("2",))
    orders = [OrderVerdict(order="ab", label="B", winner="b"), OrderVerdict(order="ba", label="B", winner="a")]
    result = PairwiseResult(case_id="3", run_a="r1", run_b="r2", winner="tie", orders=orders)
    item = judged_item(pair, result)
    assert (item.verdict, item.swapped_verdict, item.judged_swapped, item.labels) == ("2", "1", True, ("2",))
    half = result.model_copy(update={"orders": [orders[0], OrderVerdict(order="ba")], "error": "invalid verdict"})
    assert (judged_item(pair, half).verdict, judged_item(pair, half).swapped_verdict) == ("2", None)
    failed = PairwiseResult(case_id="3", run_a="r1", run_b="r2", error="no judge cassette")
    assert (judged_item(pair, failed).verdict, judged_item(pair, failed).swapped_verdict) == (None, None)


# -- calibrate_live end to end -------------------------------------------------------------------------------------


def test_a_content_judge_gets_the_figures_worked_out_by_hand(project: tuple[Path, Path]) -> None:
    rubric, pairs = project
    report = calibrate_live(rubric, pairs)
    # Verdicts (both orders): 1 1 | 2 2 | 2 2 | tie tie | none none; gold 1 2 1 2 1.
    assert (report.n, report.verdicts, report.format) == (5, 10, "llmbar")
    assert report.accuracy == 4 / 10
    assert report.positional_agreement == 4 / 5  # the unparsed pair disagrees with itself
    assert (report.parse_failures, report.parse_failure_rate) == (2, 2 / 10)
    assert report.accuracy_both_orders == 2 / 5
    assert report.ties.judge_ties == 2
    assert report.confusion.columns == ["1", "2", "tie", "unparsed"]
    assert report.confusion.counts == [[2, 2, 0, 2], [0, 2, 2, 0]]
    assert report.judge is not None
    assert report.judge.startswith("test/calibration-pairwise@1 via scripted server")
    assert SCRIPTED_NOTE in report.notes
    assert any("1 pair(s) got no verdict" in note and "case 4" in note for note in report.notes)


def test_a_judge_that_prefers_the_first_response_has_no_positional_agreement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rubric, pairs = write_project(tmp_path, FIRST_WINS_JUDGE)
    report = calibrate_live(rubric, pairs, limit=4)
    # Always "A": the original order says "1", the swapped order "2"; gold 1 2 1 2, so each order is right half
    # the time and no pair is judged the same both ways.
    assert report.n == 4
    assert report.accuracy == 4 / 8
    assert report.positional_agreement == 0.0
    assert report.position is not None
    assert (report.position.prefers_first, report.position.prefers_second) == (4, 0)
    assert report.parse_failures == 0
    assert "Judged the first 4 of the 5 pairs" in report.notes[0]


def test_recorded_then_replayed_with_the_network_blocked_gives_the_same_report(project: tuple[Path, Path]) -> None:
    rubric, pairs = project
    recorded = calibrate_live(rubric, pairs, record_mode="record")
    folder = Path("cassettes/calibration/Natural/dataset/pairwise/output_1-vs-output_2")
    assert sorted(p.name for p in folder.iterdir()) == [f"{i}.e1.test_calibration-pairwise.yaml" for i in range(5)]
    replayed = calibrate_live(rubric, pairs, record_mode="replay")  # replay blocks the network itself
    assert replayed.judge is not None
    assert "via cassettes" in replayed.judge
    different = {"judge", "notes"}
    assert replayed.model_dump(exclude=different) == recorded.model_dump(exclude=different)
    assert SCRIPTED_NOTE not in replayed.notes

    # A pair never recorded cannot be judged offline: a parse failure, with the missing cassette in a note.
    write_pairs(pairs.parent, [*PAIRS, ("PREFERRED", "no", 1)])
    offline = calibrate_live(rubric, pairs, record_mode="replay")
    assert (offline.n, offline.parse_failures) == (6, 4)
    assert any("case 5: no judge cassette at" in note for note in offline.notes)


def test_a_pointwise_rubric_is_refused_naming_its_file(project: tuple[Path, Path]) -> None:
    _, pairs = project
    with pytest.raises(ConfigError, match=r"pointwise\.md: rubric test/pointwise is pointwise"):
        calibrate_live("pointwise.md", pairs)
