"""The suite runs beside a Docker engine installed the ordinary way (docker0, its own iptables
rules with FORWARD policy DROP) without breaking it, and works with that engine's rules in place."""

from __future__ import annotations

import subprocess
import uuid

from tests.stack.engine import build_busybox_base, running_engine, stock_engine
from tests.stack.processes import mounts_under
from tests.stack.require import require_binary


def serve_token(client, image: str, network: str, token: str):
    """A container serving `token` over HTTP on `network` (busybox httpd)."""
    return client.containers.run(image, ["sh", "-c", f"mkdir -p /srv && echo {token} > /srv/token && "
                                                       "exec httpd -f -p 8080 -h /srv"],
                                 detach=True, network=network, name=f"dk-serve-{token[:8]}")


def address_on(container, network: str) -> str:
    # By address: a static busybox cannot resolve names through glibc's NSS.
    container.reload()
    return container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]


def fetch(client, image: str, network: str, address: str) -> str:
    # No -q or -T: this busybox wget crashes with both. Progress goes to stderr, not returned.
    return client.containers.run(image, ["wget", "-O-", f"http://{address}:8080/token"],
                                 network=network, remove=True).decode().strip()


def test_a_stock_engine_keeps_docker0_and_its_networking_while_ours_come_and_go():
    dockerd, runc = require_binary("dockerd", "docker.io"), require_binary("runc", "runc")
    busybox = require_binary("busybox", "busybox-static")
    with stock_engine(dockerd, runc) as stock:
        build_busybox_base(stock, busybox, "drone-kit-test/busybox:stock")
        forward = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True).stdout
        assert "-P FORWARD DROP" in forward  # the stock engine's firewall is in place

        with running_engine(dockerd, runc) as ours:
            build_busybox_base(ours.client, busybox, "drone-kit-test/busybox:ours")
            run_id = uuid.uuid4().hex[:8]  # named as `drone_kit exec` names its runs' networks
            network = ours.client.networks.create(f"drone-kit-exec-{run_id}", driver="bridge",
                                                  options={"com.docker.network.bridge.name": f"dkx-{run_id}"})
            token = uuid.uuid4().hex
            server = serve_token(ours.client, "drone-kit-test/busybox:ours", network.name, token)
            try:
                address = address_on(server, network.name)
                assert fetch(ours.client, "drone-kit-test/busybox:ours", network.name, address) == token
            finally:
                server.remove(force=True)
                network.remove()

        assert not ours.root.exists() and not mounts_under(ours.root)  # nothing of ours left behind
        assert subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0
        token = uuid.uuid4().hex
        server = serve_token(stock, "drone-kit-test/busybox:stock", "bridge", token)
        assert fetch(stock, "drone-kit-test/busybox:stock", "bridge", address_on(server, "bridge")) == token
