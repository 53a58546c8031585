"""Kubernetes Deployment rollouts: the rules that judge one from what the watches say (pure:
time comes in as an argument), the watcher that follows it live, the diagnosis of a failure,
rollback to a recorded template, and the soak window.

Imports `drone_kit.clients` (the Kubernetes client), `drone_kit.errors` and the standard library;
`rules`, `lines` and `diagnosis` are pure and import no client. Used by the deploy and verify plugins.
"""
