"""The adaptive-card templates Drone renders a step's card with, one per kind of result. Pure.

Drone's UI fetches a card's `schema` URL and fills the template with the card's `data`; the
shim serves these at /cards/<kind>.json (DRONE_KIT_CARDS_URL points the plugins at it).
"""

from __future__ import annotations

FACTS = {
    "image": [("Image", "${image}"), ("Tags", "${join(tags, ', ')}"), ("Platforms", "${join(platforms, ', ')}"),
              ("Size", "${size} bytes"), ("Commit", "${commit}"), ("Build", "${timings.total_seconds} s")],
    "deploy": [("Outcome", "${outcome}"), ("Namespace", "${namespace}"), ("Image", "${image}"),
               ("Detected in", "${detect_seconds} s"), ("Rolled back in", "${rollback_seconds} s"),
               ("Why", "${failure.message}")],
    "verify": [("Outcome", "${outcome}"), ("Rollback", "${rollback}")],
}
TITLES = {"image": "Image pushed", "deploy": "Rollout", "verify": "Verification"}


def template(kind: str) -> dict | None:
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
