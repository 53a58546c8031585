"""One webhook POST as Gitea's Go HTTP client makes it: the allowed-host check on the resolved
address before connecting (modules/hostmatcher/http.go), a `Go-http-client/1.1` user agent, one
attempt within the deliver timeout, and Go's wording for what went wrong, which Gitea keeps as
the task's response body (`Delivery: Post "<url>": …`).
"""

from __future__ import annotations

import gzip
import http.client
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

from tests.fakes.gitea_hostlist import HostList


def _ip_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def post(url: str, headers: dict[str, str], body: bytes, allowed_host_list: str,
         timeout: float, routes: Mapping[str, tuple[str, int]] | None = None) -> tuple[int, dict[str, str], str]:
    """(status, response headers, response body); status 0 and "Delivery: …" when nothing came back.
    `routes` ("host:port" → (ip, port)) stands for the cluster's DNS and Service routing, for an
    in-cluster address (http://shim.drone-kit.svc/hook) served on loopback by a test."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    failed = f'Delivery: Post "{url}": '
    routed = (routes or {}).get(f"{host}:{port}")
    try:
        ip = routed[0] if routed else str(socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0][4][0])
    except socket.gaierror:
        return 0, {}, failed + f"dial tcp: lookup {host}: no such host"
    port = routed[1] if routed else port
    allowed = HostList(allowed_host_list or "external")
    if not allowed.allows(host, ip):
        return 0, {}, failed + f"dial tcp {_ip_port(ip, port)}: " + allowed.refusal(host, _ip_port(ip, port))
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(ip, port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {"Host": parts.netloc.rpartition("@")[2], "User-Agent": "Go-http-client/1.1",
            "Accept-Encoding": "gzip", **headers}
    try:
        connection.request("POST", path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
    except TimeoutError:
        return 0, {}, failed + "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    except ConnectionRefusedError:
        return 0, {}, failed + f"dial tcp {_ip_port(ip, port)}: connect: connection refused"
    except OSError as e:
        return 0, {}, failed + str(e)
    finally:
        connection.close()
    if response.getheader("Content-Encoding") == "gzip":
        data = gzip.decompress(data)  # Go's transport undoes the gzip it asked for
    return response.status, dict(response.getheaders()), data.decode(errors="replace")
