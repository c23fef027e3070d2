"""Settings for the evals in this folder, over [tool.agenteval] (like pytest-recording's ``vcr_config``)."""

import pytest


@pytest.fixture
def agenteval_config():
    # A weather lookup should never take long; a stuck case fails as a timeout instead of holding CI.
    return {"timeout_s": 30}
