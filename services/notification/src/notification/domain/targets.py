"""Which webhook targets may be called: URL shape and the SSRF rules for resolved addresses.

A company's webhook URL is chosen by an outside party, so the service must never be made to call
into its own network: loopback, private (RFC 1918, unique local), link-local, multicast, reserved,
shared (carrier-grade NAT) addresses and the cloud metadata services are refused. IPv4 addresses
embedded in IPv6 (mapped, 6to4, Teredo) are judged by the IPv4 address they carry.
See https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services; most are link-local or private anyway, named here so the reason is clear.
CLOUD_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Tencent Cloud
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT


class InvalidWebhookUrl(ValueError):
    """The URL cannot be a webhook target (scheme, host, credentials, length)."""


def is_plain_http(target: WebhookTarget) -> bool:
    """A webhook carries the complaint's narrative: outside development it goes over TLS only."""
    return target.scheme != "https"


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    scheme: str
    host: str
    port: int


def parse_target(url: str) -> WebhookTarget:
    """Check the URL's shape: absolute http(s) with a host, no credentials, no fragment."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"The URL must have 1 to {MAX_URL_LENGTH} characters.")
    if any(character.isspace() or not character.isprintable() for character in url):
        raise InvalidWebhookUrl("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidWebhookUrl(f"The URL does not parse: {error}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidWebhookUrl("Only http and https URLs can receive webhooks.")
    if not parts.hostname:
        raise InvalidWebhookUrl("The URL has no host.")
    # Credentials in the URL would be shown back and logged; the webhook signature authenticates us.
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("The URL must not carry credentials.")
    if parts.fragment:
        raise InvalidWebhookUrl("The URL must not have a fragment.")
    return WebhookTarget(url=url, scheme=scheme, host=parts.hostname, port=port or (443 if scheme == "https" else 80))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def forbidden_reason(address: str | IPAddress) -> str | None:
    """Why ``address`` must not be called, or ``None`` when it is a public unicast address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link_local"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return forbidden_reason(embedded)
    if ip in CLOUD_METADATA_ADDRESSES:
        return "cloud_metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_ADDRESS_SPACE:
        return "shared_address_space"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        # Documentation, benchmarking and other special-purpose ranges (IANA registries).
        return "not_global"
    return None


def first_forbidden(addresses: list[IPAddress]) -> tuple[IPAddress, str] | None:
    """The first address of a host that must not be called; every address of the host must pass,
    since the connection could go to any of them."""
    for ip in addresses:
        reason = forbidden_reason(ip)
        if reason is not None:
            return ip, reason
    return None
