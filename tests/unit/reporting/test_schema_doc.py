"""docs/reports.md carries the JSON schemas of the report and the baseline exactly as the models define them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.models.reports import Baseline, Report

DOC = Path(__file__).resolve().parents[3] / "docs" / "reports.md"


def test_documented_schemas_match_the_models() -> None:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2
    assert json.loads(blocks[0]) == Report.model_json_schema(), "regenerate docs/reports.md from the models"
    assert json.loads(blocks[1]) == Baseline.model_json_schema()
