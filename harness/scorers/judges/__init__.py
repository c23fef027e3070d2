"""LLM judges driven by rubric files: pointwise scores, pairwise comparisons in both orders, n-sample agreement.

A rubric (``rubrics/**/*.md``) is a YAML header and a jinja2 prompt template (:func:`load_rubric`). A
:class:`RubricJudge` scores a stored run with it (a :class:`~harness.scorers.Scorer`); a :class:`PairwiseJudge`
compares two runs of one case, in both orders. Everything taken from a run reaches the judge delimited with a nonce
and escaped (see :mod:`harness.scorers.judges._render`). Judge calls are traced and go through cassettes
(:class:`JudgeEndpoint`).
"""

from harness.scorers.judges._call import JudgeEndpoint, JudgeError, JudgeOutcome, JudgePrompt
from harness.scorers.judges._pairwise import (
    OrderVerdict,
    PairwiseJudge,
    PairwiseResult,
    PairwiseSummary,
    pairwise_cassette_path,
    summarize_pairs,
    wilson_interval,
)
from harness.scorers.judges._pointwise import RubricJudge, judge_cassette_path
from harness.scorers.judges._render import JUDGE_MARKER, PAIRWISE_SCHEMA_NAME, VERDICT_SCHEMA_NAME, escape
from harness.scorers.judges._rubric import (
    Rubric,
    RubricHeader,
    Scale,
    find_rubric,
    list_rubrics,
    load_rubric,
    parse_rubric,
)
from harness.scorers.judges._verdict import Aggregate, JudgeSample, Verdict, VerdictError, aggregate, parse_verdict

__all__ = [
    "JUDGE_MARKER",
    "PAIRWISE_SCHEMA_NAME",
    "VERDICT_SCHEMA_NAME",
    "Aggregate",
    "JudgeEndpoint",
    "JudgeError",
    "JudgeOutcome",
    "JudgePrompt",
    "JudgeSample",
    "OrderVerdict",
    "PairwiseJudge",
    "PairwiseResult",
    "PairwiseSummary",
    "Rubric",
    "RubricHeader",
    "RubricJudge",
    "Scale",
    "Verdict",
    "VerdictError",
    "aggregate",
    "escape",
    "find_rubric",
    "judge_cassette_path",
    "list_rubrics",
    "load_rubric",
    "pairwise_cassette_path",
    "parse_rubric",
    "parse_verdict",
    "summarize_pairs",
    "wilson_interval",
]
