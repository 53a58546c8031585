"""`.drone.yml` files: reading the document with the line of every key, the keys Drone knows,
the plan of a run (substitution, conditions, order, each step's environment), `lint`, and the
local runner behind `drone_kit exec`.

A feature package: runs containers only through `drone_kit.clients.containers`; lint gets the
plugins' declarations passed in by the CLI, so it never imports the plugins, the shim or platform.
"""
