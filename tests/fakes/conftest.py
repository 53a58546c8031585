"""The Gitea-backed Drone fake's tests share one world: both fakes on loopback, Drone wired to
Gitea as `drone_kit wire` does it, and the admin logged in. A module's own fixture of the same
name wins over these."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drone_kit.clients.oauth_login import first_login
from tests.fakes.drone_gitea import DroneOnGitea
from tests.fakes.drone_gitea_world import ADMIN, PASSWORD, World, wire
from tests.fakes.gitea import FakeGitea


@pytest.fixture
def gitea() -> Iterator[FakeGitea]:
    with FakeGitea(ADMIN, PASSWORD, email="admin@example.com", allowed_host_list="loopback") as fake:
        yield fake


@pytest.fixture
def drone() -> Iterator[DroneOnGitea]:
    with DroneOnGitea() as fake:
        yield fake


@pytest.fixture
def world(gitea: FakeGitea, drone: DroneOnGitea) -> World:
    return wire(gitea, drone)


@pytest.fixture
def logged_in(world: World) -> World:
    first_login(world.drone.url, ADMIN, PASSWORD)
    return world
