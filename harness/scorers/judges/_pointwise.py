"""RubricJudge: an LLM judge driven by a rubric file, as a :class:`~harness.scorers.Scorer`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.config import cassette_stem, safe_name
from harness.models.cases import Case
from harness.models.scores import ScoreResult, ScoreSource
from harness.models.traces import RunRecord
from harness.scorers._protocol import ScoreContext
from harness.scorers.judges._call import JudgeEndpoint, JudgeError, JudgeOutcome, JudgePrompt, judge_samples
from harness.scorers.judges._render import (
    VERDICT_SCHEMA_NAME,
    Candidate,
    answer_spec,
    render_context,
    summarize_tool_calls,
    system_message,
    variables_for,
    verdict_schema,
)
from harness.scorers.judges._rubric import Rubric
from harness.scorers.judges._verdict import aggregate


def judge_cassette_path(directory: Path, run: RunRecord, rubric: str) -> Path:
    """``<dir>/<dataset>/<variant>/<case>.e<epoch>.judge.<rubric>.yaml``: next to the run's own cassette."""
    stem = cassette_stem(
        directory, run.dataset or "_runs", run.variant or "_default", run.case_id or run.run_id, run.epoch or 1
    )
    return stem.with_name(f"{stem.name}.judge.{safe_name(rubric)}.yaml")


def build_prompt(rubric: Rubric, context: dict[str, Any], nonce: str, schema_name: str) -> JudgePrompt:
    """The judge prompt of a rubric for one rendered context."""
    labels = rubric.verdict_labels
    low, high = (rubric.scale.min, rubric.scale.max) if rubric.scale else (None, None)
    integer = rubric.scale.is_integer if rubric.scale else False
    spec = answer_spec(labels, low, high, integer)
    return JudgePrompt(
        system=system_message(rubric.name, nonce, list(variables_for(rubric.kind)), spec),
        user=rubric.render(context),
        schema_name=schema_name,
        schema=verdict_schema(labels, low, high, integer),
        answer_spec=spec,
    )


class RubricJudge:
    """Scores a stored run with a pointwise rubric: ``judge:<rubric name>``, for cases that list the rubric.

    The verdict is the mean (or majority) of the rubric's samples; ``metadata`` keeps the model, tokens, every
    sample's verdict, their agreement and the judge's chat spans. A judge that cannot produce a valid verdict raises
    :class:`JudgeError`, which the scoring engine records as an error row: a judge error never ends a run.
    """

    source: ScoreSource = "judge"

    def __init__(self, rubric: Rubric, endpoint: JudgeEndpoint | None = None) -> None:
        if rubric.kind != "pointwise":
            raise ValueError(f"{rubric.path}: {rubric.name} is a pairwise rubric; use PairwiseJudge")
        self.rubric = rubric
        self.endpoint = endpoint or JudgeEndpoint()
        self.name = f"judge:{rubric.name}"
        self.version = f"{rubric.name}@{rubric.version}"

    def applies_to(self, case: Case) -> bool:
        """Whether the case lists this rubric in ``rubrics``."""
        return self.rubric.name in case.rubrics

    def prompt_for(self, ctx: ScoreContext) -> JudgePrompt:
        """The prompt the judge gets for one run (exposed for tests and for ``--explain`` style tooling)."""
        candidate = Candidate(output=ctx.output_text, tool_calls=summarize_tool_calls(ctx.tool_calls))
        rendering = render_context(self.version, ctx.case, ctx.run.input or ctx.case.user_message, {"": candidate})
        return build_prompt(self.rubric, rendering.context, rendering.nonce, VERDICT_SCHEMA_NAME)

    async def score(self, ctx: ScoreContext) -> ScoreResult:
        """Judge one run.

        Raises:
            JudgeError: no valid verdict from any sample (the engine turns it into an error row).
        """
        directory = self.endpoint.cassette_dir
        cassette = judge_cassette_path(directory, ctx.run, self.rubric.name) if directory else None
        [outcome] = await judge_samples(self.rubric, [self.prompt_for(ctx)], self.endpoint, cassette, ctx.run.run_id)
        return to_result(self.rubric, outcome)


def to_result(rubric: Rubric, outcome: JudgeOutcome) -> ScoreResult:
    """The score of a judgement: the aggregate of its valid samples.

    Raises:
        JudgeError: no sample has a valid verdict.
    """
    metadata: dict[str, Any] = {"rubric": rubric.name, "rubric_version": rubric.version, **outcome.metadata()}
    verdicts = [s.verdict for s in outcome.samples if s.verdict is not None]
    failed = [s for s in outcome.samples if s.verdict is None]
    if not verdicts:
        first = failed[0].error or "no verdict"
        kind = "model_error" if "model call failed" in first else "invalid_verdict"
        raise JudgeError(kind, f"{rubric.name}: {first}", metadata)
    combined = aggregate(verdicts, rubric)
    metadata.update(
        aggregate=rubric.aggregation, agreement=combined.agreement, stdev=combined.stdev, failed_samples=len(failed)
    )
    if combined.label is not None:
        best = next(v for v in verdicts if v.label == combined.label)
    else:  # the reasoning of the sample closest to the aggregate score
        best = min(verdicts, key=lambda v: abs((v.score or 0.0) - (combined.value or 0.0)))
    explanation = best.reasoning
    if len(outcome.samples) > 1:
        explanation += f" ({_agreement_note(combined.agreement, len(verdicts), len(failed))})"
    return ScoreResult(
        passed=_passed(rubric, combined.value, combined.label),
        value=combined.value,
        label=combined.label,
        explanation=explanation,
        metadata=metadata,
    )


def _agreement_note(agreement: float, valid: int, failed: int) -> str:
    note = f"{agreement:.0%} of {valid} samples agree"
    return note + (f"; {failed} sample(s) failed" if failed else "")


def _passed(rubric: Rubric, value: float | None, label: str | None) -> bool | None:
    threshold = rubric.pass_threshold
    if threshold is None:
        return None
    if label is not None and isinstance(threshold, list):
        return label in threshold
    if value is not None and not isinstance(threshold, list):
        return value >= threshold
    return None
