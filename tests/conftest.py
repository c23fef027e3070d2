"""Shared fixtures: the scripted model server, in-process.

`mockllm` is one server per test session (per xdist worker), on the bundled default scenario.
`make_mockllm(scenario=..., faults=...)` starts a dedicated server for a test and stops it afterwards; use it when
a test needs its own scenario or a server-wide fault schedule (request counters are per server).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from harness.mockllm import MockLLMServer
from harness.mockllm.server import FaultSource, ScenarioSource

pytest_plugins = ["pytester"]

MakeServer = Callable[..., MockLLMServer]


@pytest.fixture(scope="session")
def mockllm() -> Iterator[MockLLMServer]:
    with MockLLMServer() as server:
        yield server


@pytest.fixture
def make_mockllm() -> Iterator[MakeServer]:
    started: list[MockLLMServer] = []

    def make(scenario: ScenarioSource = None, faults: FaultSource = None) -> MockLLMServer:
        server = MockLLMServer(scenario, faults).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
