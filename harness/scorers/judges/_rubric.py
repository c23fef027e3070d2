"""Rubric files: a YAML header between ``---`` lines, then a jinja2 prompt template.

::

    ---
    name: support/helpfulness
    version: 1
    description: Does the final answer solve the customer's problem within the shop's policy?
    scale: {min: 1, max: 5}
    pass_threshold: 4
    inputs: [input, tool_calls, output, expected]
    ---
    Rate how helpful the assistant's final answer is ...
    {{ output }}

Every mistake (bad YAML, an unknown key, a template that does not parse or uses a variable the judge does not
provide) is a :class:`~harness.errors.FileFormatError` naming ``file:line`` and the fix, raised when the rubric is
loaded, never in the middle of a scoring pass.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
from pydantic import Field, field_validator, model_validator

from harness import _yaml
from harness.errors import FileFormatError
from harness.models._base import Record
from harness.scorers.judges._render import PAIRWISE_LABELS, sample_context, variables_for

RubricKind = Literal["pointwise", "pairwise"]

ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
"""Rubric templates render strictly: a misspelt variable fails when the rubric is loaded."""


class Scale(Record):
    """A numeric score range, both ends included."""

    min: float
    """Lowest score."""
    max: float
    """Highest score."""

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"scale min ({self.min:g}) must be below max ({self.max:g})")
        return self

    @property
    def is_integer(self) -> bool:
        """Whether the judge answers whole numbers (both ends are whole)."""
        return float(self.min).is_integer() and float(self.max).is_integer()


class RubricHeader(Record):
    """The YAML front matter of a rubric file."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")
    """Rubric name, as cases list it in ``rubrics:`` (``support/helpfulness``); the scorer is ``judge:<name>``."""
    version: str = "1"
    """Bump it when the verdicts could change, so that old and new score rows can be told apart."""
    description: str = ""
    """What the rubric judges, in one sentence."""
    kind: RubricKind = "pointwise"
    """``pointwise`` judges one run; ``pairwise`` compares two runs of the same case (labels ``A``/``B``/``tie``)."""
    scale: Scale | None = None
    """Numeric verdicts in this range, e.g. ``{min: 1, max: 5}``; give either ``scale`` or ``labels``."""
    labels: list[str] | None = None
    """Verdicts from this set, e.g. ``[fail, pass]``; pairwise rubrics always use ``[A, B, tie]``."""
    pass_threshold: float | list[str] | None = None
    """A score at or above it passes (with ``scale``), or the labels that pass (with ``labels``)."""
    model: str | None = None
    """Judge model; the endpoint's default model when omitted."""
    temperature: float = Field(default=0.0, ge=0, le=2)
    """Sampling temperature of the judge."""
    samples: int = Field(default=1, ge=1, le=25)
    """Independent verdicts per run (each with its own seed), aggregated by ``aggregate``."""
    aggregate: Literal["majority", "mean"] | None = None
    """How samples combine: ``mean`` (scores only; the default for a scale) or ``majority`` (the default for labels;
    for a scale, the most common score)."""
    seed: int = 0
    """Seed of the first sample; sample ``i`` uses ``seed + i``."""
    inputs: list[str] | None = None
    """Template variables the rubric uses (checked against the template); by default, the ones it mentions."""

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _consistent(self) -> RubricHeader:
        if self.kind == "pairwise":
            if self.scale is not None:
                raise ValueError("a pairwise rubric answers A, B or tie: remove 'scale'")
            if self.labels is not None and self.labels != list(PAIRWISE_LABELS):
                raise ValueError(f"a pairwise rubric's labels are always {list(PAIRWISE_LABELS)}: remove 'labels'")
            if self.aggregate == "mean":
                raise ValueError("pairwise verdicts are labels: use aggregate: majority")
            return self
        if (self.scale is None) == (self.labels is None):
            raise ValueError("give either 'scale: {min: 1, max: 5}' or 'labels: [fail, pass]', not both or neither")
        if self.labels is not None:
            if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
                raise ValueError("labels must be at least two distinct names")
            if self.aggregate == "mean":
                raise ValueError("labels cannot be averaged: use aggregate: majority")
            if self.pass_threshold is not None:
                if not isinstance(self.pass_threshold, list):
                    raise ValueError("with labels, pass_threshold is the list of passing labels, e.g. [pass]")
                unknown = [label for label in self.pass_threshold if label not in self.labels]
                if unknown:
                    raise ValueError(f"pass_threshold names unknown label(s) {unknown}; labels are {self.labels}")
        if self.scale is not None and self.pass_threshold is not None:
            if isinstance(self.pass_threshold, list):
                raise ValueError("with a scale, pass_threshold is a number, e.g. 4")
            if not self.scale.min <= self.pass_threshold <= self.scale.max:
                raise ValueError(
                    f"pass_threshold {self.pass_threshold:g} is outside the scale "
                    f"{self.scale.min:g}..{self.scale.max:g}"
                )
        return self

    @property
    def verdict_labels(self) -> list[str] | None:
        """The labels a verdict may take (``None`` for a numeric scale)."""
        return list(PAIRWISE_LABELS) if self.kind == "pairwise" else self.labels

    @property
    def aggregation(self) -> Literal["majority", "mean"]:
        """How samples combine, defaults applied."""
        return self.aggregate or ("mean" if self.scale is not None else "majority")


class Rubric(RubricHeader):
    """A loaded rubric: its header, its template, and where it came from."""

    template: str
    """The jinja2 prompt template (the file's body)."""
    path: str = "<rubric>"
    """File it was loaded from."""
    template_line: int = 1
    """Line of the file where the template starts (for error messages)."""

    def render(self, context: dict[str, Any]) -> str:
        """The judge's prompt for one run (``context`` comes from :mod:`harness.scorers.judges._render`)."""
        return ENV.from_string(self.template).render(context)


