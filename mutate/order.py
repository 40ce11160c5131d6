"""A pytest plugin for `make mutate` (pyproject.toml's [tool.mutmut] loads it with
`-p mutate.order`): a mutant's tests run cheapest first, so that the test which fails it
usually comes before the slow ones (mutmut stops at the first failure).

The cost of each test is what mutmut measured when it mapped the tests to the functions
they reach (mutmut-stats.json, beside the mutated copy). Tests stay grouped by module, the
cheaper modules first, so that a module's fixtures (keys, rendered certificates) are made
once per mutant. The order changes how soon a mutant is caught, never whether it is: a
mutant that survives has passed every one of its tests in any order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    stats = Path("mutmut-stats.json")
    if not stats.exists():  # the first pass, which measures the durations
        return
    seconds = json.loads(stats.read_text()).get("duration_by_test", {})
    by_module: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_module.setdefault(item.nodeid.split("::")[0], []).append(item)

    def cost(item: pytest.Item) -> float:
        return float(seconds.get(item.nodeid, 0.0))

    modules = sorted(by_module.values(), key=lambda group: sum(map(cost, group)) / len(group))
    items[:] = [item for group in modules for item in sorted(group, key=cost)]
