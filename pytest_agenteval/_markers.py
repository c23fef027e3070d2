"""``@pytest.mark.agenteval(dataset=..., variant=..., scorers=...)``: a test parametrized over a dataset's cases."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_agenteval._session import STATE

MARKER_HELP = (
    "agenteval(dataset, variant=None, scorers=None, filter=None, limit=None, epochs=None): run the test once per "
    "case of the dataset (test ids are case ids; with several variants CASE@VARIANT, with epochs CASE#eN)."
)
_KEYWORDS = ("dataset", "variant", "scorers", "filter", "limit", "epochs")


def marker_options(marker: pytest.Mark, where: str) -> dict[str, Any]:
    """The marker's arguments, checked (a mistake is a usage error naming the test)."""
    options = dict(marker.kwargs)
    if marker.args:
        if len(marker.args) > 1 or "dataset" in options:
            raise pytest.UsageError(f"{where}: @pytest.mark.agenteval takes one dataset, e.g. dataset='support/x'.")
        options["dataset"] = marker.args[0]
    unknown = sorted(set(options) - set(_KEYWORDS))
    if unknown:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.agenteval got unknown argument(s) {', '.join(unknown)}; "
            f"valid: {', '.join(_KEYWORDS)}."
        )
    if not isinstance(options.get("dataset"), str):
        raise pytest.UsageError(f"{where}: @pytest.mark.agenteval needs dataset='NAME or path' (a string).")
    scorers = options.get("scorers")
    if isinstance(scorers, str):
        options["scorers"] = [scorers]
    return options


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Parametrize a marked test over its dataset's cases (× variants)."""
    marker = metafunc.definition.get_closest_marker("agenteval")
    if marker is None:
        return
    where = metafunc.definition.nodeid
    options = marker_options(marker, where)
    from harness.errors import HarnessError

    session = metafunc.config.stash[STATE].session()
    try:
        items = session.items(
            options["dataset"],
            variants=options.get("variant"),
            filters=options.get("filter"),
            limit=options.get("limit"),
            epochs=options.get("epochs"),
        )
    except HarnessError as exc:
        raise pytest.UsageError(f"{where}: @pytest.mark.agenteval: {exc}") from None
    variants = len({item.variant for item in items}) > 1
    epochs = any(item.epoch > 1 for item in items)
    ids = [
        item.case_id + (f"@{item.variant}" if variants else "") + (f"#e{item.epoch}" if epochs else "")
        for item in items
    ]
    if "_agenteval_item" not in metafunc.fixturenames:
        metafunc.fixturenames.append("_agenteval_item")
    metafunc.parametrize("_agenteval_item", items, ids=ids)
