"""Bounded concurrency that backs off when the provider rate-limits, and recovers when it stops."""

from __future__ import annotations

import asyncio


class AdaptiveLimiter:
    """At most ``limit`` holders at once. A rate-limited run halves the limit (down to 1); after ``limit`` clean
    runs in a row it grows by one again, up to the configured maximum (additive increase, multiplicative
    decrease, as TCP does)."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = maximum
        self.active = 0
        self.lowest = maximum
        self._clean = 0
        self._condition = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._condition:
            await self._condition.wait_for(lambda: self.active < self.limit)
            self.active += 1

    async def release(self) -> None:
        async with self._condition:
            self.active -= 1
            self._condition.notify_all()

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
