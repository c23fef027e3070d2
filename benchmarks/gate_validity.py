r"""Statistical validity of the report gate, measured: its false-alarm rate and its power over simulated PRs.

Each simulated PR is a baseline eval and a candidate eval of the same suite (200 cases × 3 epochs by default), and
``harness.reporting.build.compare`` decides, as ``agenteval report --fail-on regression`` does, whether the gate fails.

Where the noise comes from: the scripted model server's engine (``harness.mockllm._engine.MockEngine``), called in
process through ``MockEngine.handle`` with the same chat-completion request an agent sends (model, messages,
temperature 1, ``seed``), only without a socket. Every case has a scenario rule with two weighted ``alternatives``:
the correct answer (weight p) and a wrong one (weight 1 - p). The engine picks one with a ``random.Random`` seeded
from the hash of the request body, so the request's seed decides the draw; at temperature 1 the weights are the odds.
An epoch passes when the answer contains the expected string, as the ``contains`` scorer decides (case-insensitive).

* Cases differ in difficulty: p = 0.3 + 0.65 · Beta(2.46, 1.54), drawn once (mean ≈ 0.70, range 0.3-0.95).
* Every eval re-runs the model: the seed hashes (PR, side, case, epoch), so baseline and candidate draw fresh noise.
* No-change PRs: the candidate answers from the same scenario. Drop PRs: from a scenario whose correct-answer weight
  is p - 0.10 for every case (p ≥ 0.3, so nothing is clipped: the expected pass rate drops by exactly 10 points).
* False-alarm rate: share of no-change PRs whose gate fails; power: share of drop PRs whose gate fails; each with a
  95 % Wilson interval. The multi-epoch gate uses the sign-flip test of per-case pass-rate differences; the same PRs'
  first epochs alone (200 × 1) go through the exact McNemar path, for comparison.

Run it from the project root (about two minutes on two cores with the defaults):

    .venv/bin/python benchmarks/gate_validity.py [--prs 500] [--cases 200] [--epochs 3] [--drop 0.10] \
        [--alpha 0.05] [--workers 2] [--json benchmarks/results/gate_validity.json]

A benchmark, not a test: it exits 0 whether or not the targets are met (≤ alpha false alarms, ≥ 80 % power).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from harness.mockllm._engine import HttpRequest, MockEngine
from harness.mockllm.scenario import Alternative, Rule, Scenario, TextMatch, When
from harness.models.evals import EvalRunRecord
from harness.models.reports import CaseResult
from harness.reporting.build import compare
from harness.reporting.stats import wilson

TARGET_POWER = 0.80
MODEL = "mock-gpt"
EVAL = EvalRunRecord(eval_run_id="ev-gate-validity", started_ns=0, agent="gate-validity", datasets=[], variants=[])

Kind = Literal["no_change", "drop"]


class Result(BaseModel):
    """Base class of the benchmark's records (frozen, strict, like the harness's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PrOutcome(Result):
    """One simulated PR, judged by both paths."""

    kind: Kind
    """``no_change`` or ``drop``."""
    pr: int
    """Index among the PRs of its kind."""
    baseline_pass_rate: float
    """Mean per-case pass rate of the baseline eval (all epochs)."""
    candidate_pass_rate: float
    """Mean per-case pass rate of the candidate eval (all epochs)."""
    failed: bool
    """Whether the gate failed with every epoch (sign-flip test)."""
    p_value: float
    """The sign-flip p-value."""
    single_failed: bool
    """Whether the gate failed on the first epoch alone (exact McNemar)."""
    single_p_value: float
    """The McNemar p-value."""


class Rate(Result):
    """A share of PRs whose gate failed, with its 95 % Wilson interval."""

    failed: int
    """PRs whose gate failed."""
    prs: int
    """PRs simulated."""
    rate: float
    """``failed / prs``."""
    low: float
    """Lower end of the 95 % Wilson interval."""
    high: float
    """Upper end of the 95 % Wilson interval."""
    target: str
    """The target, e.g. ``<= 0.05``."""
    met: bool
    """Whether the point estimate meets the target."""


