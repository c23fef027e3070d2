"""Pytester restores ``sys.modules`` after each test: a module first imported inside a test is imported again in
the next one (numpy refuses, and pydantic models of two imports do not match). The tests here that read a session's
store through ``harness.api`` import what it needs once, up front."""

from __future__ import annotations

import duckdb  # noqa: F401
import pandas  # noqa: F401

import harness.api._report
import harness.api._session
import harness.reporting.build  # noqa: F401
