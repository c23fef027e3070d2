"""pytest plugin for agenteval: evals as ordinary tests (registered through the ``pytest11`` entry point)."""
