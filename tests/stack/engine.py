"""A private Docker engine for the tests: its own data-root, exec-root, pidfile, socket and bridge.

It runs beside any other engine on the machine without touching it: its default network is a
bridge of its own (a dockerd started without one deletes the host's docker0), and it writes no
iptables rules. Containers on that bridge (the test node's pods) are reachable
from this machine only; nothing routes them anywhere else.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker

from drone_kit.clients.docker_engine import API_VERSION
from tests.stack.processes import unmount_all_under, wait_until_ready

RUNTIME_NAME = "dk-test-runc"
WRAPPER_SOURCE = Path(__file__).with_name("runtime-wrapper.py")


@dataclass(frozen=True)
class Bridge:
    name: str
    network: ipaddress.IPv4Network

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return next(self.network.hosts())


@dataclass
class Engine:
    root: Path
    socket: Path
    client: docker.DockerClient
    log: Path
    bridge: Bridge

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _write_wrapper(root: Path, runc: str) -> Path:
    wrapper = root / "runtime-wrapper"
    wrapper.write_text(f"#!{sys.executable}\nRUNC = {runc!r}\n" + WRAPPER_SOURCE.read_text())
    wrapper.chmod(0o755)
    return wrapper


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


def _networks_in_use() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for route in json.loads(_ip("-j", "-4", "route", "show", "table", "all")):
        with contextlib.suppress(ValueError):  # "default", and the like
            networks.append(ipaddress.ip_network(route.get("dst", ""), strict=False))
    return networks


@contextlib.contextmanager
def own_bridge() -> Iterator[Bridge]:
    """A Linux bridge for one engine, on a /24 of 10.233.0.0/16 that no route of this machine uses."""
    used = _networks_in_use()
    free = [n for n in ipaddress.ip_network("10.233.0.0/16").subnets(new_prefix=24)
            if not any(n.overlaps(u) for u in used)]
    bridge = Bridge(f"dkbr{random.getrandbits(32):08x}", random.choice(free))
    try:
        _ip("link", "add", bridge.name, "type", "bridge")
        _ip("addr", "add", f"{bridge.gateway}/{bridge.network.prefixlen}", "dev", bridge.name)
        _ip("link", "set", bridge.name, "up")
        yield bridge
    finally:
        subprocess.run(["ip", "link", "del", bridge.name], capture_output=True)


def check_pod_route(engine: Engine) -> None:
    """Refuse to go on unless the engine's container subnet is its own bridge's and this machine
    routes it through that bridge: otherwise a probe of a container's address would leave the
    machine by the default route (no guard in Python sees the kubelet's traffic)."""
    config = engine.client.networks.get("bridge").attrs["IPAM"]["Config"]
    subnets = {ipaddress.ip_network(c["Subnet"]) for c in config if "Subnet" in c}
    if subnets != {engine.bridge.network}:
        raise RuntimeError(f"the engine's bridge network is {sorted(map(str, subnets))}, "
                           f"not its own bridge's {engine.bridge.network}: refusing to run pods")
    probe = str(engine.bridge.network.broadcast_address - 1)
    route = json.loads(_ip("-j", "route", "get", probe))
    if not route or route[0].get("dev") != engine.bridge.name:
        raise RuntimeError(f"{probe} is routed through {route[0].get('dev') if route else 'nothing'}, not the "
                           f"engine's bridge {engine.bridge.name}: refusing to run pods")


# The bridges of the test engine's own networks: its default one, and `drone_kit exec` runs'.
FORWARDED_BRIDGES = ("dkbr+", "dkx+")


@contextlib.contextmanager
def forwarding_within(bridges: tuple[str, ...]) -> Iterator[None]:
    """Let traffic between containers on the same one of these bridges through the host's FORWARD
    chain, which a stock engine may have set to DROP (bridged packets pass it with br_netfilter).
    The test engine writes no iptables rules of its own; these are removed when it stops."""
    rules = [["FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"] for bridge in bridges]
    have_iptables = shutil.which("iptables") is not None
    if have_iptables:
        for rule in rules:
            subprocess.run(["iptables", "-I", *rule], check=True, capture_output=True)
    try:
        yield
    finally:
        if have_iptables:
            for rule in rules:
                subprocess.run(["iptables", "-D", *rule], capture_output=True)


@contextlib.contextmanager
def running_engine(
    dockerd: str, runc: str, extra_args: tuple[str, ...] = (), ready_timeout: float = 60.0
) -> Iterator[Engine]:
    with own_bridge() as bridge, forwarding_within(FORWARDED_BRIDGES), \
            _running_engine(dockerd, runc, bridge, extra_args, ready_timeout) as engine:
        yield engine


@contextlib.contextmanager
def _running_engine(dockerd: str, runc: str, bridge: Bridge, extra_args: tuple[str, ...],
                    ready_timeout: float) -> Iterator[Engine]:
    # Short paths: containerd's sockets live under the exec-root and unix paths are limited.
    root = Path(tempfile.mkdtemp(prefix="dk-engine-", dir="/tmp"))
    sock, log = root / "docker.sock", root / "dockerd.log"
    command = [
        dockerd,
        "--data-root", str(root / "data"),
        "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "docker.pid"),
        "--host", f"unix://{sock}",
        "--bridge", bridge.name,
        "--iptables=false",
        "--ip-masq=false",
        "--add-runtime", f"{RUNTIME_NAME}={_write_wrapper(root, runc)}",
        "--default-runtime", RUNTIME_NAME,
        *extra_args,
    ]
    with open(log, "wb") as log_handle:
        process = subprocess.Popen(command, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True)
    # A pinned API version: asking the engine for its version would connect before it is up.
    client = docker.DockerClient(base_url=f"unix://{sock}", version=API_VERSION, timeout=300)

    def ready() -> bool:
        try:
            return sock.exists() and client.ping()
        except docker.errors.DockerException:
            return False

    try:
        wait_until_ready(process, ready, "dockerd", log, ready_timeout)
        yield Engine(root, sock, client, log, bridge)
    finally:
        with contextlib.suppress(Exception):
            for container in client.containers.list(all=True):
                container.remove(force=True)
        client.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        unmount_all_under(root)
        shutil.rmtree(root, ignore_errors=True)


BASE_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


def build_busybox_base(client: docker.DockerClient, busybox: str, tag: str, platform: str | None = None) -> str:
    """A base image with only busybox-static; its id. Tests build FROM it, no image hub needed."""
    with tempfile.TemporaryDirectory(prefix="dk-base-") as context:
        shutil.copy(busybox, Path(context) / "busybox")
        (Path(context) / "Dockerfile").write_text(BASE_DOCKERFILE)
        image, _ = client.images.build(path=context, tag=tag, rm=True, platform=platform)
    return image.id


@contextlib.contextmanager
def stock_engine(dockerd: str, runc: str) -> Iterator[docker.DockerClient]:
    """An engine configured as Docker installs it (docker0, its own iptables rules), with only its
    paths and socket private; the machine's bridges and firewall are put back as they were after."""
    root = Path(tempfile.mkdtemp(prefix="dk-stock-", dir="/tmp"))
    had_docker0 = subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0
    firewall = subprocess.run(["iptables-save"], check=True, capture_output=True).stdout
    sock, log = root / "docker.sock", root / "dockerd.log"
    command = [dockerd, "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
               "--pidfile", str(root / "docker.pid"), "--host", f"unix://{sock}",
               "--add-runtime", f"{RUNTIME_NAME}={_write_wrapper(root, runc)}", "--default-runtime", RUNTIME_NAME]
    with open(log, "wb") as log_handle:
        process = subprocess.Popen(command, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True)
    client = docker.DockerClient(base_url=f"unix://{sock}", version=API_VERSION, timeout=120)
    try:
        wait_until_ready(process, lambda: sock.exists() and _pings(client), "stock dockerd", log, 60)
        # What dockerd does where IP forwarding was off when it started: the strictest case.
        subprocess.run(["iptables", "-P", "FORWARD", "DROP"], check=True, capture_output=True)
        yield client
    finally:
        with contextlib.suppress(Exception):
            for container in client.containers.list(all=True):
                container.remove(force=True)
        client.close()
        process.terminate()
        process.wait(timeout=30)
        unmount_all_under(root)
        subprocess.run(["iptables-restore"], input=firewall, capture_output=True)
        if not had_docker0:
            subprocess.run(["ip", "link", "del", "docker0"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _pings(client: docker.DockerClient) -> bool:
    try:
        return bool(client.ping())
    except docker.errors.DockerException:
        return False
