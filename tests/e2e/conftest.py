"""The whole platform for the end-to-end tests: the four services on real ports in this event loop,
a real webhook receiver standing in for the companies, the stand-ins and RabbitMQ of the run."""

from __future__ import annotations

import pytest
from devstack.platform import running_platform


@pytest.fixture(scope="module")
async def platform(mongo_url, s3_endpoint, broker_namespace, run_id, request):
    module = request.module.__name__.rsplit(".", 1)[-1]
    namespace = broker_namespace.isolated(module.replace("_", "-"))
    for service in ("intake", "evidence", "routing", "notification"):
        namespace.settings_for(service)
    broker = namespace.broker_settings()
    async with running_platform(
        mongo_url=mongo_url, s3_endpoint=s3_endpoint, broker=broker, db_prefix=f"t{run_id}_{module}",
        bucket=f"e2e-{run_id}-{module}".replace("_", "-")[:60],
    ) as platform:
        yield platform
