"""In-cluster addresses served on loopback, as kube-proxy serves a ClusterIP or a NodePort: each
new connection goes to one of the targets of that moment. For a Service of the suite's node, its
ready endpoints read from the API server (the endpoints controller's Endpoints, so a rollout
moves traffic as it would in a cluster): the node's ClusterIPs are unreachable on purpose
(tests/stack/kubernetes.py), its pod IPs live on the suite's own engine bridge."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Callable

from drone_kit.clients.cluster_objects import ClusterObjects

Targets = Callable[[], list[tuple[str, int]]]


class Forward:
    def __init__(self, targets: Targets, port: int = 0) -> None:
        self.targets = targets
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._turn = itertools.count()
        threading.Thread(target=self._accept, daemon=True, name=f"forward :{self.port}").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self.connections += 1
        targets = self.targets()
        try:
            if not targets:
                return  # as kube-proxy rejects a Service with no ready endpoint
            with socket.create_connection(targets[next(self._turn) % len(targets)], timeout=5) as upstream:
                upstream.settimeout(None)  # a registry may think for minutes over a large upload
                back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
                back.start()
                _pipe(client, upstream)
                back.join()
        except OSError:
            pass
        finally:
            client.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)  # the other direction may still be sending
        except OSError:
            pass


def service_endpoints(cluster: ClusterObjects, namespace: str, service: str, port_name: str) -> Targets:
    """(pod IP, port) of every ready endpoint of the Service, at each call (its Endpoints object:
    the test node's API server may predate discovery.k8s.io/v1)."""
    def ready() -> list[tuple[str, int]]:
        endpoints = cluster.get("v1", "Endpoints", service, namespace) or {}
        found = []
        for subset in endpoints.get("subsets") or []:
            ports = [p["port"] for p in subset.get("ports") or [] if p.get("name") == port_name]
            found += [(address["ip"], port) for address in subset.get("addresses") or [] for port in ports]
        return sorted(found)
    return ready


def free_node_port() -> int:
    """A port in Kubernetes' NodePort range that nothing on loopback listens on."""
    for port in range(30000 + (threading.get_native_id() % 2000), 32768):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 30000-32767 on loopback")
