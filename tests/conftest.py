"""Shared pytest setup: each plugin module owns the fixtures of one real component."""

pytest_plugins = [
    "tests.plugins.simulator",
    "tests.plugins.controlplane",
    "tests.plugins.operator",
    "tests.plugins.kmockapi",
]
