"""Wiring Gitea to Drone as bootstrap's last phase: which runs end with it, the line a run that
does not prints, and how a wiring that failed after the install reads."""

from __future__ import annotations

from drone_kit.errors import DroneKitError, SettingsError, error_lines
from drone_kit.platform import catalog
from drone_kit.platform.wire_phase import WIRED_COMPONENTS, failed_after_install, skipped_because, skipped_line


def test_a_whole_install_ends_by_wiring():
    assert skipped_because(()) == ""


def test_an_only_naming_everything_the_wiring_works_on_ends_by_wiring_too():
    assert skipped_because(["grafana", "shim", "drone_server", "gitea"]) == ""
    assert set(WIRED_COMPONENTS) <= set(catalog.names())


def test_no_wire_skips_it():
    assert skipped_because((), no_wire=True) == "--no-wire"


def test_an_only_leaving_out_gitea_drone_or_the_shim_skips_it_and_names_what_is_left_out():
    assert skipped_because(["grafana"]) == "--only leaves out gitea, drone_server, shim"
    assert skipped_because(["gitea", "drone_server"]) == "--only leaves out shim"
    assert skipped_because(["drone_runner", "gitea", "shim"]) == "--only leaves out drone_server"


def test_runs_that_apply_nothing_never_wire():
    assert skipped_because((), dry_run=True) == "--dry-run applies nothing"
    assert skipped_because((), diff=True) == "--diff applies nothing"
    assert skipped_because((), no_wire=True, diff=True) == "--diff applies nothing"


def test_a_skipped_wiring_is_one_line_saying_why_and_how_to_wire_later():
    line = skipped_line("--only leaves out shim")
    assert "\n" not in line
    assert line.startswith("wiring: skipped (--only leaves out shim)")
    assert "`drone_kit wire`" in line


def test_a_wiring_that_failed_after_the_install_says_the_install_is_done_and_keeps_the_fix():
    error = failed_after_install(DroneKitError("Drone does not answer at http://10.0.0.2/",
                                               hint="check the address (--drone-url) and `drone_kit status`"))
    assert error_lines(error) == [
        "Error: wiring: Drone does not answer at http://10.0.0.2/",
        "Hint: check the address (--drone-url) and `drone_kit status`; the install itself is done: "
        "re-run only the wiring, with `drone_kit wire`"]
    assert error.exit_code == 1


def test_a_failed_wiring_keeps_its_details_and_exit_status():
    error = failed_after_install(SettingsError(["a: bad", "b: bad"]))
    assert error.details == ["a: bad", "b: bad"] and error.exit_code == 2
    assert error.hint == "the install itself is done: re-run only the wiring, with `drone_kit wire`"
