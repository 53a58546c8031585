"""A real single-node Kubernetes for the tests, on loopback: etcd, kube-apiserver (token auth,
RBAC), controller-manager, scheduler, and a kubelet that runs pods on the suite's private engine.

The binaries come from Debian's `kubernetes` source package, built once per machine by
`tests/stack/make-kubernetes` (tests/run does it). Every address is on this machine: the API
server and the kubelet listen on 127.0.0.1, pods live on the engine's own bridge (checked before
the kubelet starts), and the service CIDR is an unreachable route, so nothing dialling a
ClusterIP ever leaves the machine.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from tests.stack.engine import Engine, _networks_in_use, check_pod_route
from tests.stack.processes import stop, unmount_all_under, wait_until_ready
from tests.stack.registry import free_port

PAUSE_IMAGE = "drone-kit-test/pause:3.2"
NODE_NAME = "localhost"  # the API server reaches the kubelet by this name (pods/log, exec)
READY_TIMEOUT = 90.0


@dataclass
class Node:
    server: str  # https://127.0.0.1:PORT
    ca: Path  # the API server's self-signed certificate and its CA
    tokens: dict[str, str]  # user name -> bearer token (admin: system:masters)
    root: Path
    logs: dict[str, Path] = field(default_factory=dict)

    def kubeconfig(self, user: str = "admin", verify: bool = True) -> str:
        """A kubeconfig for `user` (its token), as YAML text; `verify=False` skips TLS verification
        as many home-lab kubeconfigs do."""
        trust = ({"certificate-authority-data": base64.b64encode(self.ca.read_bytes()).decode()} if verify else
                 {"insecure-skip-tls-verify": True})
        return yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": self.server, **trust}}],
            "users": [{"name": user, "user": {"token": self.tokens[user]}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": user}}],
        })

    def get(self, path: str) -> requests.Response:
        return requests.get(self.server + path, headers={"Authorization": f"Bearer {self.tokens['admin']}"},
                            verify=str(self.ca), timeout=10)

    def log_tails(self, lines: int = 15) -> str:
        return "\n".join(f"--- {name}:\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                         for name, path in self.logs.items() if path.exists())


def build_pause_image(engine: Engine, pause_binary: Path) -> None:
    """The pod sandbox image the kubelet asks for, from the pause binary built with the node."""
    with tempfile.TemporaryDirectory(prefix="dk-pause-") as context:
        shutil.copy(pause_binary, Path(context) / "pause")
        (Path(context) / "Dockerfile").write_text('FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n')
        engine.client.images.build(path=context, tag=PAUSE_IMAGE, rm=True)


@contextlib.contextmanager
def unreachable_service_cidr() -> Iterator[ipaddress.IPv4Network]:
    """A /24 for ClusterIPs that this machine answers as unreachable, so none is ever dialled out."""
    used = _networks_in_use()
    cidr = next(n for n in ipaddress.ip_network("10.234.0.0/16").subnets(new_prefix=24)
                if not any(n.overlaps(u) for u in used))
    subprocess.run(["ip", "route", "add", "unreachable", str(cidr)], check=True, capture_output=True)
    try:
        yield cidr
    finally:
        subprocess.run(["ip", "route", "del", "unreachable", str(cidr)], capture_output=True)


class _Processes:
    """The node's processes, started in order and stopped in reverse."""

    def __init__(self, root: Path) -> None:
        self.root, self.running = root, []  # type: list[tuple[str, subprocess.Popen]]
        self.logs: dict[str, Path] = {}

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = self.root / f"{name}.log"
        with open(log, "wb") as handle:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((name, process))
        self.logs[name] = log
        return process

    def stop_all(self) -> None:
        for _, process in reversed(self.running):
            stop(process, timeout=5)  # throwaway state: no graceful shutdown to wait for


def _answers(url: str, **kwargs) -> bool:
    with contextlib.suppress(requests.RequestException):
        return requests.get(url, timeout=2, **kwargs).status_code == 200
    return False


@contextlib.contextmanager
def running_node(binaries: Path, etcd: str, engine: Engine) -> Iterator[Node]:
    """Start the node and wait until it is Ready with its default service account; stop it all after."""
    check_pod_route(engine)
    build_pause_image(engine, binaries / "pause")
    root = Path(tempfile.mkdtemp(prefix="dk-kube-", dir="/tmp"))
    processes = _Processes(root)
    tokens = {"admin": secrets.token_hex(16), "deployer": secrets.token_hex(16)}
    (root / "tokens.csv").write_text(f"{tokens['admin']},admin,admin-uid,system:masters\n"
                                     f"{tokens['deployer']},deployer,deployer-uid\n")
    subprocess.run(["openssl", "genrsa", "-out", str(root / "sa.key"), "2048"], check=True, capture_output=True)
    ports = {name: free_port() for name in ("etcd", "etcd-peer", "apiserver", "controller", "scheduler", "kubelet",
                                            "kubelet-health")}
    node = Node(f"https://127.0.0.1:{ports['apiserver']}", root / "pki" / "apiserver.crt", tokens, root,
                processes.logs)
    try:
        with unreachable_service_cidr() as service_cidr:
            _start_control_plane(processes, binaries, etcd, root, ports, service_cidr, node)
            kubeconfig = root / "admin.kubeconfig"
            kubeconfig.write_text(node.kubeconfig())
            _start_kubelet(processes, binaries, root, ports, kubeconfig, engine)
            _wait_for_node(node, processes)
            yield node
    finally:
        processes.stop_all()
        _remove_pod_containers(engine)
        unmount_all_under(root)
        shutil.rmtree(root, ignore_errors=True)


