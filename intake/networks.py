"""Which client addresses count as this deployment's own network (loopback and private ranges)."""

from __future__ import annotations

import ipaddress

# Listed, not ipaddress's is_private, which also counts documentation and other reserved ranges.
PRIVATE_NETS = [
    ipaddress.ip_network(net)
    for net in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]


def from_private_network(address: str | None) -> bool:
    """Whether a peer address (the TCP peer, never a forwarded header) is loopback or private."""
    try:
        peer = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(peer in net for net in PRIVATE_NETS)
