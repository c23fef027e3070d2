"""Where judge calls go while scoring: the configured endpoint, cassettes, or the scripted server in-process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import Settings
from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.scorers.judges import JudgeEndpoint
    from harness.scorers.judges._call import JudgeRecordMode


def judge_mode(value: str) -> JudgeRecordMode:
    if value not in ("off", "replay", "record", "rerecord"):
        raise ConfigError(f"Unknown record mode '{value}'. Valid: replay, record, rerecord, off.")
    return value  # type: ignore[return-value]


@contextlib.contextmanager
def serving_judges(settings: Settings, endpoint: JudgeEndpoint, scripted: bool | None = None) -> Iterator[str]:
    """Serve the scripted model in-process when there is no endpoint; block the network while replaying.

    Yields a description of where judge calls go. ``scripted`` defaults to: no endpoint and not replaying.
    """
    if scripted is None:
        scripted = endpoint.base_url is None and endpoint.record_mode != "replay"
    if endpoint.record_mode == "replay":
        from harness.replay._block import network_blocked

        with network_blocked():
            yield f"cassettes ({endpoint.cassette_dir})"
        return
    if not scripted:
        yield endpoint.base_url or "the provider's default endpoint"
        return
    from harness.mockllm import MockLLMServer

    scenario: str | Path = settings.scenario
    if (settings.root / settings.scenario).exists():
        scenario = settings.root / settings.scenario
    with MockLLMServer(scenario) as server:
        endpoint.base_url = server.base_url
        yield f"scripted server in-process (scenario {settings.scenario})"
