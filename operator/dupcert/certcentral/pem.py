"""PEM helpers for certificate bundles downloaded from CertCentral."""

from __future__ import annotations

import re
import textwrap

_CERTIFICATE_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----(?P<body>[A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----"
)
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<body>.*?)-----END (?P=label)-----", re.S
)
_WHITESPACE = re.compile(r"\s+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def normalize_newlines(text: str) -> str:
    """Convert CRLF and lone CR line endings to LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _format_block(label: str, body: str) -> str:
    base64_text = _WHITESPACE.sub("", body)
    lines = textwrap.wrap(base64_text, 64)
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"


def split_pem_chain(text: str) -> list[str]:
    """Split a PEM bundle into its certificates, in bundle order.

    Accepts CRLF line endings, base64 on one line or wrapped at any width, and text between
    the blocks. Each certificate is returned as its own PEM block with LF endings, base64
    wrapped at 64 characters and a final newline. CertCentral's `pem_all` bundle contains the leaf,
    then one or two intermediates, then the root. Returns an empty list when the text holds
    no certificate.
    """
    return [
        _format_block("CERTIFICATE", match.group("body"))
        for match in _CERTIFICATE_BLOCK.finditer(text)
    ]


def pem_payload(text: str) -> str:
    """Return the base64 payload of the first PEM block in `text`, without whitespace.

    Two encodings of the same CSR or certificate that differ only in line endings or line
    width have the same payload. Compare payloads, for example, to match a submitted CSR
    against the `csr` field of listed duplicates. Text without a PEM header that
    is plain base64 is returned without whitespace; any other text gives "".
    """
    match = _PEM_BLOCK.search(text)
    if match is not None:
        return _WHITESPACE.sub("", match.group("body"))
    bare = _WHITESPACE.sub("", text)
    return bare if _BASE64.fullmatch(bare) else ""
