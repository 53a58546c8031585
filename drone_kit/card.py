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
CARD_SCHEMA = "https://drone-kit.dev/cards/{kind}.json"


def card_document(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Pure: the card as Drone stores it: the adaptive-card template URL and its data."""
    return {"schema": CARD_SCHEMA.format(kind=kind), "data": data}


def card_escape_sequence(document: dict[str, Any]) -> str:
    """Pure: the log line a runner turns into a card when DRONE_CARD_PATH is /dev/stdout."""
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
    return f"\x1b]1338;{encoded}\x1b]0m\n"


def write_card(card_path: str, kind: str, data: dict[str, Any], stdout: IO[str]) -> bool:
    """Write a card where Drone asked for it; False when not running under Drone (no path)."""
    if not card_path:
        return False
    document = card_document(kind, data)
    if card_path == STDOUT_CARD_PATH:
        stdout.write(card_escape_sequence(document))
        stdout.flush()
    else:
        Path(card_path).write_text(json.dumps(document))
    return True
