"""Resolving a webhook host and applying the SSRF rules to every address it resolves to.

Resolution runs ``socket.getaddrinfo`` in a worker thread so the event loop never blocks on DNS.
The delivery then connects to the checked address itself (see :mod:`notification.adapters.sender`),
so a DNS answer that changes between the check and the connection (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from notification.domain.targets import IPAddress, WebhookTarget, first_forbidden, is_plain_http

IPNetwork = IPv4Network | IPv6Network


class TargetForbidden(Exception):
    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} resolves to {address} ({reason}), which webhooks may not call")
        self.reason = reason


class TargetUnresolvable(Exception):
    pass


class TargetNotHttps(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(f"{url} is not an https URL; webhooks carry complaint details and go over TLS only")


@dataclass(frozen=True)
class ResolvedTarget:
    target: WebhookTarget
    address: IPAddress


class TargetGuard:
    def __init__(
        self,
        *,
        allow_private: bool,
        allow_plain_http: bool,
        resolve_timeout_s: float = 5.0,
        allowed_networks: Iterable[IPNetwork] = (),
    ) -> None:
        self.allow_private = allow_private
        self.allow_plain_http = allow_plain_http
        self.resolve_timeout_s = resolve_timeout_s
        # Private networks allowed by name in the settings; any other forbidden address still refuses the target.
        self.allowed_networks = tuple(allowed_networks)

    def refuses(self, target: WebhookTarget) -> bool:
        """Whether ``target`` is refused for its scheme alone (plain http outside development)."""
        return not self.allow_plain_http and is_plain_http(target)

    async def resolve(self, target: WebhookTarget) -> ResolvedTarget:
        """The address to connect to; raises :class:`TargetNotHttps`, :class:`TargetForbidden` or
        :class:`TargetUnresolvable`."""
        if self.refuses(target):
            raise TargetNotHttps(target.url)
        addresses = await self._addresses(target)
        if not self.allow_private:
            forbidden = first_forbidden([a for a in addresses if not any(a in net for net in self.allowed_networks)])
            if forbidden is not None:
                raise TargetForbidden(target.host, str(forbidden[0]), forbidden[1])
        return ResolvedTarget(target, addresses[0])

    async def _addresses(self, target: WebhookTarget) -> list[IPAddress]:
        try:
            literal = ipaddress.ip_address(target.host)
        except ValueError:
            literal = None
        if literal is not None:
            return [literal]
        try:
            infos = await asyncio.wait_for(
                asyncio.to_thread(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM),
                timeout=self.resolve_timeout_s,
            )
        except (TimeoutError, OSError, UnicodeError) as error:
            raise TargetUnresolvable(f"{target.host} does not resolve: {str(error) or type(error).__name__}") from None
        addresses: list[IPAddress] = []
        for family, *_, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise TargetUnresolvable(f"{target.host} has no IP address")
        return addresses
