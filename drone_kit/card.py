"""Drone cards: a step's summary shown on the build page.

The Kubernetes and Docker runners set DRONE_CARD_PATH=/dev/stdout and pick the card out of the
log by an escape sequence; with any other path the card JSON is written to that file.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import IO, Any

STDOUT_CARD_PATH = "/dev/stdout"
# Where the templates are, unless DRONE_KIT_CARDS_URL (set on the runner) says: the shim serves
# them at /cards. A reserved .invalid name, so nobody else's server can answer for it.
DEFAULT_CARDS_URL = "https://drone-kit.invalid/cards"


def card_document(kind: str, data: dict[str, Any], cards_url: str = "") -> dict[str, Any]:
    """Pure: the card as Drone stores it: the adaptive-card template URL and its data."""
    return {"schema": f"{(cards_url or DEFAULT_CARDS_URL).rstrip('/')}/{kind}.json", "data": data}


def card_escape_sequence(document: dict[str, Any]) -> str:
    """Pure: the log line a runner turns into a card when DRONE_CARD_PATH is /dev/stdout."""
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
    return f"\x1b]1338;{encoded}\x1b]0m\n"


def write_card(card_path: str, kind: str, data: dict[str, Any], stdout: IO[str], cards_url: str = "") -> bool:
    """Write a card where Drone asked for it; False when not running under Drone (no path)."""
    if not card_path:
        return False
    document = card_document(kind, data, cards_url)
    if card_path == STDOUT_CARD_PATH:
        stdout.write(card_escape_sequence(document))
        stdout.flush()
    else:
        Path(card_path).write_text(json.dumps(document))
    return True
