"""Fixtures for the controlplane tier."""
