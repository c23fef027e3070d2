"""Block outbound connections while replaying: a replay that reaches for the network is a bug, not a fallback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from harness.replay._verify import NetworkBlockedError

REPLAY_BASE_URL = "http://127.0.0.1:9/v1"
"""Where model calls point while replaying (agent runs and judges alike): nothing listens there, and the network is
blocked, so every answer comes from a cassette. Recordings made against the in-process scripted server carry host
127.0.0.1 (the port is not matched)."""

_lock = threading.Lock()
_depth = 0
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


def _refuse(sock: socket.socket, address: Any, *args: Any) -> Any:
    raise NetworkBlockedError(
        f"replay blocked an outbound connection to {address!r}: everything a replayed run needs comes from its "
        "cassette. A tool or agent that opens its own connections must be recorded another way, or run with "
        "--record-mode off."
    )


@contextlib.contextmanager
def network_blocked() -> Iterator[None]:
    """Refuse every socket connection made by this process (all threads) inside the block; nestable."""
    global _depth
    with _lock:
        if _depth == 0:
            socket.socket.connect = _refuse  # type: ignore[method-assign,assignment]
            socket.socket.connect_ex = _refuse  # type: ignore[method-assign,assignment]
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                socket.socket.connect = _original_connect  # type: ignore[method-assign]
                socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]
