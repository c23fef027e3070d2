"""Built-in scorers by name, and user scorers named ``module:attribute``."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Awaitable, Callable, Sequence

from harness._imports import import_attribute
from harness.errors import ConfigError
from harness.models.cases import Case
from harness.models.scores import ScoreResult, ScoreSource
from harness.scorers._base import BuiltinScorer
from harness.scorers._protocol import ScoreContext, Scorer
from harness.scorers.bfcl import AcceptableAnswers
from harness.scorers.limits import Budget, Status, ToolCallCount
from harness.scorers.output import Contains, Exact, NotContains, OutputFields, Regex
from harness.scorers.security import ForbiddenCalls, Triggers
from harness.scorers.structured import JsonSchema, PydanticModel
from harness.scorers.trajectory import NoToolCalls, Trajectory

BUILTIN_SCORERS: dict[str, BuiltinScorer] = {
    scorer.name: scorer
    for scorer in (
        Status(),
        Exact(),
        Contains(),
        NotContains(),
        Regex(),
        OutputFields(),
        JsonSchema(),
        PydanticModel(),
        Trajectory(),
        AcceptableAnswers(),
        NoToolCalls(),
        ToolCallCount(),
        ForbiddenCalls(),
        Triggers(),
        Budget(),
    )
}
"""Every deterministic scorer, in the order reports list them. Each applies to the cases whose ``expected`` block
sets what it checks."""


class FunctionScorer:
    """A user's function ``(ctx) -> ScoreResult`` (sync or async) as a scorer that applies to every case."""

    source: ScoreSource = "custom"

    def __init__(self, function: Callable[[ScoreContext], ScoreResult | Awaitable[ScoreResult]], name: str) -> None:
        self.function = function
        self.name = name
        self.version = str(getattr(function, "version", "1"))

    def applies_to(self, case: Case) -> bool:
        return True

    def score(self, ctx: ScoreContext) -> ScoreResult | Awaitable[ScoreResult]:
        return self.function(ctx)


def builtin_scorers_for(case: Case) -> list[Scorer]:
    """The built-in scorers the case's ``expected`` block asks for."""
    return [scorer for scorer in BUILTIN_SCORERS.values() if scorer.applies_to(case)]


def resolve_scorers(names: Sequence[str]) -> list[Scorer]:
    """Scorers by name: built-in names, or ``module:attribute`` naming a scorer class, instance or function.

    Raises:
        ConfigError: an unknown name (with the closest valid ones) or a ``module:attribute`` that cannot be used.
    """
    found: list[Scorer] = []
    for name in names:
        if ":" in name:
            found.append(_import_scorer(name))
        elif name in BUILTIN_SCORERS:
            found.append(BUILTIN_SCORERS[name])
        else:
            close = difflib.get_close_matches(name, BUILTIN_SCORERS, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"Scorer {name!r} is not registered.{hint} Valid choices: {', '.join(BUILTIN_SCORERS)}, or "
                "module:attribute for your own scorer (see `agenteval score --list`)."
            )
    return found


def _import_scorer(spec: str) -> Scorer:
    target = import_attribute(spec, "Scorer")
    if inspect.isclass(target):
        target = target()
    if isinstance(target, Scorer):
        return target
    if callable(target):
        return FunctionScorer(target, name=spec.partition(":")[2])
    raise ConfigError(
        f"Scorer {spec!r} is neither a function (ctx) -> ScoreResult nor an object with name, version, source, "
        "applies_to() and score()."
    )
