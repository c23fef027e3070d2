"""A live calibration's plumbing: each labelled pair as two synthetic runs of one case, and the pairwise judge's
result as a :class:`JudgedItem`.

The pairwise judge compares two stored runs of one case, so each pair becomes a case (id: the item's id) of the
dataset ``calibration/<folder>/<file stem>`` with one run per response, variants ``output_1`` and ``output_2``: the
run has the response as its final answer and no spans (no tool calls). Its cassette then lands at
``cassettes/calibration/<folder>/<stem>/pairwise/output_1-vs-output_2/<id>.e1.<rubric>.yaml``, one per pair with
both orders; the folder is part of the name because LLMBar's sets are all called ``dataset.json``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import safe_name
from harness.models.calibration import JudgedItem, Label
from harness.models.cases import CASE_ID_PATTERN, Case
from harness.models.traces import RunRecord, RunTrace
from harness.scorers._protocol import ScoreContext
from harness.scorers.calibration._pairs import LabelledPair

if TYPE_CHECKING:  # the judges import openai; reading pairs should not
    from harness.scorers.judges import PairwiseResult

VARIANTS = ("output_1", "output_2")
_LABELS: dict[str | None, Label | None] = {"a": "1", "b": "2", "tie": "tie", None: None}


def pairs_dataset(path: Path) -> str:
    """The dataset name of a pairs file's synthetic runs: ``calibration/<folder>/<file stem>``."""
    return f"calibration/{safe_name(path.resolve().parent.name or 'pairs')}/{safe_name(path.stem)}"


def pair_contexts(pair: LabelledPair, dataset: str, position: int) -> tuple[ScoreContext, ScoreContext]:
    """The pair as two runs of one case (``output_1`` as run ``a``, ``output_2`` as run ``b``).

    Args:
        pair: The labelled pair.
        dataset: The dataset name (:func:`pairs_dataset`).
        position: The pair's position in its file: the case id when the item's id cannot be one.
    """
    case_id = pair.id if re.fullmatch(CASE_ID_PATTERN, pair.id) else f"item-{position}"
    case = Case(id=case_id, input=pair.input)
    runs = []
    for variant, output in zip(VARIANTS, (pair.output_1, pair.output_2), strict=True):
        run_id = f"{dataset}:{case_id}:{variant}"
        record = RunRecord(
            run_id=run_id,
            trace_id=hashlib.sha256(run_id.encode()).hexdigest()[:32],
            kind="eval_case",
            agent_name="calibration",
            model="unknown",
            status="completed",
            start_ns=0,
            end_ns=0,
            input=pair.input,
            output_text=output,
            case_id=case_id,
            variant=variant,
            epoch=1,
            dataset=dataset,
        )
        runs.append(ScoreContext(trace=RunTrace(run=record, spans=[]), case=case))
    return runs[0], runs[1]


def judged_item(pair: LabelledPair, result: PairwiseResult) -> JudgedItem:
    """The judge's two verdicts on ``pair`` (``output_1`` was run ``a``), named ``"1"``/``"2"``/``"tie"``.

    ``verdict`` is the first order's (``output_1`` shown as response A), ``swapped_verdict`` the second's, already
    mapped back to the runs by the pairwise judge. An order without a valid verdict (an answer that stayed invalid
    after the repair request, a failed call, a missing cassette) is ``None``: a parse failure.
    """
    by_order = {order.order: order.winner for order in result.orders}
    return JudgedItem(
        id=pair.id,
        labels=pair.labels,
        verdict=_LABELS[by_order.get("ab")],
        judged_swapped=True,
        swapped_verdict=_LABELS[by_order.get("ba")],
    )
