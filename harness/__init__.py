"""agenteval: an evaluation and replay harness for tool-using LLM agents.

The package is laid out by stage (see ARCHITECTURE.md): ``mockllm`` is the scripted model server that the rest of
the harness is tested against; later stages (agent, traces, replay, datasets, runner, scorers, reporting) build on it.
"""

__version__ = "0.1.0"
"""The package version; pyproject.toml reads it from here (``[tool.hatch.version]``)."""

__all__ = ["__version__"]
