"""Fixtures for the operator tier."""
