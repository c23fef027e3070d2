"""Reporting: stored runs and scores in, reports out (terminal, Markdown, JUnit, JSON, HTML), with the statistics
that separate a real regression from noise."""

from harness.reporting.stats import Interval, McNemar, mcnemar_exact, paired_bootstrap, sign_flip_p_value, wilson

__all__ = ["Interval", "McNemar", "mcnemar_exact", "paired_bootstrap", "sign_flip_p_value", "wilson"]
