"""Tests of the PEM bundle helpers."""

from __future__ import annotations

import base64

from dupcert.certcentral.pem import pem_payload, split_pem_chain


def fake_certificate(label: str, length: int = 150) -> tuple[str, str]:
    """Return (payload, PEM block wrapped at 64) for a made-up DER body."""
    payload = base64.b64encode((label * length).encode()[:length]).decode()
    lines = [payload[i : i + 64] for i in range(0, len(payload), 64)]
    block = "\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----"])
    return payload, block + "\n"


def test_split_keeps_bundle_order() -> None:
    blocks = [fake_certificate(label)[1] for label in ("leaf", "ica", "root")]

    assert split_pem_chain("".join(blocks)) == blocks


def test_split_handles_crlf() -> None:
    blocks = [fake_certificate(label)[1] for label in ("leaf", "ica")]
    crlf = "".join(blocks).replace("\n", "\r\n")

    assert split_pem_chain(crlf) == blocks


def test_split_handles_four_certificates() -> None:
    blocks = [fake_certificate(label)[1] for label in ("leaf", "ica1", "ica2", "root")]

    assert len(split_pem_chain("\n".join(blocks))) == 4


def test_split_rewraps_one_line_base64() -> None:
    payload, block = fake_certificate("leaf")
    one_line = f"-----BEGIN CERTIFICATE-----{payload}-----END CERTIFICATE-----"

    assert split_pem_chain(one_line) == [block]


def test_split_skips_text_between_blocks() -> None:
    _, block = fake_certificate("leaf")
    text = f"subject=CN = www.example.com\n{block}\nissuer=CN = Example CA\n"

    assert split_pem_chain(text) == [block]


def test_split_without_certificates_is_empty() -> None:
    assert split_pem_chain("") == []
    assert split_pem_chain("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") == []


def test_payload_ignores_line_layout() -> None:
    csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\nabcd==\n-----END CERTIFICATE REQUEST-----\n"
    flat = "-----BEGIN CERTIFICATE REQUEST-----MIIBabcd==-----END CERTIFICATE REQUEST-----"

    assert pem_payload(csr) == "MIIBabcd=="
    assert pem_payload(flat.replace("\n", "\r\n")) == "MIIBabcd=="


def test_payload_of_bare_base64() -> None:
    assert pem_payload("MIIB\r\nabcd==") == "MIIBabcd=="
    assert pem_payload("not base64!") == ""
