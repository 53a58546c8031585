"""[webhook] ALLOWED_HOST_LIST as Gitea's hostmatcher reads it (modules/hostmatcher/hostmatcher.go
and http.go; read, not copied): comma-separated `loopback`, `private`, `external`, `*`, CIDRs and
host-name globs, checked against the URL's host name and the address it resolved to, before the
connection is made. Loopback is only `loopback`: 127.0.0.1 is neither `private` (Go's
net.IP.IsPrivate is RFC 1918 and fc00::/7, plus the reserved ranges Gitea adds) nor `external`
(not a global unicast address).
"""

from __future__ import annotations

import fnmatch
import ipaddress
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PRIVATE = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",  # net.IP.IsPrivate
    # hostmatcher's reservedIPNets: special-purpose ranges that are not public destinations
    "100.64.0.0/10", "168.63.129.16/32", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "100::/64", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32",
    "2001:10::/28", "2001:20::/28", "2001:db8::/32", "2002::/16")]


def _private(ip: IPAddress) -> bool:
    return any(ip.version == net.version and ip in net for net in PRIVATE)


def _global_unicast(ip: IPAddress) -> bool:
    """Go's net.IP.IsGlobalUnicast: anything but unspecified, loopback, multicast, link-local, broadcast."""
    return not (ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_link_local
                or ip == ipaddress.ip_address("255.255.255.255"))


@dataclass
class HostList:
    setting: str
    key_hint: str = "webhook.ALLOWED_HOST_LIST"
    builtins: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list)

    def __post_init__(self) -> None:
        for item in (s.strip().lower() for s in self.setting.split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False) if "/" in item else
                                     ipaddress.ip_network(f"{item}/{32 if '.' in item else 128}"))
                continue
            except ValueError:
                pass
            (self.builtins if item in ("loopback", "private", "external") else self.patterns).append(item)

    def _ip_allowed(self, ip: IPAddress) -> bool:
        if "*" in self.patterns:
            return True
        rules = {"external": lambda: _global_unicast(ip) and not _private(ip), "private": lambda: _private(ip),
                 "loopback": lambda: ip.is_loopback}
        if any(rules[name]() for name in self.builtins):
            return True
        return any(ip.version == net.version and ip in net for net in self.networks)

    def allows(self, host: str, ip: str) -> bool:
        """MatchHostOrIP: the host name against the globs, or the address against everything."""
        address = ipaddress.ip_address(ip)
        names = (host.lower(), str(address))
        return any(fnmatch.fnmatchcase(n, p) for n in names for p in self.patterns) or self._ip_allowed(address)

    def refusal(self, host: str, ip_port: str) -> str:
        """The dialer's error, as Gitea words it."""
        return (f"webhook can only call allowed HTTP servers (check your {self.key_hint} setting), "
                f"deny '{host}({ip_port})'")
