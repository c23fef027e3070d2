"""Settings: ``[tool.agenteval]`` in pyproject.toml, then ``AGENTEVAL_*`` environment variables, then arguments.

Example::

    [tool.agenteval]
    agent = "support"                 # or "module:function"
    datasets = ["datasets/support"]
    db = ".agenteval/traces.duckdb"
    scenario = "support"              # what the in-process scripted server plays when no base_url is set
    concurrency = 8
    default_variants = ["v1", "v2"]
    # variants_file = "variants.toml" # variants may live in their own file instead

    [tool.agenteval.variants.v1]
    prompt_version = "v1"

    [tool.agenteval.variants.v2]
    prompt_version = "v2"
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from harness.errors import ConfigError
from harness.models import Record
from harness.models.cases import Variant


class GateSettings(Record):
    """The CI gate (``[tool.agenteval.gate]``): when ``agenteval report --fail-on regression`` exits 1."""

    alpha: float = Field(default=0.05, gt=0, lt=1)
    """Significance level of the paired tests: a drop fails the gate only when p < alpha."""
    max_pass_rate_drop: float | None = Field(default=None, ge=0, le=1)
    """Hard threshold: a pass-rate drop larger than this fails, significant or not (e.g. 0.1)."""
    min_pass_rate: float | None = Field(default=None, ge=0, le=1)
    """Hard threshold: a variant below this pass rate fails."""


class Settings(Record):
    """Everything ``agenteval run`` needs to know that is not a command-line argument."""

    root: Path = Path(".")
    """Project root: the folder holding the pyproject.toml the settings came from (or the working directory)."""
    agent: str = "support"
    """Agent under test: ``support``, ``tool-calling``, ``recorded`` or ``module:function``."""
    datasets: list[str] = ["datasets/support"]
    """Dataset files, folders or names run by default."""
    db: Path = Path(".agenteval/traces.duckdb")
    """Trace store."""
    base_url: str | None = None
    """OpenAI-compatible endpoint; ``None`` runs against the in-process scripted server."""
    scenario: str = "support"
    """Scenario of the in-process scripted server (a bundled name or a YAML path, relative to the root)."""
    concurrency: int = Field(default=8, ge=1, le=1024)
    """Cases run at once (lowered automatically while the provider answers 429)."""
    epochs: int = Field(default=1, ge=1)
    """Repetitions of every case × variant."""
    record_mode: Literal["off", "replay", "record", "rerecord"] = "replay"
    """Cassettes: ``replay`` (default: offline, from cassettes/ only), ``record`` (record what is missing),
    ``rerecord`` (replace), ``off`` (live calls, nothing recorded)."""
    replay_ignore: list[str] = []
    """Top-level request fields ignored when matching a request against a cassette (volatile values such as
    ``user`` or ``metadata``); everything else must match exactly, as canonical JSON."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Per-case wall-clock limit."""
    variants: dict[str, Variant] = {
        "v1": Variant(name="v1", prompt_version="v1"),
        "v2": Variant(name="v2", prompt_version="v2"),
    }
    """Named variants."""
    prices: dict[str, tuple[float, float]] = {
        "mock-gpt": (0.0, 0.0),
        "mock-gpt-mini": (0.0, 0.0),
        "gpt-4o": (2.50, 10.00),
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
    }
    """USD per million input and output tokens by model, for cost figures (``[tool.agenteval.prices]``)."""
    default_variants: list[str] = []
    """Variants run when ``--variants`` is not given (default: all of them)."""
    gate: GateSettings = GateSettings()
    """The CI gate's thresholds. Security cases have zero tolerance whatever these say."""
    baseline_file: Path = Path("reports/baseline.json")
    """Where ``agenteval baseline save`` writes and ``agenteval report`` looks for the committed baseline."""
    source: str = "defaults"
    """Where the settings came from (for messages)."""

    @property
    def scenario_source(self) -> str | Path:
        """The scripted server's scenario: a file under the project root when there is one, else a bundled name."""
        return self.root / self.scenario if (self.root / self.scenario).exists() else self.scenario

    @property
    def store_path(self) -> Path:
        """The trace store file: ``db``, relative to the project root unless absolute."""
        return self.db if self.db.is_absolute() else self.root / self.db

    def pick_variants(self, names: list[str] | None) -> list[Variant]:
        """The variants named (all, or ``default_variants``, when none are); unknown names are a ConfigError."""
        wanted = names or self.default_variants or list(self.variants)
        unknown = [n for n in wanted if n not in self.variants]
        if unknown:
            raise ConfigError(
                f"Unknown variant(s) {', '.join(unknown)} ({self.source}). Declared: {', '.join(self.variants)}. "
                "Declare variants under [tool.agenteval.variants.NAME] in pyproject.toml."
            )
        return [self.variants[n] for n in wanted]


_ENV = {
    "AGENTEVAL_AGENT": "agent",
    "AGENTEVAL_DB": "db",
    "AGENTEVAL_BASE_URL": "base_url",
    "AGENTEVAL_SCENARIO": "scenario",
    "AGENTEVAL_CONCURRENCY": "concurrency",
    "AGENTEVAL_EPOCHS": "epochs",
    "AGENTEVAL_RECORD_MODE": "record_mode",
}


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.agenteval]`` table, from ``start`` upwards."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError):
                continue
            if "agenteval" in data.get("tool", {}):
                return path
    return None


def load_settings(start: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from pyproject, then environment, then ``overrides`` (command-line values that are not ``None``).

    Relative paths in the file are resolved against the file's folder.
    """
    path = find_pyproject(start)
    values: dict[str, Any] = {}
    source = "built-in defaults"
    root = (start or Path.cwd()).resolve()
    if path is not None:
        root = path.parent
        source = str(path)
        table = dict(tomllib.loads(path.read_text(encoding="utf-8"))["tool"]["agenteval"])
        variants_file = table.pop("variants_file", None)
        if variants_file is not None:
            extra = _read_toml(root / str(variants_file))
            table.setdefault("variants", {}).update(extra.get("variants", extra))
        values.update(table)
    for env, key in _ENV.items():
        if os.environ.get(env):
            values[key] = os.environ[env]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    raw_variants = values.pop("variants", None)
    try:
        settings = Settings.model_validate({**values, "root": root, "source": source})
        if raw_variants is not None:
            if not isinstance(raw_variants, dict) or not raw_variants:
                raise ConfigError(f"{source}: [tool.agenteval.variants] must be a table of named variants.")
            variants = {n: Variant.model_validate({"name": n, **dict(v)}) for n, v in raw_variants.items()}
            settings = settings.model_copy(update={"variants": variants})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"Invalid agenteval settings ({source}): {problems}.") from None
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"variants_file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def safe_name(text: str) -> str:
    """A file-name-safe version of a case id, variant, rubric or folder name (cassette file names)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def cassette_stem(directory: Path, dataset: str, variant: str, case_id: str, epoch: int) -> Path:
    """``<dir>/<dataset>/<variant>/<case>.e<epoch>``: where a case execution's cassette lives (``.yaml`` added) and
    the judge cassettes of its run sit next to it (``.judge.<rubric>.yaml``)."""
    return directory / dataset / variant / f"{safe_name(case_id)}.e{epoch}"
