"""Paired statistics that tell a real change from noise: exact McNemar, paired bootstrap, Wilson intervals.

Pure functions on plain numbers; no scipy. The exact McNemar test is the two-sided binomial test of the discordant
pairs (cases that passed in one run and failed in the other) with p = 1/2; with no discordant pair, p = 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class McNemar:
    """An exact McNemar test of paired pass/fail outcomes."""

    fixed: int
    """Pairs that failed in the baseline and pass now (b)."""
    regressed: int
    """Pairs that passed in the baseline and fail now (c)."""
    p_value: float
    """Two-sided exact p-value."""


def mcnemar_exact(fixed: int, regressed: int) -> McNemar:
    """Two-sided exact McNemar test: P(X ≤ min(b, c)) · 2 under Binomial(b + c, 1/2), capped at 1."""
    n = fixed + regressed
    if n == 0:
        return McNemar(fixed, regressed, 1.0)
    k = min(fixed, regressed)
    # Sum in log space: n can be in the thousands, where 2**-n underflows a float.
    log_half = n * math.log(0.5)
    tail = sum(math.exp(_log_comb(n, i) + log_half) for i in range(k + 1))
    return McNemar(fixed, regressed, min(1.0, 2 * tail))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of zero."""
        return self.low > 0 or self.high < 0


def paired_bootstrap(deltas: Sequence[float], *, resamples: int = 2000, level: float = 0.95, seed: int = 0) -> Interval:
    """Percentile bootstrap interval of the mean of paired differences (resampling cases, seeded with numpy's
    default generator: the same seed gives the same interval)."""
    n = len(deltas)
    if n == 0:
        return Interval(0.0, 0.0, 0.0, level)
    mean = sum(deltas) / n
    if n == 1 or all(d == deltas[0] for d in deltas):
        return Interval(mean, mean, mean, level)
    import numpy as np  # vectorised: 2,000 resamples of 10,000 cases in pure Python took ~1 s per scorer

    rng = np.random.default_rng(seed)
    values = np.asarray(deltas, dtype=float)
    chunk = max(1, min(resamples, 2_000_000 // n))  # bound the index matrix to ~16 MB
    parts = []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        parts.append(values[rng.integers(0, n, size=(size, n))].mean(axis=1))
    means = np.sort(np.concatenate(parts)).tolist()
    alpha = (1 - level) / 2
    low = means[max(0, math.floor(alpha * resamples))]
    high = means[min(resamples - 1, math.ceil((1 - alpha) * resamples) - 1)]
    return Interval(mean, low, high, level)


def wilson(successes: int, total: int, level: float = 0.95) -> Interval:
    """Wilson score interval of a proportion."""
    if total == 0:
        return Interval(0.0, 0.0, 1.0, level)
    z = _z(level)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), level)


def _z(level: float) -> float:
    """The two-sided normal quantile for ``level`` (inverse error function by bisection: no scipy)."""
    target = level
    low, high = 0.0, 10.0
    for _ in range(100):
        mid = (low + high) / 2
        if math.erf(mid / math.sqrt(2)) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def sign_flip_p_value(deltas: Sequence[float], *, resamples: int = 4000, seed: int = 0) -> float:
    """Two-sided paired permutation test of the mean difference (random sign flips; exact enough when seeded).

    For cases run over several epochs, ``deltas`` are per-case differences of pass rates: the test then uses every
    epoch while keeping cases as the unit that is resampled.

    With at most ``log2(resamples)`` non-zero differences every sign pattern is enumerated and the p-value is exact;
    otherwise ``resamples`` random patterns are drawn and the p-value is ``(extreme + 1) / (resamples + 1)``, which
    never understates it. The flips are drawn with NumPy (``default_rng(seed)``), vectorised: a report's test over
    200 cases takes milliseconds instead of the fifth of a second a Python loop took. For a given seed the p-values
    therefore differ from the loop's (``random.Random``) in the last digits, not in what they decide.
    """
    values = [d for d in deltas if d != 0]
    if not values:
        return 1.0
    import numpy as np  # lazily: NumPy comes with pandas, and most commands never run a test

    v = np.asarray(values, dtype=np.float64)
    observed = abs(math.fsum(values))
    # Permuted sums are added in another order than ``observed``: compare with a tolerance, not bit for bit.
    slack = 1e-9 * max(1.0, math.fsum(abs(x) for x in values))
    n = len(values)
    if 1 << n <= resamples:
        patterns = (np.arange(1 << n)[:, None] >> np.arange(n)) & 1
        totals = v.sum() - 2.0 * (patterns @ v)
        return float(np.count_nonzero(np.abs(totals) >= observed - slack)) / (1 << n)
    rng = np.random.default_rng(seed)
    extreme = 0
    rows = max(1, min(resamples, _FLIPS_PER_BLOCK // n))  # bounds the memory of the sign matrix
    for start in range(0, resamples, rows):
        flips = rng.integers(0, 2, size=(min(rows, resamples - start), n), dtype=np.int8)
        totals = v.sum() - 2.0 * (flips @ v)
        extreme += int(np.count_nonzero(np.abs(totals) >= observed - slack))
    return (extreme + 1) / (resamples + 1)


_FLIPS_PER_BLOCK = 2_000_000
