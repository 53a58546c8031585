"""The plugin contract: what a Drone step is to drone_kit. The build context (DRONE_*), settings
declared once and read from PLUGIN_* (with the encoding Drone uses), secret masking, the step's
output (log lines, live status), cards, result files under `.drone-kit/` that hand facts to the
next step, and the settings docs generated from the declarations.

Imports only `drone_kit.errors` and the standard library: every plugin builds on it, and it
knows none of them.
"""
