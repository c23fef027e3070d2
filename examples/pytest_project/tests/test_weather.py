"""The weather assistant's evals, as ordinary tests: one test per case of datasets/weather.yaml."""

import pytest
from agent import UnknownCityError, get_weather


@pytest.mark.agenteval(dataset="weather")
def test_weather_cases(agenteval_run):
    # Runs the case (replayed from cassettes/weather/default/<case>.e1.yaml), stores the trace, scores it with the
    # case's expectations, and fails with the failing scores, the trace and `agenteval replay RUN_ID` if they fail.
    agenteval_run()


@pytest.mark.agenteval(dataset="weather", filter="tag:units")
def test_fahrenheit_is_never_mixed_with_celsius(agenteval_run):
    result = agenteval_run()
    assert "°F" in result.output
    assert result.score("not_contains").passed


@pytest.mark.agenteval(dataset="weather", filter="id:two-cities")
def test_two_cities_are_looked_up_in_one_step(agenteval_run):
    result = agenteval_run()
    steps = [span.name for span in result.trace.spans if span.operation == "execute_tool"]
    assert len(steps) == 2


def test_unknown_city_raises():
    # Plain unit tests live next to the evals: the plugin costs them nothing.
    with pytest.raises(UnknownCityError):
        get_weather("Atlantis")
