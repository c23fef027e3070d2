"""The paired statistics against values computed by hand."""

from __future__ import annotations

import math
import random

import pytest

from harness.reporting import mcnemar_exact, paired_bootstrap, sign_flip_p_value, wilson
from harness.reporting.stats import _z


def test_mcnemar_exact_by_hand() -> None:
    # b = 1, c = 9: 2 · P(X ≤ 1 | n = 10, p = 1/2) = 2 · (1 + 10) / 1024.
    assert mcnemar_exact(1, 9).p_value == pytest.approx(22 / 1024, rel=1e-12)
    assert mcnemar_exact(9, 1).p_value == pytest.approx(22 / 1024, rel=1e-12)
    assert mcnemar_exact(5, 5).p_value == 1.0
    assert mcnemar_exact(0, 0).p_value == 1.0
    # b = 0, c = 6: 2 / 64.
    assert mcnemar_exact(0, 6).p_value == pytest.approx(2 / 64, rel=1e-12)


def test_mcnemar_handles_thousands_of_pairs() -> None:
    result = mcnemar_exact(1000, 1200)
    assert 0 < result.p_value < 1e-4
    assert mcnemar_exact(1100, 1100).p_value == 1.0


def test_wilson_interval_by_hand() -> None:
    interval = wilson(8, 10)
    assert interval.estimate == 0.8
    assert interval.low == pytest.approx(0.4902, abs=1e-4)
    assert interval.high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0).high == 1.0
    assert _z(0.95) == pytest.approx(1.959964, abs=1e-6)


def test_paired_bootstrap_covers_the_mean_and_is_seeded() -> None:
    rng = random.Random(1)
    deltas = [rng.gauss(0.3, 1.0) for _ in range(200)]
    interval = paired_bootstrap(deltas, seed=3)
    mean = sum(deltas) / len(deltas)
    assert interval.low < mean < interval.high
    # about mean ± 1.96 · sd / sqrt(n)
    sd = math.sqrt(sum((d - mean) ** 2 for d in deltas) / (len(deltas) - 1))
    assert interval.high - interval.low == pytest.approx(2 * 1.96 * sd / math.sqrt(200), rel=0.2)
    assert paired_bootstrap(deltas, seed=3) == interval
    assert paired_bootstrap([0.0] * 10).excludes_zero() is False
    assert paired_bootstrap([1.0] * 10).excludes_zero() is True


def test_sign_flip_test_finds_a_shift_and_not_noise() -> None:
    rng = random.Random(2)
    noise = [rng.choice([-1.0, 1.0, 0.0]) for _ in range(100)]
    shifted = [d - 0.5 for d in noise]
    assert sign_flip_p_value(noise) > 0.05
    assert sign_flip_p_value(shifted) < 0.01
    assert sign_flip_p_value([0.0, 0.0]) == 1.0
    assert sign_flip_p_value(shifted, seed=5) == sign_flip_p_value(shifted, seed=5)


def test_sign_flip_test_is_exact_for_few_differences() -> None:
    # Eight differences: all 256 sign patterns; |sum| ≥ 6 needs at most one sign against the rest: 2 · 9 / 256.
    assert sign_flip_p_value([1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) == pytest.approx(18 / 256, rel=1e-12)
    assert sign_flip_p_value([0.5, 0.0, 0.5]) == 0.5  # zeros carry no sign; 2 of 4 patterns are as extreme
    assert sign_flip_p_value([1 / 3] * 3 + [-1 / 3]) == 10 / 16  # sums of thirds compared with a tolerance


def test_sign_flip_test_rejects_a_shift_and_holds_its_level_on_noise() -> None:
    rng = random.Random(7)
    shifted = [rng.choice([-2 / 3, -1 / 3, 0.0, 1 / 3, 2 / 3]) - 0.2 for _ in range(200)]
    assert sign_flip_p_value(shifted) < 0.01
    rejections = 0
    for sample in range(200):
        noise = [rng.choice([-2 / 3, -1 / 3, 0.0, 0.0, 1 / 3, 2 / 3]) for _ in range(200)]
        rejections += sign_flip_p_value(noise, seed=sample) < 0.05
    assert 0.01 <= rejections / 200 <= 0.10
