"""How Drone's Go handlers write their answers, byte for byte where a client could notice: JSON
as Go's encoder writes it, errors as `{"message": …}`, and the router's own 404.

Sources (read, not copied; harness/harness, branch `drone`): handler/api/render/render.go and
handler/web/writer.go (JSON with a trailing newline, errors as `errors.Error`), handler/api/errors/
errors.go (the messages), handler/health/health.go, and go-chi's default NotFound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Go's encoder escapes these so JSON can sit in HTML; a client comparing bytes would see it.
GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
UNAUTHORIZED = "Unauthorized"  # errors.ErrUnauthorized: a guest where a user is needed
NOT_FOUND = "Not Found"  # errors.ErrNotFound: a repository the user cannot see or Drone does not have


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    content_type: str | None = None  # None: the handler wrote no body, so Go sent no Content-Type


def go_json(value: object) -> bytes:
    """`json.NewEncoder(w).Encode(value)`: compact, UTF-8, HTML characters escaped, newline-ended."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, escaped in GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return (text + "\n").encode()


def json_answer(status: int, value: object) -> Answer:
    return Answer(status, go_json(value), "application/json")


def error_answer(status: int, message: str) -> Answer:
    """render.ErrorCode / writeErrorCode: every Drone error is `{"message": "…"}`."""
    return json_answer(status, {"message": message})


def nothing(status: int = 200) -> Answer:
    """A handler that returned without writing (200) or wrote only a status."""
    return Answer(status)


def route_not_found() -> Answer:
    """chi's answer to a path no route matches: net/http's plain-text 404."""
    return Answer(404, b"404 page not found\n", "text/plain; charset=utf-8")


def method_not_allowed() -> Answer:
    """chi's answer to a known path asked with another method: 405 and no body."""
    return Answer(405)


def healthy() -> Answer:
    """/healthz: a plain "OK" whatever the state of the database."""
    return Answer(200, b"OK", "text/plain; charset=utf-8")
