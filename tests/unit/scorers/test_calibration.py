"""Judge calibration: kappa and majority by hand, the report's rules, LLMBar's published figures, PandaLM, errors."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harness.models.calibration import JudgedItem, Label
from harness.scorers.calibration import (
    CalibrationError,
    calibrate,
    calibrate_recorded_file,
    cohen_kappa,
    detect_format,
    llmbar_statistics,
    majority,
)
from harness.scorers.calibration._stats import numpy_sum

ROOT = Path(__file__).resolve().parents[3]
VENDORED = ROOT / "tests" / "fixtures" / "calibration"
"""Subsets of shared/data (see its README), so that CI, which has only the clone, runs every test here."""
SHARED = VENDORED
"""Every LLMBar set with published statistics and the whole PandaLM sample, vendored: CI runs every test here."""
LLMBAR_SETS = [
    f"{subset}/evaluators/{judge}/Vanilla_NoRules/result.json"
    for subset in ("Natural", "Adversarial/Neighbor", "Adversarial/GPTInst", "Adversarial/GPTOut", "Adversarial/Manual")
    for judge in ("GPT-4", "ChatGPT")
]
VENDORED_LLMBAR = VENDORED / "llmbar" / "LLMBar" / "Adversarial/GPTOut/evaluators/GPT-4/Vanilla_NoRules/result.json"


def item(labels: str, verdict: Label | None, swapped: Label | None = None, *, both: bool = False) -> JudgedItem:
    """An item from compact labels: ``"112"`` is three annotators, ``"t"`` a tie."""
    names: dict[str, Label] = {"1": "1", "2": "2", "t": "tie"}
    return JudgedItem(
        id="x", labels=tuple(names[c] for c in labels), verdict=verdict, judged_swapped=both, swapped_verdict=swapped
    )


# -- Cohen's kappa -------------------------------------------------------------------------------------------------


def test_kappa_of_the_textbook_example() -> None:
    # Wikipedia's "Cohen's kappa" example: 50 grant proposals, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no:
    # p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-15)


def test_kappa_of_three_classes_by_hand() -> None:
    # Rater A: 1 1 1 2 2 tie; rater B: 1 1 2 2 tie tie. p_o = 4/6; marginals A (1: 3, 2: 2, tie: 1),
    # B (1: 2, 2: 2, tie: 2): p_e = (3*2 + 2*2 + 1*2) / 36 = 12/36; kappa = (4/6 - 1/3) / (1 - 1/3) = 0.5.
    assert cohen_kappa(["1", "1", "1", "2", "2", "tie"], ["1", "1", "2", "2", "tie", "tie"]) == pytest.approx(0.5)


def test_kappa_limits_and_the_undefined_case() -> None:
    assert cohen_kappa([1, 2, 1, 2], [1, 2, 1, 2]) == 1.0
    assert cohen_kappa([1, 2, 1, 2], [2, 1, 2, 1]) == -1.0
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 1, 2]) == 0.0  # agreement at chance level
    # One class for everybody: no disagreement is expected by chance, kappa is 0/0 (scikit-learn: NaN).
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="2 labels against 1"):
        cohen_kappa([1, 2], [1])


def test_floats_are_summed_in_numpys_pairwise_order() -> None:
    values = [1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0]
    v = values
    pairwise = (((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))) + v[8]
    assert numpy_sum(values) == pairwise != sum(values)
    assert numpy_sum([0.1, 0.2, 0.3]) == 0.1 + 0.2 + 0.3  # under eight values: left to right


def test_majority_needs_more_than_half() -> None:
    assert majority(["1", "1", "2"]) == "1"
    assert majority(["tie", "2", "tie"]) == "tie"
    assert majority(["2"]) == "2"
    assert majority(["1", "2", "tie"]) is None
    assert majority(["1", "2"]) is None
    assert majority([]) is None


# -- the report's rules --------------------------------------------------------------------------------------------


def test_ties_are_a_class_and_parse_failures_are_wrong() -> None:
    items = [item("t", "tie"), item("t", "1"), item("1", "1"), item("2", None), item("2", "2"), item("1", "tie")]
    report = calibrate(items, source="mem", format="test")
    assert (report.n, report.scored, report.verdicts) == (6, 6, 6)
    assert report.accuracy == pytest.approx(3 / 6)
    assert (report.parse_failures, report.parse_failure_rate) == (1, pytest.approx(1 / 6))
    assert (report.ties.gold_ties, report.ties.judge_ties) == (2, 2)
    assert report.ties.accuracy_without_gold_ties == pytest.approx(2 / 4)  # a tie verdict on a 1 is wrong
    assert report.positional_agreement is None
    assert report.position is None
    assert report.confusion.rows == ["1", "2", "tie"]
    assert report.confusion.columns == ["1", "2", "tie", "unparsed"]
    assert report.confusion.counts == [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]]
    expected = cohen_kappa(["tie", "1", "1", "unparsed", "2", "tie"], ["tie", "tie", "1", "2", "2", "1"])
    assert report.kappa == expected
    assert any("could not be parsed" in note for note in report.notes)


def test_items_without_a_majority_are_left_out_and_counted() -> None:
    items = [item("112", "1"), item("12t", "2"), item("tt2", "2"), item("222", "2")]
    report = calibrate(items, source="mem", format="test")
    assert (report.n, report.scored, report.no_majority) == (4, 3, 1)
    assert report.accuracy == pytest.approx(2 / 3)
    assert report.annotators is not None
    assert (report.annotators.annotators, report.annotators.unanimous, report.annotators.no_majority) == (3, 1, 1)
    # The judge against annotator 1 (1, 1, t, 2) on every item, the one without a majority included.
    first = report.annotators.judge[0]
    assert (first.annotator, first.accuracy) == (1, pytest.approx(2 / 4))
    assert first.kappa == cohen_kappa(["1", "2", "2", "2"], ["1", "1", "tie", "2"])
    pairs = [(["1", "1", "tie", "2"], ["1", "2", "tie", "2"]), (["1", "1", "tie", "2"], ["2", "tie", "2", "2"])]
    pairs.append((["1", "2", "tie", "2"], ["2", "tie", "2", "2"]))
    kappas = [cohen_kappa(a, b) for a, b in pairs]
    assert report.annotators.pairwise_kappa_mean == pytest.approx(sum(k for k in kappas if k is not None) / 3)
    assert any("no majority" in note for note in report.notes)


def test_both_orders_positional_agreement_and_position_bias() -> None:
    items = [
        item("1", "1", "1", both=True),  # consistent, right
        item("2", "1", "2", both=True),  # picked the response shown first both times
        item("1", "2", "1", both=True),  # picked the one shown second both times
        item("2", "2", None, both=True),  # swapped answer unparsed: a disagreement
    ]
    report = calibrate(items, source="mem", format="test")
    assert report.verdicts == 8
    assert report.accuracy == pytest.approx(5 / 8)
    assert [o.accuracy for o in report.by_order] == [pytest.approx(2 / 4), pytest.approx(3 / 4)]
    assert report.accuracy_both_orders == pytest.approx(1 / 4)
    assert report.positional_agreement == pytest.approx(1 / 4)
    assert report.position is not None
    assert (report.position.prefers_first, report.position.prefers_second) == (1, 1)
    assert report.position.other_inconsistent == 1
    assert report.kappa == pytest.approx(sum(o.kappa or 0 for o in report.by_order) / 2)


def test_the_authors_kappa_quirk_is_reproduced_not_adopted() -> None:
    # A judge that is always right: our kappa is 1; the authors' script maps "2" to 0 and gets one third.
    items = [item(gold, gold, gold, both=True) for gold in ("1", "2") * 5]  # type: ignore[arg-type]
    report = calibrate(items, source="mem", format="test", llmbar_statistics=llmbar_statistics(items))
    assert report.kappa == 1.0
    assert report.llmbar_statistics is not None
    assert report.llmbar_statistics.kappa_False == pytest.approx(1 / 3)
    assert report.llmbar_statistics.correct_both == "10 / 10 = 100.0%"
    assert report.llmbar_statistics.equal == "10 / 10 = 100.0%"


def test_a_swapped_verdict_needs_a_swapped_run() -> None:
    with pytest.raises(ValueError, match="judged_swapped"):
        JudgedItem(id="x", labels=("1",), verdict="1", swapped_verdict="1")


# -- LLMBar: the authors' statistics.json, exactly -------------------------------------------------------------------


def _check_reproduction(result: Path) -> None:
    published = json.loads((result.parent / "statistics.json").read_text(encoding="utf-8"))
    report = calibrate_recorded_file(result, "llmbar")
    assert report.llmbar_statistics is not None
    # Exact: strings character for character, floats bit for bit (the sums are taken in NumPy's order).
    assert report.llmbar_statistics.model_dump() == published
    # And the report's own figures agree with the published ones where they mean the same thing.
    assert f"{report.accuracy * 100}%" == published["correct_average"]  # type: ignore[operator]
    assert report.position is not None
    assert report.llmbar_statistics.kappa_agreement == report.position.kappa


def test_the_vendored_llmbar_set_reproduces_statistics_json() -> None:
    _check_reproduction(VENDORED_LLMBAR)


@pytest.mark.parametrize("relative", LLMBAR_SETS)
def test_every_shipped_llmbar_set_reproduces_statistics_json(relative: str) -> None:
    _check_reproduction(SHARED / "llmbar" / "LLMBar" / relative)


def test_the_list_of_llmbar_sets_is_complete() -> None:
    found = sorted(str(p.relative_to(SHARED / "llmbar" / "LLMBar")) for p in SHARED.glob("llmbar/**/result.json"))
    assert found == sorted(LLMBAR_SETS)


def test_llmbar_judge_name_and_items() -> None:
    report = calibrate_recorded_file(VENDORED_LLMBAR)
    assert (report.format, report.judge, report.n, report.parse_failures) == ("llmbar", "GPT-4/Vanilla_NoRules", 47, 0)
    assert report.positional_agreement == pytest.approx(41 / 47)


# -- PandaLM, against figures computed here the plain way ------------------------------------------------------------


def _plain_figures(verdicts_file: Path, field: str) -> dict[str, Any]:
    labels = json.loads((verdicts_file.parent / "testset-v1.json").read_text(encoding="utf-8"))
    verdicts = json.loads(verdicts_file.read_text(encoding="utf-8"))
    name = {0: "tie", 1: "1", 2: "2", "1": "1", "2": "2", "Tie": "tie"}
    gold = {}
    for row in labels:
        top, votes = Counter([row["annotator1"], row["annotator2"], row["annotator3"]]).most_common(1)[0]
        if votes >= 2:
            gold[str(row["idx"])] = name[top]
    pairs = [(gold[str(v["idx"])], name.get(v[field], "garbage")) for v in verdicts if str(v["idx"]) in gold]
    n = len(pairs)
    p_o = sum(g == j for g, j in pairs) / n
    gold_counts, judge_counts = Counter(g for g, _ in pairs), Counter(j for _, j in pairs)
    p_e = sum(gold_counts[c] * judge_counts[c] for c in gold_counts) / n / n
    return {
        "n": len(verdicts),
        "accuracy": p_o,
        "kappa": (p_o - p_e) / (1 - p_e),
        "parse_failures": sum(j == "garbage" for _, j in pairs),
        "gold_ties": gold_counts["tie"],
        "judge_ties": judge_counts["tie"],
    }


PANDALM_JUDGES = [("gpt-3.5-turbo-testset-v1.json", "gpt_result"), ("pandalm-7b-testset-v1.json", "pandalm_result")]


@pytest.mark.parametrize("folder", [VENDORED / "pandalm"])
@pytest.mark.parametrize(("file", "field"), PANDALM_JUDGES)
def test_pandalm_figures_match_a_plain_computation(folder: Path, file: str, field: str) -> None:
    expected = _plain_figures(folder / file, field)
    report = calibrate_recorded_file(folder / file, "pandalm")
    assert report.n == report.scored == expected["n"]
    assert report.accuracy == pytest.approx(expected["accuracy"], abs=1e-12)
    assert report.kappa == pytest.approx(expected["kappa"], abs=1e-12)
    assert report.parse_failures == expected["parse_failures"]
    assert (report.ties.gold_ties, report.ties.judge_ties) == (expected["gold_ties"], expected["judge_ties"])
    assert report.positional_agreement is None
    assert report.labels_source == str(folder / "testset-v1.json")


def test_pandalm_full_figures() -> None:
    gpt = calibrate_recorded_file(SHARED / "pandalm" / "gpt-3.5-turbo-testset-v1.json")
    assert (gpt.n, gpt.parse_failures, gpt.accuracy, round(gpt.kappa or 0, 4)) == (500, 11, 0.704, 0.4796)
    assert gpt.annotators is not None
    assert gpt.annotators.no_majority == 0
    assert any("'garbage' read as a parse failure (11x)" in note for note in gpt.notes)


def test_detect_format() -> None:
    assert detect_format(VENDORED_LLMBAR) == "llmbar"
    assert detect_format(VENDORED / "pandalm" / "pandalm-7b-testset-v1.json") == "pandalm"


# -- errors name the file and the fix --------------------------------------------------------------------------------


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_missing_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match=r"nope\.json: does not exist"):
        calibrate_recorded_file(tmp_path / "nope.json", "llmbar")
    (tmp_path / "bad.json").write_text("[{", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"bad\.json:1: .*expected the LLMBar result\.json"):
        calibrate_recorded_file(tmp_path / "bad.json", "llmbar")


def test_wrong_shapes_list_every_item(tmp_path: Path) -> None:
    bad = [{"label": 3, "results": [{}]}, {"label": 1, "results": [{"swap = False": {"winner": "A"}}]}]
    with pytest.raises(CalibrationError) as caught:
        calibrate_recorded_file(_write(tmp_path / "result.json", bad), "llmbar")
    text = str(caught.value)
    assert "result.json: item 0: label is 3; expected 1 or 2" in text
    assert "item 1: 'swap = False' winner is 'A'" in text
    assert "item 1: results[-1] has no 'swap = True'" in text


def test_unknown_format_and_undetectable_files(tmp_path: Path) -> None:
    labels = VENDORED / "pandalm" / "testset-v1.json"
    with pytest.raises(CalibrationError, match=r"testset-v1\.json: item 0 has neither results"):
        calibrate_recorded_file(labels)
    with pytest.raises(CalibrationError, match="Unknown verdicts format 'mtbench'"):
        calibrate_recorded_file(VENDORED_LLMBAR, "mtbench")
    with pytest.raises(CalibrationError, match="is it the labels file"):
        calibrate_recorded_file(labels, "pandalm")
    with pytest.raises(CalibrationError, match="leave out --labels"):
        calibrate_recorded_file(VENDORED_LLMBAR, "llmbar", labels)


def test_pandalm_labels_missing_or_mismatched(tmp_path: Path) -> None:
    verdicts = _write(tmp_path / "judge.json", [{"idx": 0, "result": "1"}, {"idx": 999, "result": "Tie"}])
    with pytest.raises(CalibrationError, match=r"no --labels given and .*testset-v1\.json does not exist"):
        calibrate_recorded_file(verdicts, "pandalm")
    with pytest.raises(CalibrationError, match=r"judge\.json: idx 999 has no labels in .*testset-v1\.json"):
        calibrate_recorded_file(verdicts, "pandalm", VENDORED / "pandalm" / "testset-v1.json")
    labels = _write(tmp_path / "labels.json", [{"idx": 0, "annotator1": 1, "annotator2": 7, "annotator3": 1}])
    with pytest.raises(CalibrationError, match=r"labels\.json: item 0: .*annotator2=7.*every label must be"):
        calibrate_recorded_file(verdicts, "pandalm", labels)


def test_a_generic_result_field_and_a_single_label(tmp_path: Path) -> None:
    verdicts = _write(tmp_path / "judge.json", [{"idx": "a", "result": "2"}, {"idx": "b", "result": "oops"}])
    labels = _write(
        tmp_path / "gold.json", [{"idx": "a", "label": 2}, {"idx": "b", "label": 0}, {"idx": "c", "label": 1}]
    )
    report = calibrate_recorded_file(verdicts, "pandalm", labels)
    assert (report.n, report.accuracy, report.parse_failures, report.annotators) == (2, 0.5, 1, None)
    assert any("'oops' read as a parse failure (1x)" in note for note in report.notes)
    assert any("1 labelled item(s) have no verdict" in note for note in report.notes)
    assert math.isclose(report.parse_failure_rate, 0.5)
