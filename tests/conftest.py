"""The whole platform for the tests of this folder (end-to-end, security, web), one per test module: the
four services on real ports in this event loop, a webhook receiver standing in for the companies, the
stand-ins, and a RabbitMQ namespace of the module's own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devstack.platform import running_platform

SERVICES = ("intake", "evidence", "routing", "notification")
# A journey publishes one or two complaints and reads them back in the public figures at once: without the daily
# snapshot and the suppression of small cells, which services/intake/tests/test_statistics_disclosure_api.py tests.
FIGURES_AS_THEY_CHANGE = {"public_statistics_refresh": timedelta(0), "public_statistics_min_count": 1}


@pytest.fixture(scope="module")
async def platform(mongo_url, s3_endpoint, broker_namespace, run_id, request):
    module = request.module.__name__.rsplit(".", 1)[-1]
    namespace = broker_namespace.isolated(module.replace("_", "-"))
    for service in SERVICES:
        namespace.settings_for(service)
    async with running_platform(
        mongo_url=mongo_url,
        s3_endpoint=s3_endpoint,
        broker=namespace.broker_settings(),
        db_prefix=f"t{run_id}_{module}",
        bucket=f"t-{run_id}-{module}".replace("_", "-")[:60],
        intake_settings=FIGURES_AS_THEY_CHANGE,
    ) as platform:
        yield platform