class PathResult(Result):
    """The gate's validity on one statistical path."""

    test: str
    """``sign-flip`` (epochs) or ``mcnemar`` (one epoch)."""
    cases: int
    """Cases per eval."""
    epochs: int
    """Epochs per case."""
    false_alarm: Rate
    """Share of no-change PRs that failed the gate."""
    power: Rate
    """Share of drop PRs that failed the gate."""


class Report(Result):
    """What ``--json`` writes."""

    prs: int
    """PRs of each kind."""
    cases: int
    """Cases per eval."""
    epochs: int
    """Epochs per case."""
    alpha: float
    """Significance level of the gate."""
    stated_drop: float
    """Drop in expected pass rate applied to the drop PRs' candidates."""
    mean_case_probability: float
    """Mean per-case probability of a correct answer (the suite's expected pass rate)."""
    realised_expected_drop: float
    """Mean of (p - p') over cases: the drop in expected pass rate after clipping."""
    observed_mean_drop: float
    """Mean over drop PRs of (baseline - candidate) pass rate, as the evals measured it."""
    observed_mean_change_no_change: float
    """Mean over no-change PRs of (baseline - candidate) pass rate (should be ≈ 0)."""
    multi_epoch: PathResult
    """The gate as configured: every epoch, sign-flip test."""
    single_epoch: PathResult
    """The same PRs' first epochs only: exact McNemar test."""
    requests: int
    """Chat requests answered by the scripted engine."""
    seconds: float
    """Wall-clock time of the simulation."""
    workers: int
    """Processes used."""


# -- the scripted model ------------------------------------------------------------------------------------------


def case_probabilities(cases: int, seed: int) -> list[float]:
    """Per-case probability of the correct answer: 0.3 + 0.65 · Beta(2.46, 1.54), mean ≈ 0.70."""
    rng = random.Random(seed)
    return [0.3 + 0.65 * rng.betavariate(2.46, 1.54) for _ in range(cases)]


def case_id(index: int) -> str:
    return f"case-{index:04d}"


def question(index: int) -> tuple[str, str, str]:
    """The case's prompt, its correct and its wrong answer (never a substring of the correct one)."""
    a, b = 17 + index * 7 % 83, 5 + index * 13 % 41
    return f"[{case_id(index)}] What is {a} + {b}? Answer with the number.", str(a + b), str(a + b + 1)


def case_scenario(index: int, probability: float, version: str) -> Scenario:
    """One case's rule: the correct answer with weight p, a wrong one with weight 1 - p."""
    _, correct, wrong = question(index)
    weight = min(max(probability, 0.001), 0.999)  # weights must be > 0
    rule = Rule(
        name=f"{case_id(index)} ({version})",
        when=When(last_user=TextMatch(contains=[f"[{case_id(index)}]"])),
        alternatives=[
            Alternative(weight=weight, text=f"The answer is {correct}."),
            Alternative(weight=1 - weight, text=f"I believe it is {wrong}."),
        ],
    )
    return Scenario(name=f"gate-validity-{version}", rules=[rule], fallback=None)


class ScriptedSuite:
    """The suite's cases answered by the scripted engine, for one version of the agent (baseline or dropped)."""

    def __init__(self, probabilities: Sequence[float], version: str) -> None:
        # One engine per case: the choice is the same as with one scenario of many rules, and matching stays O(1).
        self.engines = [MockEngine(case_scenario(i, p, version)) for i, p in enumerate(probabilities)]
        self.bodies: list[tuple[bytes, bytes]] = []
        self.expected: list[str] = []
        for index in range(len(probabilities)):
            prompt, correct, _ = question(index)
            request = {
                "model": MODEL,
                "messages": [
                    {"role": "system", "content": "You are a careful assistant."},
                    {"role": "user", "content": prompt},
                ],
                "temperature": 1.0,
                "seed": 0,
            }
            # The request with its seed spliced in as JSON: identical to encoding the dict anew for every seed.
            head, tail = orjson.dumps(request).split(b'"seed":0')
            self.bodies.append((head + b'"seed":', tail))
            self.expected.append(correct.casefold())
        self.requests = 0

    def passes(self, index: int, seed: int) -> bool:
        """Ask the case's question with ``seed``; whether the answer contains the expected string."""
        head, tail = self.bodies[index]
        planned = self.engines[index].handle(
            HttpRequest(
                "POST", "/v1/chat/completions", {"content-type": "application/json"}, head + b"%d" % seed + tail
            )
        )
        self.requests += 1
        if planned.status != 200:
            raise RuntimeError(f"the scripted engine answered {planned.status}: {planned.body[:200]!r}")
        content = orjson.loads(planned.body)["choices"][0]["message"]["content"] or ""
        return self.expected[index] in content.casefold()

    def run(self, kind: Kind, pr: int, side: str, epochs: int) -> list[list[bool]]:
        """One eval: per case, per epoch, whether it passed. Seeds are fresh for every (PR, side, case, epoch)."""
        return [
            [self.passes(i, seed_of(kind, pr, side, i, e)) for e in range(epochs)] for i in range(len(self.engines))
        ]


