"""Scorers: stored runs in, verdicts out.

A scorer gets a stored run and its case (:class:`ScoreContext`) and returns a :class:`ScoreResult`; the engine
(:func:`score_runs`) turns results into ``scores`` rows and a scorer that raises into an error row. Deterministic
scorers are driven by the case's ``expected`` block; LLM judges by rubric files (``harness.scorers.judges``).
"""

from harness.models.scores import ScoreRecord, ScoreResult
from harness.scorers._engine import new_scoring_id, score_runs
from harness.scorers._protocol import ScoreContext, Scorer, ToolCallMade
from harness.scorers._registry import BUILTIN_SCORERS, FunctionScorer, builtin_scorers_for, resolve_scorers

__all__ = [
    "BUILTIN_SCORERS",
    "FunctionScorer",
    "ScoreContext",
    "ScoreRecord",
    "ScoreResult",
    "Scorer",
    "ToolCallMade",
    "builtin_scorers_for",
    "new_scoring_id",
    "resolve_scorers",
    "score_runs",
]
