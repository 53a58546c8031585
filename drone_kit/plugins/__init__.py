"""drone_kit's Drone plugins, one subpackage each, matching the repository's `plugins/<name>/`
folders (Dockerfile and docs): `build_push`, `deploy`, `verify`; `catalog` lists them by name.

A feature package: builds on the step contract, clients, images and rollouts; never imports the
shim, pipelines, platform or the CLI.
"""
