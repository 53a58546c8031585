"""An OCI runtime for the test engine only: drops what needs CAP_SYS_RESOURCE, then runs runc.

The sandbox the tests run in lacks CAP_SYS_RESOURCE, so runc fails to create containers that
ask for a negative oom_score_adj (dockerd asks that for privileged ones, e.g. docker-in-docker)
or that keep CAP_SYS_RESOURCE. Real machines do not need this; see ../shared/notes/test-machines.md.
"""

import json
import os
import sys


def bundle_dir(args):
    for i, arg in enumerate(args):
        if arg in ("--bundle", "-b") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--bundle="):
            return arg.split("=", 1)[1]
    return os.getcwd() if "create" in args or "run" in args else None


def patch_config(path):
    with open(path) as handle:
        config = json.load(handle)
    process = config.get("process", {})
    process.pop("oomScoreAdj", None)
    for name, caps in (process.get("capabilities") or {}).items():
        process["capabilities"][name] = [c for c in caps if c != "CAP_SYS_RESOURCE"]
    with open(path, "w") as handle:
        json.dump(config, handle)


args = sys.argv[1:]
bundle = bundle_dir(args)
if bundle and os.path.exists(os.path.join(bundle, "config.json")):
    patch_config(os.path.join(bundle, "config.json"))
os.execv(RUNC, [RUNC, *args])  # noqa: F821 - RUNC is prepended when the wrapper is written