def _start_control_plane(processes: _Processes, binaries: Path, etcd: str, root: Path, ports: dict[str, int],
                         service_cidr: ipaddress.IPv4Network, node: Node) -> None:
    client_url, peer_url = f"http://127.0.0.1:{ports['etcd']}", f"http://127.0.0.1:{ports['etcd-peer']}"
    process = processes.start("etcd", [
        etcd, "--data-dir", str(root / "etcd"), "--listen-client-urls", client_url,
        "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url,
        "--initial-advertise-peer-urls", peer_url, "--initial-cluster", f"default={peer_url}",
        "--listen-metrics-urls", "",
    ])
    wait_until_ready(process, lambda: _answers(f"{client_url}/health"), "etcd", processes.logs["etcd"], 30)
    process = processes.start("kube-apiserver", [
        str(binaries / "kube-apiserver"), "--etcd-servers", client_url,
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(ports["apiserver"]),
        "--insecure-port", "0", "--cert-dir", str(root / "pki"), "--token-auth-file", str(root / "tokens.csv"),
        "--authorization-mode", "Node,RBAC", "--service-cluster-ip-range", str(service_cidr),
        "--service-account-key-file", str(root / "sa.key"),
        "--service-account-signing-key-file", str(root / "sa.key"),
        "--service-account-issuer", "https://kubernetes.default.svc", "--allow-privileged=true",
        "--kubelet-preferred-address-types", "Hostname,InternalIP", "--enable-aggregator-routing=true",
        "--profiling=false",
    ])
    wait_until_ready(process, lambda: node.ca.exists() and _answers(
        f"{node.server}/readyz", headers={"Authorization": f"Bearer {node.tokens['admin']}"}, verify=str(node.ca)),
        "kube-apiserver", processes.logs["kube-apiserver"], 60)
    kubeconfig = root / "admin.kubeconfig"
    kubeconfig.write_text(node.kubeconfig())
    process = processes.start("kube-controller-manager", [
        str(binaries / "kube-controller-manager"), "--kubeconfig", str(kubeconfig), "--leader-elect=false",
        "--service-account-private-key-file", str(root / "sa.key"), "--root-ca-file", str(node.ca),
        "--bind-address", "127.0.0.1", "--secure-port", "0", "--address", "127.0.0.1",
        "--port", str(ports["controller"]), "--profiling=false",
    ])
    wait_until_ready(process, lambda: _answers(f"http://127.0.0.1:{ports['controller']}/healthz"),
                     "kube-controller-manager", processes.logs["kube-controller-manager"], 30)
    process = processes.start("kube-scheduler", [
        str(binaries / "kube-scheduler"), "--kubeconfig", str(kubeconfig), "--leader-elect=false",
        "--bind-address", "127.0.0.1", "--secure-port", "0", "--address", "127.0.0.1",
        "--port", str(ports["scheduler"]), "--profiling=false",
    ])
    wait_until_ready(process, lambda: _answers(f"http://127.0.0.1:{ports['scheduler']}/healthz"),
                     "kube-scheduler", processes.logs["kube-scheduler"], 30)


def _start_kubelet(processes: _Processes, binaries: Path, root: Path, ports: dict[str, int], kubeconfig: Path,
                   engine: Engine) -> None:
    processes.start("kubelet", [
        str(binaries / "kubelet"), "--kubeconfig", str(kubeconfig), "--hostname-override", NODE_NAME,
        "--container-runtime=docker", f"--docker-endpoint={engine.host}",
        # cadvisor looks for containers on the default socket unless told: without these no pod
        # has stats, and the kubelet never evicts a pod over its ephemeral-storage limit.
        f"--docker={engine.host}", f"--docker-root={engine.root / 'data'}",
        f"--pod-infra-container-image={PAUSE_IMAGE}", "--root-dir", str(root / "kubelet"),
        "--cert-dir", str(root / "kubelet-pki"), "--experimental-dockershim-root-directory", str(root / "dockershim"),
        "--address", "127.0.0.1", "--port", str(ports["kubelet"]), "--read-only-port=0",
        "--healthz-bind-address", "127.0.0.1", "--healthz-port", str(ports["kubelet-health"]),
        "--anonymous-auth=true", "--authorization-mode=AlwaysAllow",
        "--fail-swap-on=false", "--cgroup-driver=cgroupfs", "--cgroups-per-qos=false", "--enforce-node-allocatable=",
        "--eviction-hard=", "--image-gc-high-threshold=100", "--image-gc-low-threshold=99",
        "--serialize-image-pulls=false", "--volume-plugin-dir", str(root / "volume-plugins"),
    ])


def _wait_for_node(node: Node, processes: _Processes) -> None:
    """Ready, with the default service account pods need; RuntimeError with every log if not."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        dead = [name for name, process in processes.running if process.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited while the node started:\n{node.log_tails()}")
        with contextlib.suppress(requests.RequestException, ValueError, KeyError):
            answer = node.get(f"/api/v1/nodes/{NODE_NAME}")
            conditions = answer.json()["status"].get("conditions", []) if answer.status_code == 200 else []
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
            if ready and node.get("/api/v1/namespaces/default/serviceaccounts/default").status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the node was not Ready in {READY_TIMEOUT:g}s:\n{node.log_tails()}")


def _remove_pod_containers(engine: Engine) -> None:
    """The kubelet's containers outlive it: remove them with the node."""
    with contextlib.suppress(Exception):
        for container in engine.client.containers.list(all=True, filters={"label": "io.kubernetes.pod.uid"}):
            container.remove(force=True)


def deployment_image(node: Node, namespace: str, name: str) -> str:
    spec = node.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}").json()["spec"]
    return spec["template"]["spec"]["containers"][0]["image"]


def events_json(node: Node, namespace: str) -> str:
    return json.dumps(node.get(f"/api/v1/namespaces/{namespace}/events").json().get("items", []), indent=1)
