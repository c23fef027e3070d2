"""Reports and baselines: what ``agenteval report`` and ``agenteval baseline save`` call."""

from __future__ import annotations

import json
from pathlib import Path

from harness.config import Settings, load_settings
from harness.errors import ConfigError
from harness.models.reports import Baseline, CaseResult, Operations, Report
from harness.models.traces import RunTrace
from harness.traces import TraceStore


def _settings(db: str | Path | None) -> Settings:
    return load_settings(overrides={"db": None if db is None else Path(db).expanduser().resolve()})


def _results(store: TraceStore, eval_run_id: str, settings: Settings) -> tuple[list[CaseResult], list[Operations]]:
    from harness.reporting.build import case_results, operations

    frames = store.eval_run_frames(eval_run_id)
    return case_results(frames), operations(frames, dict(settings.prices))


def build_report(
    eval_run_id: str,
    *,
    baseline: str | None = None,
    baseline_file: str | Path | None = None,
    baseline_variant: str | None = None,
    variants: list[str] | None = None,
    fail_on: str = "regression",
    db: str | Path | None = None,
) -> Report:
    """Compare a stored eval run with a baseline: another eval run, a baseline file, or another variant of the
    same eval run (``baseline_variant``, e.g. v1 against v2). Without any, no comparison is made.

    Raises:
        ConfigError: Two baselines given, an unknown variant, an unreadable baseline file.
        TraceStoreError: No such eval run.
    """
    from harness.reporting.build import compare

    if sum(x is not None for x in (baseline, baseline_file, baseline_variant)) > 1:
        raise ConfigError("Give one baseline: --baseline EVAL_RUN_ID, --baseline-file FILE or --baseline-variant V.")
    if fail_on not in ("regression", "never"):
        raise ConfigError(f"--fail-on {fail_on!r}: valid values are regression and never.")
    settings = _settings(db)
    store = TraceStore(settings.store_path)
    record = store.get_eval_run(eval_run_id)
    current, ops = _results(store, record.eval_run_id, settings)
    ran = sorted({c.variant for c in current})
    chosen = variants or ran
    record.check_variants(chosen)
    before: list[CaseResult] | None = None
    before_ops: list[Operations] = []
    label: str | None = None
    mapping: dict[str, str] | None = None
    if baseline_variant is not None:
        record.check_variants([baseline_variant])
        chosen = [v for v in chosen if v != baseline_variant] if variants is None else chosen
        before = [c for c in current if c.variant == baseline_variant]
        before_ops = [o for o in ops if o.variant == baseline_variant]
        mapping = dict.fromkeys(chosen, baseline_variant)
        label = f"variant {baseline_variant} of the same eval run"
    elif baseline is not None:
        other = store.get_eval_run(baseline)
        before, before_ops = _results(store, other.eval_run_id, settings)
        label = f"eval run {other.eval_run_id}"
    elif baseline_file is not None:
        saved = load_baseline(baseline_file)
        before, before_ops = saved.cases, saved.operations
        label = f"file {baseline_file} (eval run {saved.eval_run_id})"
    gate = settings.gate
    return compare(
        record,
        [c for c in current if c.variant in chosen],
        before,
        ops=[o for o in ops if o.variant in chosen],
        baseline_ops=before_ops,
        baseline_label=label,
        variant_map=mapping,
        alpha=gate.alpha,
        fail_on=fail_on,
        max_drop=gate.max_pass_rate_drop,
        min_pass_rate=gate.min_pass_rate,
    )


def report_traces(run_ids: list[str], *, db: str | Path | None = None) -> dict[str, RunTrace]:
    """The stored traces of these runs (for a report's drill-down), read in one pass."""
    settings = _settings(db)
    return TraceStore(settings.store_path).get_traces(run_ids)


def save_baseline(eval_run_id: str, *, out: str | Path | None = None, db: str | Path | None = None) -> Path:
    """Write the compact baseline of a stored eval run (default ``reports/baseline.json``) and return its path."""
    from harness.reporting.build import baseline_of

    settings = _settings(db)
    store = TraceStore(settings.store_path)
    record = store.get_eval_run(eval_run_id)
    cases, ops = _results(store, record.eval_run_id, settings)
    path = Path(out) if out is not None else settings.root / settings.baseline_file
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot = baseline_of(record, cases, ops)
    # One case per line-ish, sorted keys: a PR's diff of the baseline shows which cases changed.
    path.write_text(json.dumps(snapshot.model_dump(mode="json"), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_baseline(path: str | Path) -> Baseline:
    """Read a baseline file.

    Raises:
        ConfigError: missing, not JSON, or not a baseline (what is wrong and how to make a new one).
    """
    from pydantic import ValidationError

    where = Path(path)
    try:
        return Baseline.model_validate_json(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"No baseline at {where}: save one from main's eval run with `agenteval baseline save EVAL_RUN_ID`."
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(
            f"{where} is not an agenteval baseline ({'.'.join(str(p) for p in first['loc'])}: {first['msg']}); "
            "save a new one with `agenteval baseline save EVAL_RUN_ID`."
        ) from None


def write_reports(report: Report, directory: str | Path, *, db: str | Path | None = None) -> list[Path]:
    """Write every report format into ``directory``: ``report.md``, ``junit.xml``, ``report.html`` (with the drill-down
    traces) and ``report.json``; return the paths (what the pytest plugin's ``--agenteval-report DIR`` writes)."""
    from harness.reporting.html import drill_down_run_ids, to_html
    from harness.reporting.junit import to_junit
    from harness.reporting.markdown import to_markdown

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "report.md": to_markdown(report),
        "junit.xml": to_junit(report),
        "report.html": to_html(report, report_traces(drill_down_run_ids(report), db=db)),
        "report.json": report.model_dump_json(indent=2),
    }
    paths = []
    for name, text in written.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
