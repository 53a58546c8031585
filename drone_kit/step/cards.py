"""Drone cards: a step's summary shown on the build page, and the templates that render it.

The Kubernetes and Docker runners set DRONE_CARD_PATH=/dev/stdout and pick the card out of the
log by an escape sequence; with any other path the card JSON is written to that file. Drone's UI
fetches the card's `schema` URL (the shim serves the templates at /cards/<kind>.json, and
DRONE_KIT_CARDS_URL points the plugins at it) and fills that template with the card's `data`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from drone_kit.step.progress import TextOut

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


def write_card(card_path: str, kind: str, data: dict[str, Any], stdout: TextOut, cards_url: str = "") -> bool:
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


FACTS = {
    "image": [("Image", "${image}"), ("Tags", "${join(tags, ', ')}"), ("Platforms", "${join(platforms, ', ')}"),
              ("Size", "${size} bytes"), ("Commit", "${commit}"), ("Build", "${timings.total_seconds} s")],
    "deploy": [("Outcome", "${outcome}"), ("Namespace", "${namespace}"), ("Image", "${image}"),
               ("Detected in", "${detect_seconds} s"), ("Rolled back in", "${rollback_seconds} s"),
               ("Why", "${failure.message}")],
    "verify": [("Outcome", "${outcome}"), ("Rollback", "${rollback}")],
}
TITLES = {"image": "Image pushed", "deploy": "Rollout", "verify": "Verification"}


def card_template(kind: str) -> dict | None:
    """Pure: the adaptive card for a kind of result, or None for an unknown kind."""
    if kind not in FACTS:
        return None
    body = [{"type": "TextBlock", "text": TITLES[kind], "weight": "bolder", "size": "medium"},
            {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in FACTS[kind]]}]
    if kind == "verify":
        body.append({"type": "FactSet", "$data": "${checks}",
                     "facts": [{"title": "${name}", "value": "${outcome}: ${value} (expected ${expected})"}]})
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.5", "body": body}
