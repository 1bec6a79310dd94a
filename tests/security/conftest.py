"""A census of what every service stores, to show a refused request left nothing behind (the platform of each
module comes from tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from devstack import invariants

SERVICES = ("intake", "evidence", "routing", "notification")


@pytest.fixture(scope="module")
def census(platform):
    """``await census()``: the document counts of the module's platform (see :func:`count_documents`)."""
    return lambda: count_documents(platform)


async def count_documents(platform: Any) -> dict[str, int]:
    """The number of documents in every collection of every service, keyed ``service.collection``."""
    return await invariants.census({service: platform.apps[service].state.runtime.db for service in SERVICES})
