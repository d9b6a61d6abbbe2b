"""A local stand-in for DigiCert CertCentral's Services API (v2) with a real CA behind it."""