def load_rubric(path: str | Path) -> Rubric:
    """Load and check a rubric file.

    Raises:
        FileFormatError: the file is missing, its header is not valid YAML or names an unknown key, or its template
            does not parse or uses variables the judge does not provide; each problem names ``file:line``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileFormatError(f"{path} does not exist.", [f"{path}: no such rubric file. Check the path."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path} cannot be read.", [f"{path}: {exc}"]) from None
    return parse_rubric(text, path)


def parse_rubric(text: str, path: str | Path = "<rubric>") -> Rubric:
    """Parse rubric text (see :func:`load_rubric`)."""
    path = Path(path)
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FileFormatError(
            f"{path} is not a rubric file.",
            [f"{path}:1: a rubric starts with a '---' line, then its YAML header, then '---' and the prompt template."],
        )
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise FileFormatError(
            f"{path} is not a rubric file.",
            [f"{path}:1: the header opened here is never closed; add a '---' line after it, before the template."],
        )
    # A blank first line keeps the YAML's line numbers equal to the file's.
    doc = _yaml.parse_yaml("\n" + "".join(lines[1:end]), path)
    if not isinstance(doc.data, dict):
        raise FileFormatError(
            f"{path} is not a valid rubric.",
            [f"{path}:2: the header must be a mapping with keys such as name, version, scale, pass_threshold."],
        )
    header = _yaml.validate_document(doc, RubricHeader)
    template = "".join(lines[end + 1 :])
    rubric = Rubric(**header.model_dump(), template=template, path=str(path), template_line=end + 2)
    _check_template(rubric)
    return rubric


def _check_template(rubric: Rubric) -> None:
    where = rubric.path
    if not rubric.template.strip():
        raise FileFormatError(
            f"{where} has no prompt template.",
            [f"{where}:{rubric.template_line}: write the judge's prompt after the header's closing '---'."],
        )
    try:
        parsed = ENV.parse(rubric.template)
    except jinja2.TemplateSyntaxError as exc:
        line = rubric.template_line + (exc.lineno or 1) - 1
        raise FileFormatError(
            f"{where} has a template syntax error.",
            [f"{where}:{line}: {exc.message}. Fix the jinja2 syntax ({{{{ variable }}}}, {{% if %}}...{{% endif %}})."],
        ) from None
    provided = variables_for(rubric.kind)
    used = jinja2.meta.find_undeclared_variables(parsed)
    problems = [
        f"{where}:{_line_of(rubric, name)}: unknown variable '{name}'{_did_you_mean(name, provided)}. "
        f"A {rubric.kind} rubric can use: {', '.join(provided)}."
        for name in sorted(used - set(provided))
    ]
    for name in rubric.inputs or []:
        if name not in provided:
            problems.append(f"{where}: inputs names unknown variable '{name}'{_did_you_mean(name, provided)}.")
    for name in sorted((used & set(provided)) - set(rubric.inputs or used)):
        problems.append(
            f"{where}:{_line_of(rubric, name)}: the template uses '{name}' but the header's inputs do not list it. "
            "Add it to inputs."
        )
    if problems:
        raise FileFormatError(f"{where} has template problems.", problems)
    try:
        rubric.render(sample_context(rubric.kind))
    except jinja2.UndefinedError as exc:
        missing = re.search(r"has no attribute '([^']+)'|'([^']+)' is undefined", str(exc))
        name = next((g for g in missing.groups() if g), "") if missing else ""
        raise FileFormatError(
            f"{where} has template problems.",
            [
                f"{where}:{_line_of(rubric, name)}: {exc.message}. Variables are documented in "
                "harness/scorers/judges/_render.py (e.g. case.id, case.tags, case.metadata)."
            ],
        ) from None
    except jinja2.TemplateError as exc:
        raise FileFormatError(
            f"{where} has template problems.", [f"{where}:{rubric.template_line}: {exc}. Fix the template."]
        ) from None


def _did_you_mean(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _line_of(rubric: Rubric, name: str) -> int:
    """The file line where the template first mentions ``name`` (the template's first line if it does not)."""
    if name:
        pattern = re.compile(rf"\b{re.escape(name)}\b")
        for offset, line in enumerate(rubric.template.splitlines()):
            if ("{{" in line or "{%" in line) and pattern.search(line):
                return rubric.template_line + offset
    return rubric.template_line


def find_rubric(name: str, root: str | Path) -> Rubric:
    """The rubric called ``name`` under ``root`` (``rubrics/``): ``root/<name>.md``, or any file whose header says
    ``name: <name>``.

    Raises:
        FileFormatError: no rubric has that name (the message lists the ones there are), or the file is broken.
    """
    root = Path(root)
    direct = root / f"{name}.md"
    if direct.is_file():
        rubric = load_rubric(direct)
        if rubric.name == name:
            return rubric
    found = {r.name: r for r in list_rubrics(root)}
    if name in found:
        return found[name]
    hint = _did_you_mean(name, tuple(found))
    raise FileFormatError(
        f"No rubric named '{name}'{hint} in {root}.",
        [f"{root}: rubrics there: {', '.join(found) or 'none'}. A rubric is a .md file with a 'name:' header."],
    )


def list_rubrics(root: str | Path) -> list[Rubric]:
    """Every rubric file under ``root``, by name (a README or other Markdown without a header is skipped)."""
    paths = sorted(Path(root).rglob("*.md"))
    found = [load_rubric(path) for path in paths if path.read_text(encoding="utf-8").startswith("---")]
    return sorted(found, key=lambda r: r.name)
