"""Parse and check the CSRs that clients submit with duplicates and orders."""

from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dupcert.simulator.ca import PublicKey
from dupcert.simulator.errors import ApiError, invalid_request

_PEM_BODY = re.compile(
    r"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----(.*?)-----END (?:NEW )?CERTIFICATE REQUEST-----",
    re.DOTALL,
)
_MIN_RSA_BITS = 2048
_ALLOWED_CURVES = (ec.SECP256R1, ec.SECP384R1)


def _invalid(reason: str) -> ApiError:
    return invalid_request("invalid_csr", f"The CSR is invalid: {reason}.")


def parse_csr(text: str) -> tuple[x509.CertificateSigningRequest, PublicKey]:
    """Parse a CSR as CertCentral accepts it and return it with its public key.

    The CSR may be PEM with line breaks, PEM with the line breaks removed (some clients send
    that), or bare base64 DER. The signature must verify, RSA keys need at least 2048 bits and
    EC keys must be on P-256 or P-384. Anything else raises a 400 `invalid_csr`.
    """
    match = _PEM_BODY.search(text)
    body = match.group(1) if match else text
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("it is not PEM or base64 DER") from None
    try:
        csr = x509.load_der_x509_csr(der)
    except ValueError:
        raise _invalid("it does not parse as a PKCS#10 request") from None
    try:
        signature_is_valid = csr.is_signature_valid
    except (ValueError, TypeError):
        signature_is_valid = False
    if not signature_is_valid:
        raise _invalid("its signature does not verify")
    public_key = csr.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < _MIN_RSA_BITS:
            raise _invalid(f"RSA keys need at least {_MIN_RSA_BITS} bits")
        return csr, public_key
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, _ALLOWED_CURVES):
            raise _invalid(f"EC curve {public_key.curve.name} is not supported")
        return csr, public_key
    raise _invalid("only RSA and EC keys are supported")
