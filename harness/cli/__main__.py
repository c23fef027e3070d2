"""``python -m harness.cli`` runs the ``agenteval`` command line."""

from harness.cli import main

main()
