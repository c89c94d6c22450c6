"""Shared pytest setup: async tests run on asyncio (anyio's pytest plugin)."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: the workers take tests in this order (`--dist loadgroup`), so the long
    ones run beside the many short ones instead of making a tail after them."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
