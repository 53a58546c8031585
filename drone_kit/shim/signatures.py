"""Checking who sent a webhook. Pure.

Gitea signs the raw body: `X-Gitea-Signature` is the hex HMAC-SHA256 keyed with the hook's
secret; Drone registers its hook as `/hook?secret=<signer>` and, when the header is empty,
checks that query parameter instead. Drone's global webhook signs with HTTP Signatures
(draft-cavage): `Signature: keyId=…,algorithm="hmac-sha256",signature=…,headers="date digest"`,
with `Digest: SHA-256=<base64 of the body's sha256>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_CLOCK_SKEW = 300.0  # seconds a signed Date may be off


def gitea_signature(body: bytes, secret: str) -> str:
    # One call into OpenSSL, which lets go of the GIL while it hashes: the outbox writer thread
    # gets the GIL then, without waiting for the interpreter's switch interval (5 ms) while the
    # event loop is busy, so its commits overlap the loop's work. (Fed in pieces under 2 KiB to
    # keep the GIL, it took twice as long and the writer's commits waited behind whole bursts.)
    return hmac.digest(secret.encode(), body, "sha256").hex()


def gitea_hook_authentic(body: bytes, header: str, query_secret: str, secret: str) -> bool:
    """Pure: the header's HMAC of the raw body, else the `secret` query parameter, compared in constant time."""
    if header:
        return hmac.compare_digest(header.strip().lower(), gitea_signature(body, secret))
    return bool(query_secret) and hmac.compare_digest(query_secret.encode(), secret.encode())


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def parse_signature_header(value: str) -> dict[str, str]:
    """Pure: the key="value" pairs of a Signature header (keyId, algorithm, headers, signature)."""
    return {key: val for key, val in re.findall(r'(\w+)="([^"]*)"', value)}


def drone_signature(secret: str, headers: Mapping[str, str], names: list[str], target: str = "") -> str:
    lines = [f"(request-target): {target}" if name == "(request-target)" else f"{name}: {headers[name]}"
             for name in names]
    mac = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def drone_event_problem(body: bytes, headers: Mapping[str, str], secret: str, now: datetime,
                        target: str = "") -> str | None:
    """Pure: why a Drone webhook is not authentic, or None when it is. `headers` have lowercase names."""
    raw = headers.get("signature") or headers.get("authorization", "").removeprefix("Signature ").strip()
    fields = parse_signature_header(raw)
    if not fields.get("signature"):
        return "no signature"
    if fields.get("algorithm", "hmac-sha256") != "hmac-sha256":
        return f"unsupported algorithm {fields['algorithm']!r}"
    names = fields.get("headers", "date").lower().split()
    if "date" not in names:
        return "the signature does not cover the date"
    if any(name not in headers for name in names if name != "(request-target)"):
        return "a signed header is missing"
    expected = drone_signature(secret, headers, names, target)
    if not hmac.compare_digest(expected.encode(), fields["signature"].encode()):
        return "bad signature"
    if "digest" in headers and not hmac.compare_digest(headers["digest"].encode(), body_digest(body).encode()):
        return "the Digest does not match the body"
    try:
        sent = parsedate_to_datetime(headers["date"])
    except (TypeError, ValueError):
        return "unreadable Date"
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs((now - sent).total_seconds()) > MAX_CLOCK_SKEW:
        return "stale Date"
    return None
