"""What wiring a repository to Drone decides (pure)."""

from __future__ import annotations

from drone_kit.platform.repo_plan import (
    RepoSettings,
    activation_needed,
    hook_problem,
    hooks_to_shim,
    settings_changes,
)


def hook(url: str, active: bool = True, events=("pull_request", "create", "delete", "push")) -> dict:
    return {"id": 1, "type": "gitea", "active": active, "events": list(events),
            "config": {"url": url, "content_type": "json"}}


SHIM = hook("http://shim.drone-kit.svc/hook?secret=abc")
OTHER = hook("http://192.168.1.202/hook?secret=abc")


def test_only_hooks_to_the_shims_host_count_as_drones():
    assert hooks_to_shim([SHIM, OTHER, {"config": {}}]) == [SHIM]


def test_activation_only_when_the_repository_or_its_one_hook_is_not_right():
    active = {"active": True}
    assert not activation_needed(active, [SHIM, OTHER])  # someone's own hook elsewhere is left alone
    assert activation_needed({"active": False}, [SHIM])
    assert activation_needed(active, [])
    assert activation_needed(active, [SHIM, SHIM])
    assert activation_needed(active, [hook(SHIM["config"]["url"], active=False)])


def test_a_wrong_hook_is_named():
    assert hook_problem([SHIM]) is None
    assert hook_problem([OTHER]) == "Gitea has no hook to the shim (shim.drone-kit.svc); its hooks go to 192.168.1.202"
    assert "every push would build 2 times" in hook_problem([SHIM, SHIM])
    assert hook_problem([hook(SHIM["config"]["url"], events=("create",))]) == (
        "Gitea's hook to the shim is not sent on push")


def test_settings_change_only_what_differs_and_trust_only_when_asked():
    live = {"timeout": 60, "trusted": True, "config_path": ".drone.yml"}
    assert settings_changes(live, RepoSettings()) == {}
    assert settings_changes(live, RepoSettings(timeout=90)) == {"timeout": 90}
    assert settings_changes(live, RepoSettings(trusted=False)) == {"trusted": False}
    assert settings_changes({**live, "trusted": False}, RepoSettings(trusted=True)) == {"trusted": True}
    assert settings_changes({**live, "config_path": "ci.yml"}, RepoSettings()) == {"config_path": ".drone.yml"}
