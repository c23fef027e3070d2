"""The plugin's per-session state: the eval run, the harness session (made on first use), and the end of session:
merging xdist shards, the report, the gate and the terminal summary (controller only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.api import EvalSession

STATE = pytest.StashKey["SessionState"]()


@dataclass
class SessionState:
    """What the plugin knows about this pytest process."""

    config: pytest.Config
    record_mode: str | None = None
    """--agenteval-record-mode (beats everything)."""
    ini_record_mode: str | None = None
    """agenteval_record_mode (beaten by a test's agenteval_config)."""
    db: Path | None = None
    report_dir: Path | None = None
    baseline: Path | None = None
    fail_on: str = "never"
    eval_run_id: str = ""
    worker: str | None = None
    """xdist worker id, on a worker."""
    workers: list[str] = field(default_factory=list)
    """xdist worker ids, on the controller."""
    worker_runs: int = 0
    """Eval runs the workers reported (controller)."""
    summary: list[str] = field(default_factory=list)
    _session: EvalSession | None = None

    @classmethod
    def from_config(cls, config: pytest.Config, modes: tuple[str, ...]) -> SessionState:
        """Options beat ini values; relative ini paths are relative to the rootdir, options' to the working dir."""

        def path(option: str, ini: str) -> Path | None:
            given = config.getoption(option)
            if given:
                return Path(given).expanduser().resolve()
            value = str(config.getini(ini) or "")
            return (config.rootpath / value).resolve() if value else None

        ini_mode = str(config.getini("agenteval_record_mode") or "") or None
        if ini_mode is not None and ini_mode not in modes:
            raise pytest.UsageError(f"agenteval_record_mode = {ini_mode!r}: valid values are {', '.join(modes)}.")
        fail_on = config.getoption("agenteval_fail_on") or str(config.getini("agenteval_fail_on") or "never")
        if fail_on not in ("regression", "never"):
            raise pytest.UsageError(f"agenteval_fail_on = {fail_on!r}: valid values are regression and never.")
        baseline = path("agenteval_baseline", "agenteval_baseline")
        if fail_on == "regression" and baseline is None:
            raise pytest.UsageError(
                "--agenteval-fail-on regression needs a baseline to compare with: --agenteval-baseline FILE "
                "(save one with `agenteval baseline save EVAL_RUN_ID`)."
            )
        return cls(
            config=config,
            record_mode=config.getoption("agenteval_record_mode"),
            ini_record_mode=ini_mode,
            db=path("agenteval_db", "agenteval_db"),
            report_dir=path("agenteval_report", "agenteval_report"),
            baseline=baseline,
            fail_on=fail_on,
        )

    def session(self) -> EvalSession:
        """The harness session of this process, made on first use (this is where harness is imported)."""
        if self._session is None:
            from harness.api import EvalSession
            from harness.errors import HarnessError

            try:
                self._session = EvalSession(
                    eval_run_id=self.eval_run_id,
                    db=self.db,
                    worker=self.worker,
                    overrides={"record_mode": self.record_mode},
                    defaults={"record_mode": self.ini_record_mode},
                    start=self.config.rootpath,
                )
            except HarnessError as exc:
                raise pytest.UsageError(f"agenteval: {exc}") from None
        return self._session


def finish(session: pytest.Session) -> None:
    """End of session: a worker closes its shard; the controller (or a serial session) merges the shards, builds
    the report, writes the report files and applies the gate."""
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    runs = state._session.close() if state._session is not None else 0
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["agenteval_runs"] = runs
        return
    if not runs and not state.worker_runs:
        return  # no eval test ran: nothing to import, merge or report
    from harness import api
    from harness.errors import HarnessError

    try:
        outcome = api.finish_eval_session(state.eval_run_id, state.db, state.workers, start=session.config.rootpath)
        if outcome is None:
            return
        report = api.build_report(
            outcome.eval_run_id,
            baseline_file=state.baseline,
            fail_on=state.fail_on if state.baseline is not None else "never",
            db=outcome.db,
        )
        written = api.write_reports(report, state.report_dir, db=outcome.db) if state.report_dir else []
    except HarnessError as exc:
        state.summary = [f"agenteval: the session's report failed: {exc}"]
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    state.summary = summary_lines(report, outcome, written, state.baseline)
    gate_failed = state.baseline is not None and state.fail_on == "regression" and not report.gate.passed
    if gate_failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def summary_lines(report: Any, outcome: Any, written: list[Path], baseline: Path | None) -> list[str]:
    """The terminal summary: the eval run, pass rates per variant, the gate, the report files."""
    where = f"{outcome.db}" + (f" (merged from {len(outcome.shards)} worker shards)" if outcome.shards else "")
    lines = [f"eval run {outcome.eval_run_id}: {outcome.runs} run(s) stored in {where}"]
    for variant in report.variants:
        passed = round(variant.pass_rate * variant.cases)
        line = f"  {variant.variant}: {passed}/{variant.cases} cases passed ({variant.pass_rate:.1%})"
        if variant.baseline_pass_rate is not None:
            line += f", baseline {variant.baseline_pass_rate:.1%}, {variant.regressed} regressed, {variant.fixed} fixed"
        lines.append(line)
    if baseline is not None:
        lines.append(f"gate ({report.gate.fail_on}) against {baseline}: {report.gate.reason}")
    lines += [f"report: {path}" for path in written]
    return lines


def terminal_lines(config: pytest.Config) -> list[str]:
    state = config.stash.get(STATE, None)
    return state.summary if state is not None else []
