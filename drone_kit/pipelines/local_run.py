"""What `drone_kit exec` does with a .drone.yml: check the whole file as `lint` does, pick the
pipeline, check the trigger, plan the steps and services, and only then connect to the engine and
run them, with every secret value masked in all it prints."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from drone_kit.clients.containers import ContainerEngine
from drone_kit.clients.git import drone_variables
from drone_kit.errors import DroneKitError
from drone_kit.pipelines.checks import lint_failure, problem_lines
from drone_kit.pipelines.document import load_documents, plain
from drone_kit.pipelines.keys import CLUSTER_ONLY, LOCAL_PIPELINE_KEYS, PIPELINE_TYPES
from drone_kit.pipelines.lint import lint
from drone_kit.pipelines.masks import mask_error, secret_masker
from drone_kit.pipelines.plan import conditions_hold, plan_steps, substitute
from drone_kit.pipelines.runner import Execution
from drone_kit.step.plugin import Plugin

Log = Callable[[str], None]
Engine = ContainerEngine | Callable[[], ContainerEngine]  # an engine, or how to connect to one


def run_exec(file: Path, pipeline_name: str | None, secrets: dict[str, str], env: dict[str, str], trusted: bool,
             network_host: bool, engine: Engine, log: Log, plugins: Mapping[str, Plugin] | None = None) -> int:
    """Run a pipeline of `file`; its exit status. `engine` is connected to (when a callable) only
    once the file has passed the checks; `plugins` are what lint checks settings against."""
    masker = secret_masker(secrets.values())
    try:
        return _run(file, pipeline_name, secrets, env, trusted, network_host, engine,
                    lambda line: log(masker.mask(line)), dict(plugins or {}))
    except DroneKitError as e:
        mask_error(e, masker)
        raise


def _run(file: Path, pipeline_name: str | None, secrets: dict[str, str], env: dict[str, str], trusted: bool,
         network_host: bool, engine: Engine, log: Log, plugins: dict[str, Plugin]) -> int:
    source = file.resolve().parent
    try:
        text = file.read_text()
    except OSError as e:
        raise DroneKitError(f"cannot read {file}: {e.strerror}", hint="give the path of a .drone.yml") from e
    problems = lint(load_documents(text, str(file)), plugins)
    for line in problem_lines(file, problems):
        log(line)
    failure = lint_failure(file, problems)
    if failure:
        raise failure
    variables = {**drone_variables(source, env.get("DRONE_BUILD_EVENT", "")), **env}
    documents = [d for d in load_documents(substitute(text, variables), str(file)) if d.data.get("kind") == "pipeline"]
    chosen = [d for d in documents if pipeline_name in (None, d.data.get("name"))]
    if not chosen:
        names = ", ".join(str(d.data.get("name")) for d in documents) or "none"
        raise DroneKitError(f"{file}: no pipeline named {pipeline_name!r} (pipelines: {names})")
    pipeline = plain(chosen[0].data)
    where = f"pipeline {pipeline.get('name', 'default')!r}"
    if pipeline.get("type", "docker") not in PIPELINE_TYPES:
        raise DroneKitError(f"{where}.type: {pipeline['type']!r} is not supported (docker, kubernetes)")
    for key in pipeline:
        if key not in LOCAL_PIPELINE_KEYS | CLUSTER_ONLY:
            raise DroneKitError(f"{where}.{key}: not supported by drone_kit exec",
                                hint="remove it for a local run, or run the pipeline in Drone")
    noted = sorted(k for k in pipeline if k in CLUSTER_ONLY)
    if noted:
        log(f"not applied in a local run: {', '.join(noted)}")
    facts = {"branch": variables["DRONE_BRANCH"], "event": variables["DRONE_BUILD_EVENT"],
             "ref": variables["DRONE_COMMIT_REF"], "repo": variables["DRONE_REPO"], "status": "success"}
    if not conditions_hold(pipeline.get("trigger"), facts):
        log(f"{where}: its trigger does not match this build ({facts['event']} on {facts['branch'] or facts['ref']})")
        return 0
    prefix = f"drone-kit-exec-{uuid.uuid4().hex[:6]}"
    steps = plan_steps(pipeline, where, secrets, variables, trusted, volume_prefix=prefix)
    services = plan_steps(pipeline, where, secrets, variables, trusted, key="services", volume_prefix=prefix)
    connected = engine if isinstance(engine, ContainerEngine) else engine()
    log(f"{where}: {len(steps)} steps" + (f", {len(services)} services" if services else "")
        + (", as a graph (depends_on)" if any(s.depends_on for s in steps) else ", one after another"))
    code = Execution(connected, log, network_host).run(steps, services, source, facts)
    log(f"{where}: {'success' if code == 0 else f'failure (exit code {code})'}")
    return code
