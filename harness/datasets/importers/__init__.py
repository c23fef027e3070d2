"""Importers: upstream benchmark files (AgentDojo, BFCL, garak) -> agenteval datasets, and the YAML writer.

Each importer reads an upstream folder laid out as in ``shared/data/<name>`` and returns validated
:class:`~harness.models.cases.Dataset` records; :func:`write_dataset` writes them as readable YAML. Their module
docstrings say what each upstream field becomes and what is not mapped. :func:`address_regex` is the forbidden-call
pattern for an e-mail address that also matches it after trace redaction (``[EMAIL]@domain``).
"""

from harness.datasets.importers._files import address_regex
from harness.datasets.importers._write import dump_dataset, write_dataset
from harness.datasets.importers.agentdojo import import_agentdojo
from harness.datasets.importers.bfcl import import_bfcl
from harness.datasets.importers.garak import import_garak

__all__ = ["address_regex", "dump_dataset", "import_agentdojo", "import_bfcl", "import_garak", "write_dataset"]
