"""Test hosts in network namespaces the suite creates: real, non-loopback addresses on this machine.

Docker treats loopback registries as plain HTTP by itself; a registry on a test host is how the
suite meets the real "server gave HTTP response to HTTPS client" case. Each host is registered
with the network guard while it exists, and torn down after.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from tests.stack import netguard


@dataclass(frozen=True)
class NetnsHost:
    namespace: str
    address: str

    def command(self, *argv: str) -> list[str]:
        """A command line that runs inside the host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def netns_host() -> Iterator[NetnsHost]:
    subnet = random.randint(0, 255)
    tag = f"{random.getrandbits(24):06x}"
    namespace, outside, inside = f"dk-{tag}", f"dkh{tag}", f"dkn{tag}"
    host = NetnsHost(namespace, f"10.231.{subnet}.2")
    try:
        _ip("netns", "add", namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("addr", "add", f"10.231.{subnet}.1/24", "dev", outside)
        _ip("link", "set", outside, "up")
        _ip("-n", namespace, "addr", "add", f"{host.address}/24", "dev", inside)
        _ip("-n", namespace, "link", "set", inside, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        netguard.allow_test_host(host.address)
        yield host
    finally:
        netguard.forget_test_host(host.address)
        subprocess.run(["ip", "link", "del", outside], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
