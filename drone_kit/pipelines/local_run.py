"""What `drone_kit exec` does with a .drone.yml: pick the pipeline, check the trigger, plan the
steps and services, and run them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from drone_kit.clients.containers import ContainerEngine
from drone_kit.clients.git import drone_variables
from drone_kit.errors import DroneKitError
from drone_kit.pipelines.document import load_documents, plain
from drone_kit.pipelines.keys import CLUSTER_ONLY, LOCAL_PIPELINE_KEYS, PIPELINE_TYPES
from drone_kit.pipelines.plan import conditions_hold, plan_steps, substitute
from drone_kit.pipelines.runner import Execution


def run_exec(file: Path, pipeline_name: str | None, secrets: dict[str, str], env: dict[str, str], trusted: bool,
             network_host: bool, engine: ContainerEngine, log: Callable[[str], None]) -> int:
    source = file.resolve().parent
    variables = {**drone_variables(source, env.get("DRONE_BUILD_EVENT", "")), **env}
    try:
        text = file.read_text()
    except OSError as e:
        raise DroneKitError(f"cannot read {file}: {e.strerror}") from e
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
    log(f"{where}: {len(steps)} steps" + (f", {len(services)} services" if services else ""))
    code = Execution(engine, log, network_host).run(steps, services, source, facts)
    log(f"{where}: {'success' if code == 0 else f'failure (exit code {code})'}")
    return code
