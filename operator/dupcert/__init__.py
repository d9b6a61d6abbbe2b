"""dupcert: a Kubernetes operator for DigiCert CertCentral duplicate certificates."""

__version__ = "0.1.0"
