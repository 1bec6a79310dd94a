"""Private networks allowed by name (``WEBHOOK_PRIVATE_NETWORKS_ALLOWED``): a target inside one is called, every
other private address is still refused, and the setting reads the way a deployment writes it."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from notification.adapters.resolver import TargetForbidden, TargetGuard
from notification.config import Settings
from notification.domain.targets import parse_target

pytestmark = pytest.mark.unit

ALLOWED = [ip_network("172.30.0.250/32"), ip_network("fd00:1::/64")]


@pytest.mark.parametrize("url", ["http://172.30.0.250:8080/hook", "http://[fd00:1::5]/hook"])
async def test_a_target_in_an_allowed_network_is_called(url):
    guard = TargetGuard(allow_private=False, allow_plain_http=True, allowed_networks=ALLOWED)

    resolved = await guard.resolve(parse_target(url))

    assert any(resolved.address in network for network in ALLOWED)


@pytest.mark.parametrize(
    "url",
    [
        "http://172.30.0.251:8080/hook",
        "http://10.0.0.1/hook",
        "http://127.0.0.1/hook",
        "http://169.254.169.254/",
        "http://localhost:8080/hook",
    ],
)
async def test_every_other_private_address_is_still_refused(url):
    guard = TargetGuard(allow_private=False, allow_plain_http=True, allowed_networks=ALLOWED)

    with pytest.raises(TargetForbidden):
        await guard.resolve(parse_target(url))


def test_the_setting_is_a_json_list_of_networks(monkeypatch):
    monkeypatch.setenv("WEBHOOK_PRIVATE_NETWORKS_ALLOWED", '["172.30.0.250/32", "fd00:1::/64"]')

    assert Settings().webhook_private_networks_allowed == ALLOWED
    monkeypatch.setenv("WEBHOOK_PRIVATE_NETWORKS_ALLOWED", '["not a network"]')
    with pytest.raises(ValueError, match="webhook_private_networks_allowed"):
        Settings()
