"""Pure facts about container images: references (`host:port/name:tag@digest`), platforms and
image indexes, manifests and their media types, and the rules for which registries speak plain
HTTP.

No I/O: imports only `drone_kit.errors` and the standard library. The clients that talk to a
registry or an engine use these facts; they never live here.
"""
