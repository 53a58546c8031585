"""The fixes that are k3s host configuration, as the lines a finding shows: getting k3s at all,
turning servicelb off, a node's registries.yaml, the memory cgroup on a Raspberry Pi. Text only:
drone_kit never runs these. Pure."""

from __future__ import annotations

from drone_kit.platform.cluster_facts import name_of, restart_command
from drone_kit.platform.objects import Obj
from drone_kit.platform.registries_file import REGISTRIES_PATH, registries_yaml

K3S_CONFIG = "/etc/rancher/k3s/config.yaml"
K3S_INSTALL = ("curl -sfL https://get.k3s.io | sh -s - --disable servicelb --disable traefik "
               "--write-kubeconfig-mode 644")
# The file form survives re-running the install script, which drops flags it is not given again.
K3S_CONFIG_LINES = ("disable:", "  - servicelb", "  - traefik", 'write-kubeconfig-mode: "0644"')


def install_k3s_fix() -> list[str]:
    return ["Install k3s on the server node (MetalLB replaces servicelb; Traefik is not needed):",
            f"  {K3S_INSTALL}",
            f"or write {K3S_CONFIG} first, which later upgrades keep:",
            *(f"  {line}" for line in K3S_CONFIG_LINES),
            "  then: curl -sfL https://get.k3s.io | sh -",
            "Then run again (the kubeconfig is /etc/rancher/k3s/k3s.yaml), or pass --kubeconfig."]


def servicelb_fix(daemonsets: list[tuple[str, str]]) -> list[str]:
    """`daemonsets`: (namespace, name) of the svclb DaemonSets found."""
    lines = [f"On the k3s server, add servicelb to `disable:` in {K3S_CONFIG}:",
             "  disable:", "    - servicelb",
             "then: sudo systemctl restart k3s",
             "(or reinstall with --disable servicelb; a re-install without the flag turns it back on)"]
    if daemonsets:
        lines.append("if its pods remain after the restart, delete their DaemonSets:")
        lines += [f"  kubectl -n {namespace} delete daemonset {name}" for namespace, name in sorted(set(daemonsets))]
    return lines


def registries_fix(node: Obj | None, registry_host: str) -> list[str]:
    """The file a node needs to pull from the plain-HTTP registry, and how k3s rereads it."""
    where = f"node {name_of(node)}" if node else "every node"
    restart = restart_command(node) if node else ("sudo systemctl restart k3s (server) / "
                                                  "sudo systemctl restart k3s-agent (agents)")
    return [f"On {where}, write {REGISTRIES_PATH} (or run `drone_kit bootstrap --write-registries-yaml` there):",
            *(f"  {line}" for line in registries_yaml(registry_host).splitlines()),
            f"then: {restart}"]


def memory_cgroup_fix(node: str) -> list[str]:
    return [f"On {node}: `journalctl -u k3s-agent` (or -u k3s) saying \"failed to find memory cgroup\" means the "
            "kernel runs without it:",
            "append `cgroup_memory=1 cgroup_enable=memory` to the single line of /boot/firmware/cmdline.txt "
            "(/boot/cmdline.txt on older Raspberry Pi OS), then reboot",
            "check: `grep memory /proc/cgroups` ends in 1"]
