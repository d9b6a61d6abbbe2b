"""Fixtures for the simulator tier."""
