"""The plugin's fixtures. Override ``agenteval_config`` in a conftest.py to change settings for the tests below it
(like pytest-recording's ``vcr_config``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from pytest_agenteval._assertions import fail_unless_passed
from pytest_agenteval._session import STATE

if TYPE_CHECKING:
    from harness.api import AgentUnderTest, EvalItem, EvalResult, EvalSession
    from harness.models.cases import Case
    from harness.models.scores import ScoreRecord

T = TypeVar("T")
RunCase = Callable[..., "EvalResult"]
Judge = Callable[..., "ScoreRecord"]


@pytest.fixture
def agenteval_config() -> dict[str, Any]:
    """Settings for the eval tests in scope, over ``[tool.agenteval]``: ``agent``, ``base_url``, ``scenario``,
    ``record_mode``, ``timeout_s``, ``replay_ignore``, ``prices``, ``variants``, ``default_variants``.
    ``--agenteval-record-mode`` on the command line still wins. Redefine this fixture in a conftest.py."""
    return {}


@pytest.fixture(scope="session")
def agenteval_session(pytestconfig: pytest.Config) -> EvalSession:
    """The eval session: one eval run per pytest session (shared by xdist workers)."""
    return pytestconfig.stash[STATE].session()


@pytest.fixture
def _agenteval_item(request: pytest.FixtureRequest) -> EvalItem:
    """The case × variant a marked test runs (set by the marker's parametrization)."""
    raise pytest.UsageError(
        f"{request.node.nodeid}: agenteval fixtures need @pytest.mark.agenteval(dataset=...) on the test "
        "(it parametrizes the test over the dataset's cases)."
    )


@pytest.fixture
def agenteval_case(_agenteval_item: EvalItem, agenteval_session: EvalSession) -> Case:
    """The case this test runs."""
    return agenteval_session.case(_agenteval_item)


@pytest.fixture
def agenteval_agent(
    _agenteval_item: EvalItem, agenteval_session: EvalSession, agenteval_config: dict[str, Any]
) -> AgentUnderTest:
    """The agent under test: the config's ``agent``, else the dataset's."""
    return _harness_call(lambda: agenteval_session.agent(_agenteval_item, agenteval_config))


@pytest.fixture
def agenteval_run(
    request: pytest.FixtureRequest,
    _agenteval_item: EvalItem,
    agenteval_session: EvalSession,
    agenteval_config: dict[str, Any],
) -> RunCase:
    """A function that runs this test's case (replayed from its cassette by default), stores the run, scores it and
    returns the :class:`~harness.api.EvalResult`. It fails the test with the case, the failing scores, a compact
    trace and the ``agenteval replay`` command unless ``check=False``."""
    marker = request.node.get_closest_marker("agenteval")
    default_scorers = marker.kwargs.get("scorers") if marker is not None else None

    def run(*, check: bool = True, scorers: Sequence[str] | None = None) -> EvalResult:
        chosen = scorers if scorers is not None else default_scorers
        if isinstance(chosen, str):
            chosen = [chosen]
        result = _harness_call(lambda: agenteval_session.run(_agenteval_item, config=agenteval_config, scorers=chosen))
        if check:
            fail_unless_passed(result)
        return result

    return run


@pytest.fixture
def agenteval_judge(agenteval_session: EvalSession, agenteval_config: dict[str, Any]) -> Judge:
    """A function ``judge(result, rubric)`` that judges a stored run with a pointwise rubric (a name under
    ``rubrics/`` or a file) and returns the stored score; judge calls replay from cassettes like model calls."""

    def judge(result: EvalResult, rubric: str) -> ScoreRecord:
        return _harness_call(lambda: agenteval_session.judge(result, rubric, config=agenteval_config))

    return judge


def _harness_call(work: Callable[[], T]) -> T:
    """Run harness code; a configuration mistake is a usage error with the harness's what/why/how message."""
    from harness.errors import HarnessError

    try:
        return work()
    except HarnessError as exc:
        raise pytest.UsageError(f"agenteval: {exc}") from None
