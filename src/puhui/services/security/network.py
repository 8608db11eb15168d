"""Which address a request comes from: ``X-Forwarded-For`` only through trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from puhui.domain.errors import ConfigurationError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs (``10.0.0.0/8``) or single addresses; a typo stops the start, not a request."""
    networks: list[Network] = []
    for text in cidrs:
        cidr = text.strip()
        if not cidr:
            continue
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"not an address or CIDR of a trusted proxy: {cidr!r}"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(text: str, trusted: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in trusted)


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client's address as far as we can trust it.

    The direct peer is the client unless it is one of our proxies. Behind a proxy, the
    ``X-Forwarded-For`` list is read from the right (the hops our proxies appended) and the
    first address that is not a trusted proxy is the client: anything left of it was written
    by the client and may be forged. A malformed hop ends the walk at the last trusted one.
    """
    if not trusted or not forwarded_for or not _trusted(peer, trusted):
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not any(address in network for network in trusted):
            break
    return client
