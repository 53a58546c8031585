"""Fails any test that opens a connection beyond loopback or the suite's own test hosts.

Tests may talk to 127.0.0.0/8, ::1, unix sockets, addresses of test hosts in network namespaces
the suite created (registered with `allow_test_host`), and the suite's own Kubernetes pod network,
the private engine's bridge (registered with `allow_test_network` by the tests that need it). The check runs before the
connection is attempted, so a forbidden address never sees a packet.
"""

from __future__ import annotations

import ipaddress
import socket

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_test_hosts: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
_test_networks: set[ipaddress.IPv4Network | ipaddress.IPv6Network] = set()
violations: list[str] = []


class ForbiddenConnection(OSError):
    pass


def allow_test_host(address: str) -> None:
    _test_hosts.add(ipaddress.ip_address(address))


def forget_test_host(address: str) -> None:
    _test_hosts.discard(ipaddress.ip_address(address))


def allow_test_network(network: str) -> None:
    _test_networks.add(ipaddress.ip_network(network))


def forget_test_network(network: str) -> None:
    _test_networks.discard(ipaddress.ip_network(network))


def is_allowed(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or address in _test_hosts or any(address in net for net in _test_networks)


def _check(sock: socket.socket, address) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host, port = address[0], address[1]
    try:
        ips = [info[4][0] for info in socket.getaddrinfo(host, port, sock.family, proto=socket.IPPROTO_TCP)]
    except socket.gaierror:
        ips = []
    if not ips or not all(is_allowed(ip) for ip in ips):
        message = f"test tried to connect to {host}:{port}, which is not loopback or a test host of the suite"
        violations.append(message)
        raise ForbiddenConnection(message)


def _guarded_connect(self, address):
    _check(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _real_connect_ex(self, address)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


def uninstall() -> None:
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
