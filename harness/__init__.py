"""agenteval: an evaluation and replay harness for tool-using LLM agents.

The package is laid out by stage (see ARCHITECTURE.md): ``mockllm`` is the scripted model server that the rest of
the harness is tested against; later stages (agent, traces, replay, datasets, runner, scorers, reporting) build on it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agenteval")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
