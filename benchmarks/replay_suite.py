"""Replay cost per model call: the bundled support suites recorded once, then replayed from cassettes.

Runs in a temporary copy of the project (nothing is written into the repository):

1. ``agenteval run --record-mode rerecord`` over the bundled suites (v1 and v2) against the scripted server;
2. ``agenteval run --record-mode replay`` with the endpoint pointed at a closed port (offline), timed;
3. the replay machinery alone, per model call: load every cassette (C YAML loader), build its index, match every
   recorded request the way the routing transport does (scrubbed, canonical JSON).

Target: ≤ 2 ms of replay cost per model call. Run from the project root:

    .venv/bin/python benchmarks/replay_suite.py [--json FILE]

A benchmark, not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.replay._reader import LOADER_NAME
from harness.replay._router import CaseCassette

ROOT = Path(__file__).resolve().parents[1]


def agenteval(project: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", "run", "--json", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if result.returncode != 0:
        raise SystemExit(f"agenteval run {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started


def machinery(cassettes: list[Path]) -> tuple[float, int]:
    """Seconds to load, index and match every recorded request of every cassette; and the number of calls."""
    calls = 0
    started = time.perf_counter()
    for path in cassettes:
        cassette = CaseCassette(path, "replay")  # what the runner builds per case: load + index
        for interaction in cassette.recorded:
            if cassette.answer(interaction.request) is None:  # what the routing transport does per request
                raise SystemExit(f"{path}: a recorded request does not match its own cassette")
            calls += 1
    return time.perf_counter() - started, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
        shutil.copytree(ROOT / "datasets", project / "datasets")
        live = agenteval(project, "--record-mode", "rerecord", "--db", "recorded.duckdb")
        replay = agenteval(
            project, "--record-mode", "replay", "--base-url", "http://127.0.0.1:9/v1", "--db", "replayed.duckdb"
        )
        files = sorted((project / "cassettes").rglob("*.yaml"))
        seconds, calls = machinery(files)
        size = sum(f.stat().st_size for f in files)
    per_call = seconds / calls * 1000
    figures = {
        "cassettes": len(files),
        "model_calls": calls,
        "cassette_mb": round(size / 1e6, 2),
        "yaml_loader": LOADER_NAME,
        "record_run_s": round(live, 2),
        "replay_run_s": round(replay, 2),
        "replay_cost_ms_per_call": round(per_call, 3),
        "target_ms": 2.0,
        "met": per_call <= 2.0,
    }
    print(f"{len(files)} cassettes, {calls} model calls, {size / 1e6:.1f} MB, YAML loader {LOADER_NAME}")
    print(f"record run (live against the scripted server): {live:.2f} s; replay run (offline): {replay:.2f} s")
    print(
        f"replay machinery: {per_call:.3f} ms per model call (load + index + match; target ≤ 2 ms: "
        f"{'met' if per_call <= 2.0 else 'NOT met'})"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
