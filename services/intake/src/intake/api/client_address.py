"""The client's address: the peer, or behind trusted proxies the first untrusted hop of X-Forwarded-For.

Every proxy appends the address it received the request from, so the header's right end is written by
the proxies nearest to intake and its left end by whoever sent the request first, the client included:
anything left of the first hop that is not a trusted proxy may be forged. The header is read from the
right, skipping trusted proxies; the first address that is not one is the client. From a peer that is not
a trusted proxy the header is ignored altogether.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return parsed.ipv4_mapped or parsed if isinstance(parsed, IPv6Address) else parsed


def _trusted(address: IPv4Address | IPv6Address, networks: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client's address given the TCP peer, the X-Forwarded-For header lines and the trusted proxies."""
    current = _address(peer) if peer else None
    if current is None:
        return (peer or UNKNOWN)[:64]
    hops = [hop.strip() for line in forwarded_for for hop in line.split(",")]
    for hop in reversed(hops):
        if not _trusted(current, trusted):
            break
        parsed = _address(hop)
        if parsed is None:
            # A trusted proxy wrote something that is no address: the nearest proxy is the best we know.
            break
        current = parsed
    return str(current)
