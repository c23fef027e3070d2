"""The ``agenteval`` command line: the only layer that prints or exits."""

from harness.cli.app import app, main

__all__ = ["app", "main"]
