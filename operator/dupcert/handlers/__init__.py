"""Kopf handlers. Importing this package registers them all."""

from dupcert.handlers import duplicatecertificate, issuer, startup

__all__ = ["duplicatecertificate", "issuer", "startup"]
