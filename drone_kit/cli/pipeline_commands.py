"""`drone_kit lint` and `drone_kit exec`: check a .drone.yml, and run one of its pipelines here."""

from __future__ import annotations

import os
from pathlib import Path

import click

from drone_kit.clients.containers import ContainerEngine
from drone_kit.errors import DroneKitError
from drone_kit.pipelines.checks import lint_failure, problem_lines
from drone_kit.pipelines.document import read_drone_yml
from drone_kit.pipelines.lint import lint, secrets_used
from drone_kit.pipelines.local_run import run_exec
from drone_kit.pipelines.masks import mask_error, secret_masker
from drone_kit.plugins.catalog import PLUGINS
from drone_kit.step.plugin import masked_std_streams


@click.command("lint")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), default=".drone.yml")
@click.option("--secret", "secrets", multiple=True, metavar="NAME",
              help="A secret the repository has in Drone (repeatable); then every from_secret must be one of them.")
def lint_command(file: Path, secrets: tuple[str, ...]) -> None:
    """Check a .drone.yml for what Drone silently ignores: unknown keys, misspelled drone_kit
    plugin settings, bad setting values, depends_on typos, `paths` conditions, missing secrets."""
    documents = read_drone_yml(file)
    problems = lint(documents, PLUGINS, set(secrets) if secrets else None)
    for line in problem_lines(file, problems):
        click.echo(line, err=True)
    needed = sorted(set().union(*(secrets_used(d.data) for d in documents))) if documents else []
    if needed and not secrets:
        click.echo(f"{file}: needs the secrets {', '.join(needed)} (check them with --secret NAME)", err=True)
    failure = lint_failure(file, problems)
    if failure:
        raise failure
    click.echo(f"{file}: ok" + (f" ({len(problems)} warnings)" if problems else ""), err=True)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise DroneKitError(f"{option} {value!r} is not NAME=VALUE", hint=f"e.g. {option} registry_password=…")
        pairs[key] = text
    return pairs


def _connect() -> ContainerEngine:
    return ContainerEngine.from_environment(os.environ)


@click.command("exec")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), default=".drone.yml")
@click.option("--pipeline", "pipeline_name", help="Which pipeline of the file (default: the first).")
@click.option("--secret", "secret_pairs", multiple=True, metavar="NAME=VALUE",
              help="A secret for from_secret (repeatable); its value is masked in everything exec prints.")
@click.option("--secrets-file", type=click.Path(dir_okay=False, path_type=Path), help="Secrets as NAME=VALUE lines.")
@click.option("--env", "env_pairs", multiple=True, metavar="NAME=VALUE",
              help="Set or override a DRONE_* variable (e.g. DRONE_BUILD_EVENT=tag) (repeatable).")
@click.option("--trusted", is_flag=True, help="Allow privileged steps and host volumes, as a trusted repository.")
@click.option("--network", type=click.Choice(["bridge", "host"]), default="bridge", show_default=True,
              help="host: steps reach services on this machine's loopback (a local registry or API).")
def exec_command(file: Path, pipeline_name: str | None, secret_pairs: tuple[str, ...], secrets_file: Path | None,
                 env_pairs: tuple[str, ...], trusted: bool, network: str) -> None:
    """Run a pipeline of FILE (docker or kubernetes type) on the Docker engine at DOCKER_HOST,
    the way Drone's runner would: workspace at /drone/src with this checkout, PLUGIN_* from
    settings, DRONE_* from git, services by name, depends_on (independent steps at the same time),
    when and trigger conditions, secrets masked. The file is checked as `lint` checks it first."""
    secrets = _pairs(secret_pairs, "--secret")
    if secrets_file:
        try:
            lines = secrets_file.read_text().splitlines()
        except OSError as e:
            raise DroneKitError(f"cannot read {secrets_file}: {e.strerror}",
                                hint="give a file of NAME=VALUE lines") from e
        secrets.update(_pairs(tuple(line for line in lines if line.strip() and not line.startswith("#")),
                              "--secrets-file"))
    masker = secret_masker(secrets.values())
    # run_exec masks its own lines and errors; this also covers whatever else reaches the streams
    # (log records of the clients, an error raised here).
    try:
        with masked_std_streams(masker):
            code = run_exec(file, pipeline_name, secrets, _pairs(env_pairs, "--env"), trusted, network == "host",
                            _connect, lambda line: click.echo(line, err=True), plugins=PLUGINS)
    except DroneKitError as e:
        mask_error(e, masker)
        raise
    raise SystemExit(code)
