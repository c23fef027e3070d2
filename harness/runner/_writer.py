"""A background thread that owns the trace store for the duration of an eval run and writes in batches.

DuckDB allows one writing process per file, and every write statement has a fixed cost of some milliseconds, so
the runner never writes from its event loop: it queues ``started`` rows and finished traces, and this thread
flushes them every ``interval`` seconds, ``started`` rows first so that a run's row exists before its trace replaces
it. One second: fewer, larger writes contend less with the event loop for the GIL, and a crash loses at most that
much work, which ``--resume`` runs again.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from harness.models.scores import ScoreRecord
from harness.models.traces import RunRecord, RunTrace
from harness.traces import TraceStore

_STOP = object()


@dataclass
class TraceWriter:
    store: TraceStore
    interval: float = 1.0
    max_batch: int = 1024
    written: int = 0
    error: BaseException | None = None
    _queue: queue.Queue[object] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None

    def start(self) -> TraceWriter:
        self._thread = threading.Thread(target=self._run, name="agenteval-writer", daemon=True)
        self._thread.start()
        return self

    def begin(self, run: RunRecord) -> None:
        self._queue.put(run)

    def finish(self, trace: RunTrace) -> None:
        self._queue.put(trace)

    def write_scores(self, rows: list[ScoreRecord]) -> None:
        """Queue score rows; they are written after the traces of the same flush (the pytest plugin scores each run
        as it finishes)."""
        if rows:
            self._queue.put(rows)

    def close(self) -> None:
        """Flush everything queued, stop the thread, and raise what it failed with, if anything."""
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            with self.store.session():
                stopping = False
                while not stopping:
                    begins: list[RunRecord] = []
                    traces: list[RunTrace] = []
                    scores: list[ScoreRecord] = []
                    item = self._queue.get()
                    # Gather for one interval from the first item: a flush costs tens of milliseconds of DuckDB
                    # work whatever its size, so flushing whatever is queued at once would flush all the time.
                    deadline = time.monotonic() + self.interval
                    while True:
                        if item is _STOP:
                            stopping = True
                        elif isinstance(item, RunTrace):
                            traces.append(item)
                        elif isinstance(item, RunRecord):
                            begins.append(item)
                        elif isinstance(item, list):
                            scores += item
                        if stopping or len(traces) + len(begins) >= self.max_batch:
                            break
                        try:
                            item = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
                        except queue.Empty:
                            break
                    # Most runs start and finish within one flush: their 'started' row would be replaced at once.
                    finishing = {trace.run.run_id for trace in traces}
                    begins = [run for run in begins if run.run_id not in finishing]
                    if begins:
                        self.store.begin_runs(begins)
                    if traces:
                        self.store.write_traces(traces)
                        self.written += len(traces)
                    if scores:
                        self.store.write_scores(scores)
        except BaseException as exc:  # surfaced by close(); the runner stops launching work
            self.error = exc
