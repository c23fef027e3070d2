"""Run the scripted model server: in the foreground (the CLI) or in a background thread (tests, demos)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from harness.mockllm._engine import MockEngine
from harness.mockllm._http import HttpServer, RequestLog
from harness.mockllm.faults import FaultSpec, resolve_faults
from harness.mockllm.scenario import Scenario, load_scenario

ScenarioSource = Scenario | str | Path | None
FaultSource = list[FaultSpec] | str | Path | None


def _scenario(source: ScenarioSource) -> Scenario:
    return source if isinstance(source, Scenario) else load_scenario(source)


def _faults(source: FaultSource) -> list[FaultSpec]:
    return list(source) if isinstance(source, list) else resolve_faults(source)


class MockLLMServer:
    """An OpenAI-compatible scripted model server on loopback.

    Configuration errors (a bad scenario or fault spec) raise when the server is created, before anything listens.

    Example:
        >>> with MockLLMServer(scenario="default") as server:  # doctest: +SKIP
        ...     client = openai.OpenAI(base_url=server.base_url, api_key="unused")
    """

    def __init__(
        self,
        scenario: ScenarioSource = None,
        faults: FaultSource = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_request: RequestLog | None = None,
    ) -> None:
        self.scenario = _scenario(scenario)
        self.engine = MockEngine(self.scenario, _faults(faults))
        self.host = host
        self._http = HttpServer(self.engine, on_request)
        self._sock = socket.create_server((host, port), backlog=2048)
        self.port: int = self._sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._closed = False

    @property
    def base_url(self) -> str:
        """The URL to give an OpenAI client as ``base_url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def configure(self, scenario: ScenarioSource = None, faults: FaultSource = None) -> None:
        """Replace the scenario and fault plan (and reset counters) without restarting."""
        self.scenario = _scenario(scenario)
        self.engine = MockEngine(self.scenario, _faults(faults))
        self._http.engine = self.engine

    async def serve(self) -> None:
        """Serve on the current event loop until :meth:`stop` is called or the task is cancelled."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._http.handle_connection, sock=self._sock, limit=64 * 1024)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            await self._http.close_connections()
            with contextlib.suppress(Exception):
                await server.wait_closed()
            self._closed = True

    def start(self) -> MockLLMServer:
        """Start serving in a daemon thread; returns once the server accepts connections."""
        if self._thread is not None:
            return self
        if self._closed:
            raise RuntimeError("this MockLLMServer was stopped; create a new one")
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve()), name="mockllm", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("mockllm did not start within 10 s")
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._loop is not None and self._stop is not None and not self._closed:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._sock.close()

    def __enter__(self) -> MockLLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def background_server(
    scenario: ScenarioSource = None,
    faults: FaultSource = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[str]:
    """Run the scripted server in a background thread for the ``with`` block; yields its base URL.

    Example:
        >>> with background_server("default", faults="429@first 1") as base_url:  # doctest: +SKIP
        ...     openai.OpenAI(base_url=base_url, api_key="unused").chat.completions.create(...)
    """
    with MockLLMServer(scenario, faults, host=host, port=port) as server:
        yield server.base_url