def seed_of(kind: Kind, pr: int, side: str, case: int, epoch: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{kind}:{pr}:{side}:{case}:{epoch}".encode(), digest_size=6).digest())


# -- one PR ------------------------------------------------------------------------------------------------------


def case_results(outcomes: list[list[bool]], variant: str) -> list[CaseResult]:
    results = []
    for index, epochs in enumerate(outcomes):
        passed = sum(epochs)
        results.append(
            CaseResult(
                dataset="gate-validity",
                case_id=case_id(index),
                variant=variant,
                runs=len(epochs),
                passed_runs=passed,
                pass_rate=passed / len(epochs),
            )
        )
    return results


def judge(baseline: list[list[bool]], candidate: list[list[bool]], alpha: float) -> tuple[bool, float, str]:
    """(gate failed, p-value, test) of ``agenteval report`` for these two evals."""
    report = compare(
        EVAL, case_results(candidate, "candidate"), case_results(baseline, "baseline"), ops=[], alpha=alpha
    )
    variant = report.variants[0]
    return not report.gate.passed, variant.p_value if variant.p_value is not None else 1.0, variant.test


_SUITES: dict[str, ScriptedSuite] = {}


def _init_worker(probabilities: list[float], dropped: list[float]) -> None:
    _SUITES["base"] = ScriptedSuite(probabilities, "base")
    _SUITES["drop"] = ScriptedSuite(dropped, "drop")


def simulate(kind: Kind, pr: int, epochs: int, alpha: float) -> tuple[PrOutcome, int]:
    """One PR: a baseline eval and a candidate eval, judged by both paths; and the requests it took."""
    before = _SUITES["base"].requests + _SUITES["drop"].requests
    baseline = _SUITES["base"].run(kind, pr, "baseline", epochs)
    candidate = _SUITES["base" if kind == "no_change" else "drop"].run(kind, pr, "candidate", epochs)
    failed, p_value, test = judge(baseline, candidate, alpha)
    single_failed, single_p, single_test = judge([e[:1] for e in baseline], [e[:1] for e in candidate], alpha)
    if epochs > 1 and (test, single_test) != ("sign-flip", "mcnemar"):
        raise RuntimeError(f"expected sign-flip and mcnemar paths, got {test} and {single_test}")
    outcome = PrOutcome(
        kind=kind,
        pr=pr,
        baseline_pass_rate=sum(map(sum, baseline)) / (len(baseline) * epochs),
        candidate_pass_rate=sum(map(sum, candidate)) / (len(candidate) * epochs),
        failed=failed,
        p_value=p_value,
        single_failed=single_failed,
        single_p_value=single_p,
    )
    return outcome, _SUITES["base"].requests + _SUITES["drop"].requests - before


def _simulate_star(job: tuple[Kind, int, int, float]) -> tuple[PrOutcome, int]:
    return simulate(*job)


# -- summary -----------------------------------------------------------------------------------------------------


def rate(failed: int, prs: int, target: str) -> Rate:
    interval = wilson(failed, prs)
    bound = float(target.split()[-1])
    met = interval.estimate <= bound if target.startswith("<=") else interval.estimate >= bound
    return Rate(
        failed=failed, prs=prs, rate=interval.estimate, low=interval.low, high=interval.high, target=target, met=met
    )


def path(outcomes: list[PrOutcome], *, single: bool, cases: int, epochs: int, alpha: float) -> PathResult:
    def fails(o: PrOutcome) -> bool:
        return o.single_failed if single else o.failed

    nulls = [o for o in outcomes if o.kind == "no_change"]
    drops = [o for o in outcomes if o.kind == "drop"]
    return PathResult(
        test="mcnemar" if single else "sign-flip",
        cases=cases,
        epochs=1 if single else epochs,
        false_alarm=rate(sum(map(fails, nulls)), len(nulls), f"<= {alpha:g}"),
        power=rate(sum(map(fails, drops)), len(drops), f">= {TARGET_POWER:g}"),
    )


def render(report: Report) -> str:
    lines = [
        f"gate validity: {report.prs} no-change + {report.prs} drop PRs, {report.cases} cases, alpha {report.alpha:g}",
        f"  suite: mean case pass probability {report.mean_case_probability:.3f}; stated drop "
        f"{report.stated_drop:.3f}, realised expected drop {report.realised_expected_drop:.3f}, observed mean drop "
        f"{report.observed_mean_drop:.3f} (no-change PRs: {report.observed_mean_change_no_change:+.4f})",
    ]
    for result in (report.multi_epoch, report.single_epoch):
        lines.append(f"  {result.cases} x {result.epochs} ({result.test}):")
        for name, r in (("false alarms", result.false_alarm), ("power", result.power)):
            verdict = "met" if r.met else "NOT met"
            lines.append(
                f"    {name:<12} {r.rate:6.1%} [{r.low:.1%}, {r.high:.1%}]  ({r.failed}/{r.prs}; target "
                f"{r.target}: {verdict})"
            )
    lines.append(f"  {report.requests} scripted requests in {report.seconds:.1f} s on {report.workers} worker(s)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--prs", type=int, default=500, help="PRs of each kind (default 500)")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--drop", type=float, default=0.10, help="drop in expected pass rate of the drop PRs")
    parser.add_argument("--alpha", type=float, default=0.05, help="the gate's alpha ([tool.agenteval.gate])")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-case difficulties")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = parser.parse_args(argv)

    probabilities = case_probabilities(args.cases, args.seed)
    dropped = [max(p - args.drop, 0.0) for p in probabilities]
    jobs: list[tuple[Kind, int, int, float]] = [
        (kind, pr, args.epochs, args.alpha) for pr in range(args.prs) for kind in ("no_change", "drop")
    ]
    started = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, initializer=_init_worker, initargs=(probabilities, dropped)) as pool:
            done = list(pool.map(_simulate_star, jobs, chunksize=max(1, len(jobs) // (args.workers * 8))))
    else:
        _init_worker(probabilities, dropped)
        done = [_simulate_star(job) for job in jobs]
    seconds = time.perf_counter() - started
    outcomes = [o for o, _ in done]

    def mean_change(kind: Kind) -> float:
        chosen = [o for o in outcomes if o.kind == kind]
        return sum(o.baseline_pass_rate - o.candidate_pass_rate for o in chosen) / len(chosen)

    report = Report(
        prs=args.prs,
        cases=args.cases,
        epochs=args.epochs,
        alpha=args.alpha,
        stated_drop=args.drop,
        mean_case_probability=sum(probabilities) / len(probabilities),
        realised_expected_drop=sum(p - q for p, q in zip(probabilities, dropped, strict=True)) / len(probabilities),
        observed_mean_drop=mean_change("drop"),
        observed_mean_change_no_change=mean_change("no_change"),
        multi_epoch=path(outcomes, single=False, cases=args.cases, epochs=args.epochs, alpha=args.alpha),
        single_epoch=path(outcomes, single=True, cases=args.cases, epochs=args.epochs, alpha=args.alpha),
        requests=sum(n for _, n in done),
        seconds=round(seconds, 2),
        workers=args.workers,
    )
    print(render(report))
    if args.json:
        with open(args.json, "wb") as handle:
            handle.write(orjson.dumps(report.model_dump(), option=orjson.OPT_INDENT_2) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
