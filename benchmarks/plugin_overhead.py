"""The pytest plugin's cost: per eval test over `agenteval run`, and on a plain test suite with no eval tests.

In one run, with repetitions alternated so that drift in the machine hits both sides alike:

1. **Per eval test.** The bundled suites' first N cases per dataset × v1, v2, replayed offline from the committed
   cassettes, (a) as a pytest session (one marked test, ``-p no:xdist``) and (b) as ``agenteval run`` over the
   same cases, both at concurrency 8 (the default) and at 1 (cases one after another, as pytest runs tests). Each is a
   subprocess with its own trace store: start-up, imports, tracing, storing, scoring and the summary included. The
   cost per eval test is (pytest − run) / tests.
2. **A plain suite.** 2,000 trivial tests run with the plugin loaded and with ``-p no:agenteval``. The difference
   is "within noise" when the plugin's side is not slower by more than the spread (max − min) of either side's
   repetitions.

Run from the project root:

    .venv/bin/python benchmarks/plugin_overhead.py [--cases 20] [--plain 2000] [--repeat 5] [--json FILE]

A benchmark, not a test: figures vary with the machine; the comparisons are made within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL_TEST = """
import pytest

@pytest.mark.agenteval(dataset="support", variant=["v1", "v2"], limit={cases})
def test_bundled(agenteval_run):
    agenteval_run(check=False)
"""
PLAIN_TEST = """
import pytest

@pytest.mark.parametrize("n", range({tests}))
def test_plain(n):
    assert n + 1 > n
"""


def timed(command: list[str], cwd: Path, expect: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if expect not in result.stdout:
        raise SystemExit(f"{' '.join(command)} did not report {expect!r}:\n{result.stdout[-2000:]}\n{result.stderr}")
    return elapsed


def eval_tests(folder: Path, cases: int, repeat: int) -> dict[str, object]:
    test_file = folder / "test_bundled.py"
    test_file.write_text(EVAL_TEST.replace("{cases}", str(cases)))
    tests = cases * 2 * 2  # two datasets, two variants
    times: dict[str, list[float]] = {"pytest": [], "run -c 8": [], "run -c 1": []}
    for i in range(repeat):
        for name in list(times) if i % 2 == 0 else list(times)[::-1]:
            db = folder / f"{name.replace(' ', '')}-{i}.duckdb"
            if name == "pytest":
                command = [
                    sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                    "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), "--agenteval-db", str(db),
                ]  # fmt: skip
                times[name].append(timed(command, ROOT, f"{tests} passed"))
            else:
                command = [
                    sys.executable, "-m", "harness.cli", "run", "support", "--record-mode", "replay", "-v", "v1,v2",
                    "--limit", str(cases), "-c", name.split()[-1], "--db", str(db), "--json",
                ]  # fmt: skip
                times[name].append(timed(command, ROOT, '"eval_run"'))
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "tests": tests,
        "seconds": times,
        "median_s": medians,
        "per_test_ms_over_run_c8": round((medians["pytest"] - medians["run -c 8"]) / tests * 1000, 1),
        "per_test_ms_over_run_c1": round((medians["pytest"] - medians["run -c 1"]) / tests * 1000, 1),
        "per_test_ms_pytest": round(medians["pytest"] / tests * 1000, 1),
    }


def plain_suite(folder: Path, tests: int, repeat: int) -> dict[str, object]:
    test_file = folder / "test_plain.py"
    test_file.write_text(PLAIN_TEST.replace("{tests}", str(tests)))
    base = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    base += ["--rootdir", str(folder)]
    times: dict[str, list[float]] = {"with plugin": [], "-p no:agenteval": []}
    commands = {"with plugin": base, "-p no:agenteval": [*base, "-p", "no:agenteval"]}
    for i in range(repeat):
        # Alternate which side goes first: a machine warming up or slowing down favours neither.
        for name in list(commands) if i % 2 == 0 else list(commands)[::-1]:
            times[name].append(timed(commands[name], folder, f"{tests} passed"))
    with_plugin, without = (statistics.median(times[k]) for k in ("with plugin", "-p no:agenteval"))
    spread = max(max(v) - min(v) for v in times.values())
    return {
        "tests": tests,
        "seconds": times,
        "median_s": {"with plugin": with_plugin, "-p no:agenteval": without},
        "ratio": round(with_plugin / without, 3),
        "difference_s": round(with_plugin - without, 3),
        "spread_s": round(spread, 3),
        # One-sided: the plugin costs nothing measurable when it is not slower than the runs' own spread.
        "within_noise": with_plugin - without <= spread,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20, help="cases per bundled dataset (× 2 datasets × 2 variants)")
    parser.add_argument("--plain", type=int, default=2000, help="trivial tests in the plain suite")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        evals = eval_tests(folder, args.cases, args.repeat)
        plain = plain_suite(folder, args.plain, args.repeat)
    med = evals["median_s"]
    assert isinstance(med, dict)
    print(f"eval tests: {evals['tests']} (bundled suites, replayed from cassettes), median of {args.repeat}")
    for name, seconds in med.items():
        print(f"  {name:<10} {seconds:6.2f} s")
    print(
        f"  plugin cost per eval test: {evals['per_test_ms_over_run_c1']} ms over `agenteval run -c 1`, "
        f"{evals['per_test_ms_over_run_c8']} ms over `agenteval run -c 8` ({evals['per_test_ms_pytest']} ms per test "
        "in all)"
    )
    pmed = plain["median_s"]
    assert isinstance(pmed, dict)
    print(f"plain suite: {plain['tests']} trivial tests, median of {args.repeat}")
    for name, seconds in pmed.items():
        print(f"  {name:<16} {seconds:6.3f} s")
    verdict = "within noise" if plain["within_noise"] else "OUTSIDE noise"
    print(f"  ratio {plain['ratio']}, difference {plain['difference_s']} s, spread {plain['spread_s']} s: {verdict}")
    if args.json is not None:
        args.json.write_text(json.dumps({"eval_tests": evals, "plain_suite": plain}, indent=2) + "\n")


if __name__ == "__main__":
    main()
