"""The registry client's retries against a real HTTP server on loopback that answers as a
registry under load does: 503 for a while, then the manifest."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler

from drone_kit.clients.registry import RegistryClient
from drone_kit.images.manifests import OCI_MANIFEST, sha256_digest
from tests.fakes.http_server import FakeHandler, LoopbackServer

MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": OCI_MANIFEST,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 1470,
               "digest": "sha256:" + "c" * 64},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 3370706,
                "digest": "sha256:" + "d" * 64}],
}).encode()
ERRORS = {503: {"code": "UNAVAILABLE", "message": "service unavailable"},
          404: {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"Tag": "v1"}}}


def registry_answering(*statuses: int) -> tuple[type[BaseHTTPRequestHandler], list[str]]:
    """A registry handler that answers `statuses` in turn and the manifest after them, and the
    list of request lines it saw."""
    remaining, seen = list(statuses), []

    class Registry(FakeHandler):
        def do_GET(self):
            seen.append(f"{self.command} {self.path}")
            status = remaining.pop(0) if remaining else 200
            if status == 200:
                self.answer(200, MANIFEST, OCI_MANIFEST, {"Docker-Content-Digest": sha256_digest(MANIFEST)})
            else:
                self.answer(status, {"errors": [ERRORS[status]]})

    return Registry, seen


def test_503s_are_retried_until_the_manifest_comes(caplog):
    handler, seen = registry_answering(503, 503)
    sleeps: list[float] = []
    with LoopbackServer(handler) as server, caplog.at_level(logging.WARNING, "drone_kit.clients.retry"):
        host = f"127.0.0.1:{server.port}"
        manifest = RegistryClient(host, scheme="http", sleep=sleeps.append).manifest("demo/app", "v1")
    assert manifest is not None and manifest.digest == sha256_digest(MANIFEST) and manifest.media_type == OCI_MANIFEST
    assert seen == ["GET /v2/demo/app/manifests/v1"] * 3
    assert len(sleeps) == 2
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        f"registry {host}: GET /demo/app/manifests/v1 answered 503"] * 2


def test_a_missing_manifest_is_asked_for_once():
    handler, seen = registry_answering(404)
    with LoopbackServer(handler) as server:
        client = RegistryClient(f"127.0.0.1:{server.port}", scheme="http", sleep=lambda seconds: None)
        assert client.manifest("demo/app", "v1") is None
    assert seen == ["GET /v2/demo/app/manifests/v1"]
