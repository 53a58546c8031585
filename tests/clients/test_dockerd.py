
import pytest

from drone_kit.clients.dockerd import DaemonOptions, dockerd_command, start_daemon
from drone_kit.errors import DroneKitError
from drone_kit.images.plain_http import insecure_registries
from tests.stack.processes import unmount_all_under
from tests.stack.require import require_binary


def test_dockerd_command():
    options = DaemonOptions(insecure_registries=("10.0.0.5:5000", "10.1.0.0/16"), mtu=1400, dns=("1.1.1.1",),
                            storage_driver="vfs")
    assert dockerd_command(options) == [
        "dockerd", "--host", "unix:///var/run/docker.sock", "--data-root", "/var/lib/docker",
        "--insecure-registry", "10.0.0.5:5000", "--insecure-registry", "10.1.0.0/16",
        "--mtu", "1400", "--dns", "1.1.1.1", "--storage-driver", "vfs",
    ]


@pytest.mark.parametrize(
    "scheme, insecure, expected",
    [
        ("http", ["auto"], ["reg:5000"]),
        ("https", ["auto"], []),
        ("http", ["true"], ["reg:5000"]),
        ("http", ["reg:5000", "10.0.0.0/8"], ["reg:5000", "10.0.0.0/8"]),
        ("https", ["mirror:5000"], ["mirror:5000"]),
    ],
)
def test_insecure_registries_of_a_started_daemon(scheme, insecure, expected):
    assert insecure_registries("reg:5000", scheme, insecure) == expected


def test_a_daemon_that_cannot_start_fails_fast_with_its_log(tmp_path):
    dockerd = require_binary("dockerd", "docker.io")
    options = DaemonOptions(root=tmp_path / "data", socket=tmp_path / "d.sock", exec_root=tmp_path / "x",
                            storage_driver="no-such-driver")
    try:
        with pytest.raises(DroneKitError) as caught:
            start_daemon(options, timeout=30, log=tmp_path / "dockerd.log", dockerd=dockerd)
    finally:
        # dockerd leaves its data-root mounted when it dies while starting
        unmount_all_under(tmp_path)
    assert caught.value.message.startswith("dockerd exited with status")
    assert any("no-such-driver" in line for line in caught.value.details)


def test_a_daemon_that_never_answers_is_stopped_at_the_timeout(tmp_path):
    fake = tmp_path / "dockerd"
    fake.write_text("#!/bin/sh\necho 'pretending to start'\nexec sleep 60\n")
    fake.chmod(0o755)
    with pytest.raises(DroneKitError) as caught:
        start_daemon(DaemonOptions(socket=tmp_path / "d.sock"), timeout=0.5, log=tmp_path / "log", dockerd=str(fake))
    assert caught.value.message == "dockerd did not answer within 0.5s"
    assert caught.value.details == ["pretending to start"]
