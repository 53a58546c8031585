"""drone_kit: Drone-native build, deploy and verify steps for a small k3s platform."""

__version__ = "0.1.0"
