"""The fakes' loopback server: it serves, it stops for real, and it comes back on its port, which
is what the shim's Drone-restart test relies on."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.fakes.http_server import FakeHandler, LoopbackServer


class Pong(FakeHandler):
    def do_GET(self):
        self.answer(200, "pong", "text/plain")


def test_serves_on_loopback_and_comes_back_on_the_same_port():
    with LoopbackServer(Pong) as server:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}" and port > 0
        assert requests.get(f"{server.url}/ping", timeout=5).text == "pong"
        server.stop()
        assert not server.running
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.url}/ping", timeout=5)
        server.start()
        assert server.port == port
        assert requests.get(f"{server.url}/ping", timeout=5).text == "pong"
    assert not server.running


def test_stop_does_not_wait_for_a_client_that_holds_its_connection():
    answering, released = threading.Event(), threading.Event()

    class Stalled(FakeHandler):
        def do_GET(self):
            answering.set()
            released.wait(30)  # as a watch streams for its whole timeout

    server = LoopbackServer(Stalled)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(b"GET /watch HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answering.wait(5)
        started = time.monotonic()
        server.stop()
        stopped_in = time.monotonic() - started
        released.set()
    assert stopped_in < 2


def test_a_kept_alive_connection_is_not_served_after_stop():
    """As a stopped process: a client's pooled connection (the shim's to Drone) is cut, not served on."""
    with LoopbackServer(Pong) as server, requests.Session() as session:
        assert session.get(f"{server.url}/ping", timeout=5).text == "pong"  # the connection stays in the pool
        server.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(f"{server.url}/ping", timeout=5)
