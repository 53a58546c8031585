"""A small client for the Docker Registry HTTP API v2 (the OCI distribution spec).

Used to confirm what was pushed, to resolve tags to digests, and to add tags by re-putting a
manifest, which moves no layer. Errors from `requests` are translated here into RegistryError.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import requests

from drone_kit.clients.retry import send_with_retries
from drone_kit.errors import DroneKitError
from drone_kit.images.manifests import MANIFEST_TYPES, Manifest, sha256_digest
from drone_kit.images.plain_http import split_host


class RegistryError(DroneKitError):
    pass


class RegistryClient:
    """One registry, e.g. RegistryClient("192.168.1.70:30500", scheme="http")."""

    def __init__(
        self,
        host: str,
        scheme: str = "https",
        auth: tuple[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = host
        self.scheme = scheme
        self.base_url = f"{scheme}://{host}/v2"
        self.session = session or requests.Session()
        self.session.auth = auth
        self.timeout, self.attempts, self.sleep = timeout, attempts, sleep

    def _request(self, method: str, path: str, url: str | None = None, **kwargs: Any) -> requests.Response:
        """One request, retried while the registry is unreachable or answers 5xx or 429."""
        try:
            response = send_with_retries(self.session, method, url or self.base_url + path,
                                         f"registry {self.host}: {method} {path}", self.attempts, self.sleep,
                                         timeout=self.timeout, **kwargs)
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
            raise RegistryError(
                f"registry {self.host}: manifest {name}@{reference} does not match its digest {digest}")
        return Manifest(response.headers.get("Content-Type", ""), digest, response.content)

    def manifest_digest(self, name: str, reference: str) -> str | None:
        """The digest a tag points to (HEAD, no body); None if absent."""
        response = self._request("HEAD", f"/{name}/manifests/{reference}",
                                 headers={"Accept": ", ".join(MANIFEST_TYPES)})
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
        started = self._request("POST", f"/{name}/blobs/uploads/", params={"digest": digest}, data=data,
                                headers=headers)
        if started.status_code == 201:
            return digest
        if started.status_code != 202 or "Location" not in started.headers:
            raise self._fail(started, f"POST blob upload to {name}")
        location = started.headers["Location"]
        url = location if location.startswith("http") else f"{self.base_url.rsplit('/v2', 1)[0]}{location}"
        finished = self._request("PUT", f"/{name}/blobs/uploads/<upload>", url=url, params={"digest": digest},
                                 data=data, headers=headers)
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


def _speaks_tls(hostname: str, port: int, timeout: float) -> bool | None:
    """Whether a TLS handshake succeeds there (certificates unchecked: only the protocol is
    asked); None when nothing accepts the connection."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (socket.create_connection((hostname, port), timeout=timeout) as sock,
              context.wrap_socket(sock, server_hostname=hostname)):
            return True
    except ssl.SSLError:
        return False
    except OSError:
        return None


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
