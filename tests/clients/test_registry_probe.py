"""Probing whether a registry speaks TLS or plain HTTP, against real servers on loopback."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading

import pytest

from drone_kit.clients.registry import RegistryError, probe_scheme
from tests.stack.registry import free_port
from tests.stack.require import require_binary


@pytest.fixture
def tls_server(tmp_path):
    openssl = require_binary("openssl", "openssl")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")], check=True,
                   capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve():
        try:
            connection, _ = listener.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    thread.join(5)


def test_a_tls_registry_is_https(tls_server):
    assert probe_scheme(tls_server) == "https"


def test_a_plain_registry_is_http(registry):
    assert probe_scheme(registry.host) == "http"


def test_nothing_listening_is_unreachable():
    with pytest.raises(RegistryError, match="is unreachable"):
        probe_scheme(f"127.0.0.1:{free_port()}")
