r"""Throughput benchmark for mockllm, the scripted OpenAI-compatible model server.

Starts ``agenteval mockllm serve`` in a separate process and measures requests/second (and p50/p99 latency) for
``POST /v1/chat/completions`` with three clients: a minimal raw asyncio HTTP/1.1 client (non-streaming and streaming)
and the official ``openai.AsyncOpenAI`` client. Each scenario gets a warm-up of ~200 uncounted requests, then a timed
phase of fixed duration.

Run it from the project root:

    .venv/bin/python benchmarks/mockllm_throughput.py [--seconds 5] [--concurrency 16] \
        [--json benchmarks/results/mockllm.json]

This is a benchmark, not a test: the figures vary with the machine (the client and server share its CPUs), so
compare ratios within one run. It exits 0 whether or not the target is met, and non-zero only when the server fails
to start or requests error out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
from openai.types.chat import ChatCompletionUserMessageParam

TARGET_RPS = 1000
WARMUP_REQUESTS = 200
START_TIMEOUT_S = 15.0
MODEL = "mock-gpt"
MESSAGES: list[ChatCompletionUserMessageParam] = [{"role": "user", "content": "Hello, how are you?"}]
URL_RE = re.compile(r"mockllm listening on (http://\S+/v1)")

Call = Callable[[], Awaitable[bool]]


@dataclass
class Result:
    scenario: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, pct: int) -> float:
        if len(self.latencies_ms) < 2:  # quantiles() needs two points
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[pct - 1]

    def cells(self) -> tuple[object, ...]:
        figures = (self.seconds, self.rps, self.percentile(50), self.percentile(99))
        return (self.scenario, self.concurrency, self.requests, self.errors, *(f"{x:.2f}" for x in figures))

    def summary(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        return {**data, "rps": round(self.rps, 1), "p50_ms": self.percentile(50), "p99_ms": self.percentile(99)}


@contextlib.contextmanager
def mockllm_server() -> Iterator[str]:
    """Run ``mockllm serve`` in a child process for the ``with`` block; yields its base URL."""
    cmd = [sys.executable, "-c", "from harness.cli import main; main()", "mockllm", "serve", "--port", "0", "--quiet"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
    try:
        yield _wait_for_url(lines)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def _wait_for_url(lines: queue.Queue[str | None]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    seen: list[str] = []
    with contextlib.suppress(queue.Empty):
        while (line := lines.get(timeout=max(deadline - time.monotonic(), 0.001))) is not None:
            seen.append(line)
            if match := URL_RE.search(line):
                return match.group(1)
    raise RuntimeError(f"mockllm did not print its URL within {START_TIMEOUT_S:g} s; output:\n" + "".join(seen))


@dataclass
class RawConnection:
    """One keep-alive connection that sends a fixed request and reads the whole response."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    request: bytes

    @classmethod
    async def open(cls, base_url: str, body: dict[str, Any]) -> RawConnection:
        url = urlsplit(base_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        payload = json.dumps(body).encode()
        head = (
            f"POST {url.path}/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, head.encode() + payload)

    async def call(self) -> bool:
        self.writer.write(self.request)
        await self.writer.drain()
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
            return status == 200
        if "chunked" in headers.get("transfer-encoding", ""):
            return await self._read_chunked() and status == 200
        raise RuntimeError(f"response without a length: {head[0]}")

    async def _read_chunked(self) -> bool:
        last = b""
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16):
            last = (await self.reader.readexactly(size + 2))[:-2]
        while await self.reader.readuntil(b"\r\n") != b"\r\n":  # optional trailers
            pass
        return b"[DONE]" in last

    def close(self) -> None:
        self.writer.close()


async def drive(calls: list[Call], *, seconds: float | None = None, budget: int | None = None) -> Result:
    """Run one worker per call until the deadline passes or the shared request budget is spent."""
    deadline = time.perf_counter() + seconds if seconds is not None else float("inf")
    left = budget if budget is not None else -1  # -1: no request budget
    result = Result("", len(calls), 0, 0, 0.0, [])

    async def worker(call: Call) -> None:
        nonlocal left
        while left != 0 and time.perf_counter() < deadline:
            left -= 1
            t0 = time.perf_counter()
            try:
                ok = await call()
            except Exception as exc:  # a broken connection cannot be reused: stop this worker
                result.errors += 1
                print(f"request error: {exc!r}", file=sys.stderr)
                return
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.requests += 1
            result.errors += not ok

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in calls))
    result.seconds = time.perf_counter() - start
    return result


async def measure(name: str, calls: list[Call], seconds: float) -> Result:
    warm = await drive(calls, budget=WARMUP_REQUESTS)
    result = await drive(calls, seconds=seconds)
    result.scenario, result.errors = name, result.errors + warm.errors
    return result


async def raw_scenario(name: str, base_url: str, body: dict[str, Any], concurrency: int, seconds: float) -> Result:
    conns = await asyncio.gather(*(RawConnection.open(base_url, body) for _ in range(concurrency)))
    try:
        return await measure(name, [c.call for c in conns], seconds)
    finally:
        for conn in conns:
            conn.close()


async def openai_scenario(name: str, base_url: str, concurrency: int, seconds: float) -> Result:
    async with openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0) as client:

        async def call() -> bool:
            try:
                await client.chat.completions.create(model=MODEL, messages=MESSAGES)
            except openai.APIStatusError:
                return False
            return True

        return await measure(name, [call] * concurrency, seconds)


async def run_all(base_url: str, concurrency: int, seconds: float) -> list[Result]:
    body: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
    stream = {**body, "stream": True, "stream_options": {"include_usage": True}}
    return [
        await raw_scenario("raw http, non-streaming", base_url, body, concurrency, seconds),
        await raw_scenario("raw http, streaming", base_url, stream, concurrency, seconds),
        await openai_scenario("openai AsyncOpenAI, non-streaming", base_url, concurrency, seconds),
    ]


HEADER = ("scenario", "conc", "requests", "errors", "seconds", "req/s", "p50 ms", "p99 ms")
WIDTHS = (-36, 6, 10, 8, 9, 10, 9, 9)  # negative: left-aligned


def row(cells: tuple[object, ...]) -> str:
    return "".join(f"{c:<{-w}}" if w < 0 else f"{c:>{w}}" for c, w in zip(cells, WIDTHS, strict=True))


def report(results: list[Result], loop_name: str) -> bool:
    print(row(HEADER))
    for r in results:
        print(row(r.cells()))
    met = results[0].rps >= TARGET_RPS
    print(f"\ntarget: ≥ {TARGET_RPS:,} non-streaming req/s with a raw client: {'MET' if met else 'NOT MET'}")
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  event loop: {loop_name}")
    return met


def loop_factory() -> tuple[Callable[[], asyncio.AbstractEventLoop], str]:
    try:
        return importlib.import_module("uvloop").new_event_loop, "uvloop"
    except ImportError:
        return asyncio.new_event_loop, "asyncio"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each timed phase (default 5)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections/workers (default 16)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    args = parser.parse_args()
    factory, loop_name = loop_factory()
    try:
        with mockllm_server() as base_url, asyncio.Runner(loop_factory=factory) as runner:
            results = runner.run(run_all(base_url, args.concurrency, args.seconds))
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    met = report(results, loop_name)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc: dict[str, Any] = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0], "event_loop": loop_name}
        doc |= {"target_rps": TARGET_RPS, "target_met": met, "results": [r.summary() for r in results]}
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    errors = sum(r.errors for r in results)
    if errors:
        print(f"error: {errors} request(s) failed", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
