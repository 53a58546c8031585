"""The keys of a .drone.yml: what Drone knows (for `lint`), and what a local run applies (for
`exec`). One table each, so lint and exec cannot disagree about what a key is."""

from __future__ import annotations

PIPELINE_TYPES = {"docker", "kubernetes"}
RESOURCE_KEYS = {"kind", "type", "name", "platform", "workspace", "clone", "steps", "services", "trigger", "node",
                 "volumes", "image_pull_secrets", "depends_on", "concurrency", "environment"}
KUBERNETES_KEYS = {"metadata", "node_selector", "tolerations", "service_account_name", "host_aliases", "dns_config"}
STEP_KEYS = {"name", "image", "pull", "commands", "command", "entrypoint", "environment", "settings", "when",
             "depends_on", "failure", "detach", "privileged", "volumes", "resources", "user", "shell", "working_dir",
             "dns", "dns_search", "extra_hosts", "network_mode", "devices"}
CONDITION_KEYS = {"branch", "event", "ref", "repo", "instance", "status", "target", "cron", "action", "paths"}

# Keys that only say where a pipeline runs on a cluster: noted, not applied by a local run.
CLUSTER_ONLY = KUBERNETES_KEYS | {"node", "platform", "concurrency", "image_pull_secrets"}
LOCAL_PIPELINE_KEYS = {"kind", "type", "name", "steps", "services", "trigger", "volumes", "environment", "depends_on"}
LOCAL_STEP_KEYS = {"name", "image", "pull", "commands", "environment", "settings", "when", "depends_on", "failure",
                   "privileged", "volumes", "resources", "working_dir"}
