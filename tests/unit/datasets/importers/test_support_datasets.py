"""The committed support datasets: they load, cover what they claim, agree with the scripted model, and the
adversarial one is exactly what ``scripts/build_support_datasets.py`` generates."""

from __future__ import annotations

import importlib.util
import types
from collections import Counter
from pathlib import Path

import pytest
import yaml

from harness.agent.support import SUPPORT_TOOLS
from harness.datasets import check_tools, load_dataset
from harness.models.cases import Dataset
from tests.unit.datasets.importers._paths import ROOT, SCRIPT, SUPPORT, UPSTREAM
from tests.unit.datasets.importers._support_runs import Verdict, judge, run_case

CATEGORIES = [
    "injection/direct",
    "injection/indirect",
    "sysprompt-extraction",
    "pii-exfiltration",
    "unauthorized-tool",
    "oversize",
]


def _load(name: str) -> Dataset:
    path = SUPPORT / f"{name}.yaml"
    raw = Dataset.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    loaded = load_dataset(path, root=ROOT / "datasets")
    assert loaded.dataset == raw
    assert check_tools(loaded, {t.name for t in SUPPORT_TOOLS}) == []
    return raw


@pytest.fixture(scope="module")
def representative() -> Dataset:
    return _load("representative")


@pytest.fixture(scope="module")
def adversarial() -> Dataset:
    return _load("adversarial")


def _script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("build_support_datasets", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- representative ------------------------------------------------------------------------------------------------


def test_representative_covers_tools_statuses_and_policy_branches(representative: Dataset) -> None:
    cases = representative.cases
    assert len(cases) >= 40
    assert representative.name == "support/representative"
    assert representative.agent == "support"
    assert all("representative" in c.tags for c in cases)
    called = {call.name for c in cases for call in c.expected.tool_calls}
    assert called >= {"lookup_order", "search_kb", "issue_refund", "escalate_to_human"}
    # send_email is covered the way a support desk should cover it: never to anyone but the customer.
    assert any(f.name == "send_email" for c in cases for f in c.expected.forbidden_calls)
    tags = Counter(t for c in cases for t in c.tags)
    for status in ("processing", "shipped", "delivered", "cancelled", "refunded"):
        assert tags[f"order-status/{status}"] >= 2, status
    for branch in (
        "eligible",
        "approval-limit",
        "outside-window",
        "not-delivered",
        "cancelled",
        "already-refunded",
        "partly-refunded",
        "amount-too-high",
    ):
        assert tags[f"policy/{branch}"] >= 1, branch
    for tag in ("kb", "escalation/legal", "escalation/human", "escalation/security", "needs-info", "greeting"):
        assert tags[tag] >= 1, tag
    backend = next(c for c in cases if c.id == "escalation/backend-down/a1099")
    assert backend.expected.status == ["escalated"]


def test_representative_agrees_with_the_scripted_model(representative: Dataset) -> None:
    for case in representative.cases:
        assert judge(case, run_case(case, "v2")) == Verdict([], []), case.id
    # v1 fails exactly what it is built to fail: the retry loop and the planted help-center injection.
    v1 = {case.id: judge(case, run_case(case, "v1")) for case in representative.cases}
    assert {i for i, v in v1.items() if v.failures} == {"escalation/backend-down/a1099"}
    assert {i for i, v in v1.items() if v.compromises} == {"kb/refund-timeline"}


# -- adversarial ---------------------------------------------------------------------------------------------------


def test_adversarial_size_tags_licenses_and_provenance(adversarial: Dataset) -> None:
    cases = adversarial.cases
    assert len(cases) >= 60
    assert adversarial.name == "support/adversarial"
    assert adversarial.agent == "support"
    assert "AgentDojo" in (adversarial.source or "")
    assert "garak" in (adversarial.source or "")
    assert "MIT" in (adversarial.license or "")
    assert "Apache-2.0" in (adversarial.license or "")
    assert all("adversarial" in c.tags for c in cases)
    tags = Counter(t for c in cases for t in c.tags)
    assert all(tags[category] >= 3 for category in CATEGORIES), tags
    for case in cases:
        assert case.metadata.get("source"), case.id
        if case.metadata["source"] in ("agentdojo", "garak"):
            assert case.metadata.get("upstream"), case.id
    for upstream in ("agentdojo", "garak"):
        assert (SUPPORT / "LICENSES" / f"{upstream}-LICENSE").is_file()
    oversize = [len(str(c.input).encode()) for c in cases if "oversize" in c.tags]
    assert all(20_000 <= size <= 50_000 for size in oversize), oversize
    assert (SUPPORT / "adversarial.yaml").read_text(encoding="utf-8").startswith("# GENERATED by")


def test_v2_resists_every_attack_and_v1_falls_for_most_injections(adversarial: Dataset) -> None:
    compromised: Counter[tuple[str, str]] = Counter()
    totals: Counter[str] = Counter()
    for case in adversarial.cases:
        category = next(c for c in CATEGORIES if c in case.tags)
        totals[category] += 1
        hardened = judge(case, run_case(case, "v2"))
        assert hardened.compromises == [], case.id
        assert hardened.failures == [], case.id
        if judge(case, run_case(case, "v1")).compromises:
            compromised[(category, "v1")] += 1
    for category in ("injection/direct", "injection/indirect"):
        assert compromised[(category, "v1")] > totals[category] / 2, category
    assert compromised[("sysprompt-extraction", "v1")] > 0
    assert compromised[("pii-exfiltration", "v1")] > 0


# -- the generator -------------------------------------------------------------------------------------------------


def test_the_script_is_deterministic_on_the_vendored_samples(tmp_path: Path) -> None:
    script = _script()
    outputs = []
    for run in ("first", "second"):
        assert script.main(["--shared", str(UPSTREAM), "--out", str(tmp_path / run)]) == 0
        outputs.append((tmp_path / run / "adversarial.yaml").read_bytes())
    assert outputs[0] == outputs[1]
    dataset = Dataset.model_validate(yaml.safe_load(outputs[0]))
    tags = Counter(t for c in dataset.cases for t in c.tags)
    assert all(tags[category] > 0 for category in CATEGORIES), tags
    for upstream in ("agentdojo", "garak"):
        copied = tmp_path / "first" / "LICENSES" / f"{upstream}-LICENSE"
        assert copied.read_bytes() == (UPSTREAM / upstream / "LICENSE").read_bytes()


def test_the_committed_file_has_the_shape_the_script_writes(adversarial: Dataset, tmp_path: Path) -> None:
    # CI has no shared/data, so the committed file cannot be rebuilt here; the samples exercise the same code, and
    # the committed file's upstream-derived cases must be the script's kind of case (same ids, same categories).
    script = _script()
    script.main(["--shared", str(UPSTREAM), "--out", str(tmp_path)])
    sample = Dataset.model_validate(yaml.safe_load((tmp_path / "adversarial.yaml").read_text(encoding="utf-8")))
    committed = {c.id for c in adversarial.cases}
    assert {c.id for c in sample.cases} <= committed
    assert (sample.name, sample.source, sample.license) == (adversarial.name, adversarial.source, adversarial.license)


def test_the_script_refuses_a_folder_without_upstream_data(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _script().main(["--shared", str(tmp_path), "--out", str(tmp_path / "out")])
