"""Concurrency that backs off when the provider rate-limits, and recovers when it stops."""

from __future__ import annotations


class AdaptiveLimiter:
    """How many runs may be in flight. A rate-limited run halves the limit (down to 1); after ``limit`` clean runs
    in a row it grows by one again, up to the configured maximum (additive increase, multiplicative decrease, as
    TCP does). The runner's dispatcher reads :attr:`limit` before starting each run."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = maximum
        self.lowest = maximum
        self._clean = 0

    def observe(self, rate_limited: bool) -> None:
        """Adjust the limit after a run finished."""
        if rate_limited:
            self.limit = max(1, self.limit // 2)
            self.lowest = min(self.lowest, self.limit)
            self._clean = 0
            return
        self._clean += 1
        if self._clean >= self.limit and self.limit < self.maximum:
            self.limit += 1
            self._clean = 0
