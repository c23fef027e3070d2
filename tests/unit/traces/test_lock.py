"""DuckDB allows one process per file for writing: a second process must get a clear error, not a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from harness.traces import TraceStore
from tests.unit.traces.factories import make_trace

CHILD = textwrap.dedent(
    """
    import sys
    from harness.traces import TraceStore, TraceStoreLockedError

    try:
        TraceStore(sys.argv[1]).list_runs()
    except TraceStoreLockedError as exc:
        print(exc)
        sys.exit(3)
    print("opened")
    """
)


def _open_in_another_process(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, path], capture_output=True, text=True, timeout=60)


def test_another_process_gets_a_locked_error_while_a_session_is_open(store: TraceStore) -> None:
    store.write_trace(make_trace("r1"))
    with store.session():
        child = _open_in_another_process(str(store.path))
    assert child.returncode == 3, child.stdout + child.stderr
    assert str(store.path) in child.stdout
    assert "--db" in child.stdout
    assert "Wait for that process" in child.stdout
    # Open-write-close by default: once the session ends, the other process can read.
    assert _open_in_another_process(str(store.path)).stdout.strip() == "opened"
