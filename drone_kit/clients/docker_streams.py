"""Reading the JSON streams Docker sends while building and pushing. Pure: fed with dicts.

Both streams report failure *inside* the stream (an `error` object), never through the HTTP
status, so a consumer that does not read to the end misses failed pushes.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

TAIL_LINES = 20
# The classic builder's own bookkeeping, not the output of the instruction being run.
_BUILDER_NOISE = re.compile(r"^( ---> |Removing intermediate container |Successfully (built|tagged) )")


@dataclass
class BuildProgress:
    step: str = ""  # e.g. "Step 3/5 : RUN make", the instruction being run
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    image_id: str | None = None
    error: str | None = None
    _partial: str = ""

    def feed(self, event: dict) -> list[str]:
        """Take one event; the complete log lines it adds."""
        if "error" in event:
            self.error = (event.get("errorDetail") or {}).get("message") or event["error"]
            return []
        if "aux" in event and isinstance(event["aux"], dict) and "ID" in event["aux"]:
            self.image_id = event["aux"]["ID"]
        text = self._partial + event.get("stream", "")
        *lines, self._partial = text.split("\n")
        for line in lines:
            if re.match(r"^Step \d+/\d+ : ", line):
                self.step = line
                self.tail.clear()
            elif line.strip() and not _BUILDER_NOISE.match(line):
                self.tail.append(line)
            match = re.match(r"^Successfully built ([0-9a-f]+)$", line)
            if match and not self.image_id:
                self.image_id = match.group(1)
        return lines

    def finish(self) -> list[str]:
        rest, self._partial = self._partial, ""
        return [rest] if rest else []


@dataclass
class PushProgress:
    layers: dict[str, str] = field(default_factory=dict)  # layer id -> last status
    uploaded: set[str] = field(default_factory=set)
    reused: set[str] = field(default_factory=set)
    digest: str | None = None
    size: int | None = None
    error: str | None = None

    def feed(self, event: dict) -> list[str]:
        """Take one event; a log line for each layer state change (byte progress is not logged)."""
        if "error" in event:
            self.error = (event.get("errorDetail") or {}).get("message") or event["error"]
            return []
        aux = event.get("aux")
        if isinstance(aux, dict) and "Digest" in aux:
            self.digest, self.size = aux["Digest"], aux.get("Size")
            return []
        layer, status = event.get("id"), event.get("status", "")
        if not layer or status in ("Preparing", "Waiting"):
            return []
        if self.layers.get(layer) == status:
            return []
        self.layers[layer] = status
        if status == "Pushing":
            total = (event.get("progressDetail") or {}).get("total")
            return [f"layer {layer}: uploading" + (f" ({total / 1e6:.1f} MB)" if total else "")]
        if status == "Pushed":
            self.uploaded.add(layer)
            return [f"layer {layer}: uploaded"]
        if status == "Layer already exists" or status.startswith("Mounted from"):
            self.reused.add(layer)
            return [f"layer {layer}: already in the registry"]
        return [f"layer {layer}: {status.lower()}"]
