"""An HTTP server for fakes: a request handler class served on 127.0.0.1 from a background thread.

    class Hello(FakeHandler):
        def do_GET(self):
            self.answer(200, "hello", "text/plain")

    with LoopbackServer(Hello) as server:
        requests.get(server.url + "/path")

The port is chosen by the system on the first start and kept, so a fake can be taken down
(`stop`) and brought back (`start`) where its clients expect it, as a restarted service would be.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeHandler(BaseHTTPRequestHandler):
    """A fake service's request handler: HTTP/1.1 with keep-alive, as the real services speak it."""

    protocol_version = "HTTP/1.1"

    def answer(self, status: int, body: object = b"", content_type: str | None = "application/json",
               headers: dict[str, str] | None = None) -> None:
        """Answer with bytes or text as they are, anything else as JSON; no Content-Type when
        `content_type` is None (a Go handler that writes no body sends none)."""
        text = body if isinstance(body, bytes | str) else json.dumps(body)
        data = text if isinstance(text, bytes) else text.encode()
        self.send_response(status)
        typed = {"Content-Type": content_type} if content_type is not None else {}
        for name, value in {**typed, **(headers or {}), "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass  # a line per request on stderr would bury the test's own output


class _Server(ThreadingHTTPServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Every open connection cut, as the end of a process cuts them: a client's kept-alive
        connection must not go on being served by a stopped server."""
        with self._connections_lock:
            open_now = list(self._connections)
        for connection in open_now:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed mid-request is a test's doing
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class LoopbackServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.handler = handler
        self.port = 0  # the system's choice on the first start, kept for every start after it
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), self.handler)
        # Daemon request threads: a client holding a connection open (a watch) must not block stop().
        server.daemon_threads = True
        self.port = server.server_address[1]
        # A short poll: stop() waits for the serving loop to notice, and a test waits for stop().
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.handler.__name__}:{self.port}", daemon=True)
        self._thread.start()
        self._server = server

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
