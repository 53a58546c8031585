"""MetalLB's pinned manifest: downloaded (here from a loopback server standing in for GitHub),
checked against its sha256, cached for offline re-runs, and parsed into objects."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from drone_kit.platform.config import MetallbSection
from drone_kit.platform.upstream_manifest import (
    ManifestError,
    cache_path,
    default_cache_dir,
    load_manifest_text,
    metallb_objects,
    parse_manifest,
)
from tests.paths import METALLB_MANIFEST

REFERENCE = METALLB_MANIFEST


def reference_body() -> bytes:
    if not REFERENCE.is_file():
        # Allowed even in CI: the reference copy is another project's file that only this
        # workplace holds (its README says so); it is never committed here.
        pytest.skip(f"MetalLB's reference manifest is not here ({REFERENCE}): it exists only in the workplace")
    return REFERENCE.read_bytes()


class Served:
    """A loopback HTTP server answering every GET with `body` (or `status`), counting requests."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status, self.requests = body, status, 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.requests += 1
                self.send_response(served.status)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metallb/v0.16.1/metallb-native.yaml"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator:
    started: list[Served] = []

    def start(body: bytes, status: int = 200) -> Served:
        started.append(Served(body, status))
        return started[-1]

    yield start
    for served in started:
        served.stop()


def pinned(url: str, body: bytes) -> MetallbSection:
    return MetallbSection(manifest_url=url, manifest_sha256=hashlib.sha256(body).hexdigest())


def test_the_pinned_sha256_is_the_reference_copys():
    assert MetallbSection().manifest_sha256 == hashlib.sha256(reference_body()).hexdigest()


def test_the_first_fetch_downloads_checks_and_caches(serve, tmp_path):
    body = reference_body()
    served = serve(body)
    section = pinned(served.url, body)
    assert load_manifest_text(section, tmp_path).encode() == body
    assert served.requests == 1
    assert cache_path(tmp_path, section.manifest_sha256).read_bytes() == body


def test_a_second_fetch_works_with_the_server_stopped(serve, tmp_path):
    body = reference_body()
    served = serve(body)
    section = pinned(served.url, body)
    load_manifest_text(section, tmp_path)
    served.stop()
    assert load_manifest_text(section, tmp_path).encode() == body
    assert served.requests == 1


def test_a_tampered_download_is_refused_and_not_cached(serve, tmp_path):
    body = reference_body()
    tampered = body.replace(b"quay.io/metallb/controller", b"evil.example/controller")
    served = serve(tampered)
    section = pinned(served.url, body)
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(section, tmp_path)
    message = raised.value.message
    assert "metallb.manifest_sha256" in message and "metallb.manifest_url" in message
    assert section.manifest_sha256 in message and hashlib.sha256(tampered).hexdigest() in message
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_cached_copy_is_downloaded_again(serve, tmp_path):
    body = reference_body()
    served = serve(body)
    section = pinned(served.url, body)
    copy = cache_path(tmp_path, section.manifest_sha256)
    copy.write_bytes(body[:1000])  # a copy cut short
    assert load_manifest_text(section, tmp_path).encode() == body
    assert served.requests == 1 and copy.read_bytes() == body


def test_no_network_and_no_cache_says_where_to_put_a_copy_by_hand(serve, tmp_path):
    served = serve(b"")
    served.stop()
    section = pinned(served.url, b"anything")
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(section, tmp_path / "cache")
    assert "metallb.manifest_url" in raised.value.message and "no answer" in raised.value.message
    wanted = cache_path(tmp_path / "cache", section.manifest_sha256)
    assert str(wanted) in raised.value.hint and section.manifest_url in raised.value.hint
    assert not wanted.exists()


def test_a_damaged_cached_copy_is_never_used_offline(serve, tmp_path):
    served = serve(b"")
    served.stop()
    section = pinned(served.url, b"the real manifest")
    cache_path(tmp_path, section.manifest_sha256).write_bytes(b"not the real manifest")
    with pytest.raises(ManifestError, match="cannot download"):
        load_manifest_text(section, tmp_path)


def test_an_http_error_is_named(serve, tmp_path):
    served = serve(b"404: Not Found", status=404)
    with pytest.raises(ManifestError, match="HTTP 404"):
        load_manifest_text(pinned(served.url, b"x"), tmp_path)


def test_the_cache_lives_under_xdg_cache_home_or_home():
    assert default_cache_dir({"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"}) == Path("/x/cache/drone-kit/manifests")
    assert default_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/drone-kit/manifests")
    # The XDG spec: a relative path is ignored.
    relative = default_cache_dir({"XDG_CACHE_HOME": "cache", "HOME": "/home/u"})
    assert relative == Path("/home/u/.cache/drone-kit/manifests")


def test_the_parsed_reference_holds_metallbs_objects(serve, tmp_path):
    body = reference_body()
    served = serve(body)
    objects = metallb_objects(pinned(served.url, body), tmp_path)
    found = {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}
    assert objects[0]["kind"] == "Namespace" and objects[0]["metadata"]["name"] == "metallb-system"
    assert ("Deployment", "controller") in found and ("DaemonSet", "speaker") in found
    assert {"ipaddresspools.metallb.io", "l2advertisements.metallb.io"} <= {
        name for kind, name in found if kind == "CustomResourceDefinition"}
    certificate = found[("Secret", "metallb-webhook-cert")]
    assert "data" not in certificate and "stringData" not in certificate  # the controller fills it
    webhooks = found[("ValidatingWebhookConfiguration", "metallb-webhook-configuration")]["webhooks"]
    assert {"ipaddresspoolvalidationwebhook.metallb.io", "l2advertisementvalidationwebhook.metallb.io"} <= {
        webhook["name"] for webhook in webhooks}
    assert len(objects) == body.count(b"\n---\n") + 1  # every document, none lost


def test_parsing_skips_empty_documents_and_keeps_order():
    text = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Secret\n" \
           "metadata: {name: b, namespace: a}\n"
    assert [(obj["kind"], obj["metadata"]["name"]) for obj in parse_manifest(text)] == [("Namespace", "a"),
                                                                                         ("Secret", "b")]


@pytest.mark.parametrize("text", ["apiVersion: v1\nkind: [unclosed\n", "- just\n- a list\n",
                                  "apiVersion: v1\nkind: Namespace\n"])
def test_what_is_not_a_manifest_of_objects_is_an_error(text):
    with pytest.raises(ManifestError, match="MetalLB's manifest"):
        parse_manifest(text)
