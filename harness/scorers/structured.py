"""Validation of the structured answer: against a JSON schema, or against a pydantic model named ``module:Class``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from harness._imports import import_attribute
from harness.errors import ConfigError
from harness.models.scores import ScoreResult
from harness.scorers._base import BuiltinScorer, clip
from harness.scorers._protocol import ScoreContext


class JsonSchema(BuiltinScorer):
    name = "json_schema"
    fields = ("output_schema",)
    summary = "the structured answer validates against expected.output_schema (JSON Schema 2020-12)"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        import jsonschema  # only scoring needs it

        data = ctx.output_data
        if data is None:
            return ScoreResult(passed=False, explanation=f"the answer is not JSON: {clip(ctx.output_text)!r}")
        schema: dict[str, Any] = ctx.case.expected.output_schema or {}
        validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        errors = sorted(validator_class(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
        if not errors:
            return ScoreResult(passed=True, explanation="the answer validates against the schema")
        shown = [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {clip(e.message, 100)}" for e in errors]
        more = f" (+{len(shown) - 3} more)" if len(shown) > 3 else ""
        return ScoreResult(passed=False, explanation="schema violations: " + "; ".join(shown[:3]) + more)


class PydanticModel(BuiltinScorer):
    name = "pydantic_model"
    fields = ("output_model",)
    summary = "the structured answer validates against the pydantic model expected.output_model (module:Class)"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        model = import_model(ctx.case.expected.output_model or "")
        data = ctx.output_data
        try:
            if data is None:
                model.model_validate_json(ctx.output_text)
            else:
                model.model_validate(data)
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()]
            return ScoreResult(passed=False, explanation=f"not a valid {model.__name__}: " + "; ".join(problems[:3]))
        return ScoreResult(passed=True, explanation=f"a valid {model.__name__}")


@lru_cache(maxsize=64)
def import_model(spec: str) -> type[BaseModel]:
    """The pydantic model class named ``module:Class`` (a user mistake raises :class:`ConfigError`)."""
    target = import_attribute(spec, "output_model")
    if not (isinstance(target, type) and issubclass(target, BaseModel)):
        raise ConfigError(f"output_model {spec!r} is not a pydantic model class (a BaseModel subclass)")
    return target
