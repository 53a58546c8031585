"""A small client for the Docker Registry HTTP API v2 (the OCI distribution spec).

Used to confirm what was pushed, to resolve tags to digests, and to add tags by re-putting a
manifest, which moves no layer. Errors from `requests` are translated here into RegistryError.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass

import requests

from drone_kit.errors import DroneKitError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)


class RegistryError(DroneKitError):
    pass


@dataclass(frozen=True)
class Manifest:
    media_type: str
    digest: str
    body: bytes


def sha256_digest(data: bytes) -> str:
    """Pure: the content digest the registry uses for these bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryClient:
    """One registry, e.g. RegistryClient("192.168.1.70:30500", scheme="http")."""

    def __init__(
        self,
        host: str,
        scheme: str = "https",
        auth: tuple[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.scheme = scheme
        self.base_url = f"{scheme}://{host}/v2"
        self.session = session or requests.Session()
        self.session.auth = auth
        self.timeout = timeout

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        url = self.base_url + path
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as e:
            raise RegistryError(
                f"registry {self.host} is unreachable: {type(e).__name__}",
                hint="check the registry address and that it is running",
            ) from e
        if response.status_code == 401:
            raise RegistryError(
                f"registry {self.host} refused the credentials for {method} {path}",
                hint="check the username and password settings",
            )
        return response

    def _fail(self, response: requests.Response, what: str) -> RegistryError:
        return RegistryError(f"registry {self.host}: {what} failed: HTTP {response.status_code} {response.text[:300]}")

    def ping(self) -> None:
        response = self._request("GET", "/")
        if response.status_code != 200:
            raise self._fail(response, "GET /v2/")

    def manifest(self, name: str, reference: str) -> Manifest | None:
        """The manifest under a tag or digest, checked against its digest; None if absent."""
        response = self._request("GET", f"/{name}/manifests/{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"GET manifest {name}:{reference}")
        digest = sha256_digest(response.content)
        announced = response.headers.get("Docker-Content-Digest", digest)
        if announced != digest or (reference.startswith("sha256:") and reference != digest):
            raise RegistryError(f"registry {self.host}: manifest {name}@{reference} does not match its digest {digest}")
        return Manifest(response.headers.get("Content-Type", ""), digest, response.content)

    def manifest_digest(self, name: str, reference: str) -> str | None:
        """The digest a tag points to (HEAD, no body); None if absent."""
        response = self._request("HEAD", f"/{name}/manifests/{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"HEAD manifest {name}:{reference}")
        return response.headers["Docker-Content-Digest"]

    def put_manifest(self, name: str, reference: str, manifest: Manifest) -> str | None:
        """Store a manifest under a tag or digest; the digest the registry says it stored, if it says."""
        response = self._request(
            "PUT", f"/{name}/manifests/{reference}", data=manifest.body, headers={"Content-Type": manifest.media_type}
        )
        if response.status_code != 201:
            raise self._fail(response, f"PUT manifest {name}:{reference}")
        return response.headers.get("Docker-Content-Digest")

    def blob(self, name: str, digest: str) -> bytes:
        """A blob's bytes, checked against its digest."""
        response = self._request("GET", f"/{name}/blobs/{digest}")
        if response.status_code != 200:
            raise self._fail(response, f"GET blob {name}@{digest}")
        if sha256_digest(response.content) != digest:
            raise RegistryError(f"registry {self.host}: blob {name}@{digest} does not match its digest")
        return response.content

    def upload_blob(self, name: str, data: bytes) -> str:
        """Store a blob in one request where the registry allows it (else POST, then PUT); its digest."""
        digest = sha256_digest(data)
        headers = {"Content-Type": "application/octet-stream"}
        started = self._request("POST", f"/{name}/blobs/uploads/", params={"digest": digest}, data=data, headers=headers)
        if started.status_code == 201:
            return digest
        if started.status_code != 202 or "Location" not in started.headers:
            raise self._fail(started, f"POST blob upload to {name}")
        location = started.headers["Location"]
        url = location if location.startswith("http") else f"{self.base_url.rsplit('/v2', 1)[0]}{location}"
        try:
            finished = self.session.put(url, params={"digest": digest}, data=data, timeout=self.timeout, headers=headers)
        except requests.ConnectionError as e:
            raise RegistryError(f"registry {self.host} is unreachable: {type(e).__name__}") from e
        if finished.status_code != 201:
            raise self._fail(finished, f"PUT blob {digest} to {name}")
        return digest

    def tags(self, name: str) -> list[str]:
        response = self._request("GET", f"/{name}/tags/list")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise self._fail(response, f"GET tags of {name}")
        return response.json().get("tags") or []


_INSECURE_WORDS = {"auto": "probe", "true": "http", "yes": "http", "1": "http", "false": "https", "no": "https", "0": "https"}


def listed_insecure(insecure: list[str]) -> list[str]:
    """Pure: the hosts and CIDRs an `insecure` setting names ([] for auto, true or false)."""
    return [] if len(insecure) <= 1 and all(w.strip().lower() in _INSECURE_WORDS for w in insecure) else list(insecure)


def scheme_rule(host: str, insecure: list[str]) -> str:
    """Pure: "http", "https" or "probe" for a registry, from the `insecure` setting.

    `auto` probes; `true` / `false` force plain HTTP / HTTPS; otherwise the setting lists hosts
    (host or host:port) and CIDRs served over plain HTTP, and everything else is HTTPS.
    """
    listed = listed_insecure(insecure)
    if not listed:
        return _INSECURE_WORDS[insecure[0].strip().lower()] if insecure else "probe"
    hostname = split_host(host)[0]
    for entry in (word.strip().lower() for word in listed):
        if entry in (host.lower(), hostname.lower()):
            return "http"
        try:
            if ipaddress.ip_address(hostname) in ipaddress.ip_network(entry, strict=False):
                return "http"
        except ValueError:
            continue
    return "https"


def _speaks_tls(hostname: str, port: int, timeout: float) -> bool | None:
    """Whether a TLS handshake succeeds there (certificates unchecked: only the protocol is
    asked); None when nothing accepts the connection."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((hostname, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=hostname):
                return True
    except ssl.SSLError:
        return False
    except OSError:
        return None


def split_host(host: str) -> tuple[str, int | None]:
    """Pure: ("reg.lab", 5000) for "reg.lab:5000"; the port is None when not given."""
    hostname, colon, port = host.rpartition(":")
    if colon and port.isdigit() and (hostname.endswith("]") or ":" not in hostname):
        return hostname.strip("[]"), int(port)
    return host.strip("[]"), None


def probe_scheme(host: str, timeout: float = 5.0) -> str:
    """"https" if the registry at `host` speaks TLS, else "http" if it accepts plain connections.

    A TLS handshake alone answers this, so no certificate store is loaded for a plain-HTTP registry.
    """
    hostname, port = split_host(host)
    tls = _speaks_tls(hostname, port or 443, timeout)
    if tls is None and port is None:
        tls = False if _speaks_tls(hostname, 80, timeout) is not None else None
    if tls is None:
        raise RegistryError(f"registry {host} is unreachable: nothing accepts connections there",
                            hint="check the registry address and that it is running")
    return "https" if tls else "http"
