import json
from datetime import UTC, datetime

import pytest

from drone_kit.shim.signatures import (
    body_digest,
    drone_event_problem,
    drone_signature,
    gitea_hook_authentic,
    gitea_signature,
)
from tests.paths import FIXTURES

GITEA = FIXTURES / "gitea"
VECTORS = json.loads((GITEA / "signatures.json").read_text())
DRONE_BODY = (b'{"event":"user","action":"created","user":{"id":0,"login":"octocat","email":"","machine":false,'
              b'"admin":false,"active":false,"avatar":"","syncing":false,"synced":0,"created":0,"updated":0,'
              b'"last_login":0}}')
DRONE_SECRET = "GMEuUHQfmrMRsseWxi9YlIeBtn9lm6im"
DATE = "Wed, 01 Jan 2020 00:00:00 GMT"


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_gitea_vectors(name):
    body, vector = (GITEA / name).read_bytes(), VECTORS[name]
    assert len(body) == vector["bytes"]
    assert gitea_signature(body, vector["secret"]) == vector["X-Gitea-Signature"]
    assert gitea_hook_authentic(body, vector["X-Gitea-Signature"], "", vector["secret"])
    assert not gitea_hook_authentic(body + b" ", vector["X-Gitea-Signature"], "", vector["secret"])
    assert not gitea_hook_authentic(body, vector["X-Gitea-Signature"], "", "other")


@pytest.mark.parametrize("header, query, ok", [("", "s3cret", True), ("", "wrong", False), ("", "", False),
                                                ("00ff", "s3cret", False)])
def test_gitea_query_secret_only_when_the_header_is_empty(header, query, ok):
    assert gitea_hook_authentic(b"{}", header, query, "s3cret") is ok


def test_drone_vector():
    assert body_digest(DRONE_BODY) == "SHA-256=bw+FzoGHHfDn+x1a2CDnH9RyUxhWgEP4m68MDZSw73c="
    headers = {"date": DATE, "digest": body_digest(DRONE_BODY)}
    assert drone_signature(DRONE_SECRET, headers, ["date", "digest"]) == "Bc5kojyKm/sgX6I1rag0RlJDwWzO+ZEYz5AcOy22CqQ="


def signed(body=DRONE_BODY, date=DATE, secret=DRONE_SECRET, header="signature"):
    headers = {"date": date, "digest": body_digest(body)}
    signature = drone_signature(secret, headers, ["date", "digest"])
    headers[header] = (f'keyId="hmac-key",algorithm="hmac-sha256",signature="{signature}",headers="date digest"')
    if header == "authorization":
        headers[header] = "Signature " + headers[header]
    return headers


NOW = datetime(2020, 1, 1, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize("headers, body, problem", [
    (signed(), DRONE_BODY, None),
    (signed(header="authorization"), DRONE_BODY, None),
    (signed(secret="other"), DRONE_BODY, "bad signature"),
    (signed() | {"digest": body_digest(b"x")}, DRONE_BODY, "bad signature"),
    (signed(), DRONE_BODY + b" ", "the Digest does not match the body"),
    (signed(date="Tue, 31 Dec 2019 23:00:00 GMT"), DRONE_BODY, "stale Date"),
    ({"date": DATE}, DRONE_BODY, "no signature"),
])
def test_drone_events(headers, body, problem):
    assert drone_event_problem(body, headers, DRONE_SECRET, NOW) == problem
