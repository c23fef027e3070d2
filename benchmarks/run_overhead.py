"""agenteval's overhead per case: `agenteval run` versus a plain openai async loop making the same calls.

Starts the scripted model server in its own process, then in the same run measures:

1. a plain loop: ``openai.AsyncOpenAI`` making N chat calls at concurrency C (a semaphore), nothing else;
2. the whole ``agenteval run`` of a generated N-case dataset (agent ``tool-calling``, one model call per case, no
   tools) against the same server at concurrency C, as a subprocess: interpreter start, imports, planning, tracing,
   storing every run in DuckDB, and the summary included.

Target: (2) takes at most 1.5 × the wall time of (1). Run from the project root:

    .venv/bin/python benchmarks/run_overhead.py [--cases 1000] [--concurrency 16] [--repeat 5] [--json FILE]

A benchmark, not a test: figures vary with the machine, and a shared 2-core machine drifts by tens of percent
within minutes. So each repeat measures the plain loop and then agenteval back to back, the ratio is taken within
each pair, and the verdict is on the median pair; every pair is printed and kept in the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from harness.cli import main; main()", "mockllm", "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"(http://\S+/v1)", line)
    if match is None:
        process.kill()
        raise SystemExit(f"mockllm did not start: {line!r} {process.stderr.read() if process.stderr else ''}")
    return process, match.group(1)


def write_dataset(folder: Path, cases: int) -> Path:
    path = folder / "bench.jsonl"
    header = {
        "dataset": {"name": "bench/single-call", "agent": "tool-calling", "description": "one model call per case"}
    }
    lines = [json.dumps(header)]
    lines += [
        json.dumps({"id": f"case-{i:05d}", "input": f"Question number {i}: what is {i} + {i}?"}) for i in range(cases)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


async def plain_loop(base_url: str, cases: int, concurrency: int) -> float:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def call(i: int) -> None:
        async with gate:
            await client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": f"Question number {i}: what is {i} + {i}?"}]
            )

    started = time.perf_counter()
    await asyncio.gather(*(call(i) for i in range(cases)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


def agenteval_run(base_url: str, dataset: Path, db: Path, concurrency: int) -> tuple[float, dict[str, object]]:
    command = [
        sys.executable,
        "-c",
        "from harness.cli import main; main()",
        "run",
        str(dataset),
        "-v",
        "v1",
        "--record-mode",
        "off",  # live calls: the comparison is with a live plain loop
        "--base-url",
        base_url,
        "--concurrency",
        str(concurrency),
        "--db",
        str(db),
        "--json",
    ]
    started = time.perf_counter()
    # Run inside the dataset's folder so that no project settings (variants) apply: one run per case.
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=dataset.parent, env={**os.environ, "COLUMNS": "200"}
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"agenteval run failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed, json.loads(result.stdout)


def _stored(db: Path) -> tuple[int, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT count(*) FROM runs WHERE status = 'completed'").fetchone()
        spans = con.execute("SELECT count(*) FROM spans").fetchone()
    finally:
        con.close()
    return (runs[0] if runs else 0), (spans[0] if spans else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5, help="pairs of measurements; the verdict is on the median")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    pairs: list[dict[str, float]] = []
    server, base_url = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            dataset = write_dataset(folder, args.cases)
            asyncio.run(plain_loop(base_url, 50, args.concurrency))  # warm the server up
            print(f"{'pair':<6}{'plain loop':>12}{'agenteval run':>16}{'inside the run':>17}{'ratio':>8}")
            for index in range(args.repeat):
                db = folder / f"traces-{index}.duckdb"
                plain = asyncio.run(plain_loop(base_url, args.cases, args.concurrency))
                whole, summary = agenteval_run(base_url, dataset, db, args.concurrency)
                stored, spans = _stored(db)
                if stored != args.cases:
                    raise SystemExit(f"agenteval stored {stored} completed runs, not {args.cases}")
                pair = {
                    "plain_loop_s": round(plain, 3),
                    "agenteval_run_s": round(whole, 3),
                    "agenteval_inner_s": float(summary.get("elapsed_s") or 0.0),
                    "ratio": round(whole / plain, 3),
                    "spans_stored": spans,
                }
                pairs.append(pair)
                print(
                    f"{index + 1:<6}{plain:>10.2f} s{whole:>14.2f} s{pair['agenteval_inner_s']:>15.2f} s"
                    f"{whole / plain:>7.2f}x"
                )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
    median = statistics.median_low([p["ratio"] for p in pairs])
    chosen = next(p for p in pairs if p["ratio"] == median)
    figures = {
        "cases": args.cases,
        "concurrency": args.concurrency,
        "repeat": args.repeat,
        "pairs": pairs,
        "ratio": median,
        "ratio_min": min(p["ratio"] for p in pairs),
        "ratio_max": max(p["ratio"] for p in pairs),
        "plain_loop_s": chosen["plain_loop_s"],
        "agenteval_run_s": chosen["agenteval_run_s"],
        "overhead_ms_per_case": round((chosen["agenteval_run_s"] - chosen["plain_loop_s"]) / args.cases * 1000, 3),
        "runs_stored": args.cases,
        "target_ratio": 1.5,
        "met": median <= 1.5,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    print(
        f"median ratio {median:.2f}x over {args.repeat} pairs (range {figures['ratio_min']:.2f}-"
        f"{figures['ratio_max']:.2f}x; target ≤ 1.5x: {'met' if median <= 1.5 else 'NOT met'}); overhead "
        f"{figures['overhead_ms_per_case']} ms per case; every run stored with its spans; {os.cpu_count()} cpus"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
