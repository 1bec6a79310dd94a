"""The whole platform for the hostile-input and fuzzing tests, one per module, with its own broker namespace;
and a census of what every service stores, to show a refused request left nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from devstack import invariants
from devstack.platform import running_platform

SERVICES = ("intake", "evidence", "routing", "notification")


@pytest.fixture(scope="module")
async def platform(mongo_url, s3_endpoint, broker_namespace, run_id, request):
    module = request.module.__name__.rsplit(".", 1)[-1]
    namespace = broker_namespace.isolated(module.replace("_", "-"))
    for service in SERVICES:
        namespace.settings_for(service)
    async with running_platform(
        mongo_url=mongo_url, s3_endpoint=s3_endpoint, broker=namespace.broker_settings(),
        db_prefix=f"t{run_id}_{module}", bucket=f"sec-{run_id}-{module}".replace("_", "-")[:60],
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def census(platform):
    """``await census()``: the document counts of the module's platform (see :func:`count_documents`)."""
    return lambda: count_documents(platform)


async def count_documents(platform: Any) -> dict[str, int]:
    """The number of documents in every collection of every service, keyed ``service.collection``."""
    return await invariants.census({service: platform.apps[service].state.runtime.db for service in SERVICES})
