"""Where the vendored upstream samples and the committed support datasets are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
UPSTREAM = ROOT / "tests" / "fixtures" / "upstream"
"""Small subsets of shared/data (same layout, names and LICENSE files), so that tests need nothing outside the clone."""
SUPPORT = ROOT / "datasets" / "support"
SCRIPT = ROOT / "scripts" / "build_support_datasets.py"
