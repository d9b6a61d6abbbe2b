"""Tests of keys, CSRs and chain checks, with certificates built by ``cryptography``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from dupcert.pki import (
    CertificateCheckError,
    build_csr,
    certificate_names,
    csr_public_key,
    generate_private_key,
    is_self_signed,
    key_matches,
    load_pem_chain,
    load_private_key,
    private_key_to_pem,
    public_key_der,
    serial_to_hex,
    verify_chain,
)
from dupcert.resources import KeyAlgorithm
from tests.unit.certs import (
    NOW,
    Authority,
    make_intermediate,
    make_leaf,
    make_root,
    new_key,
    to_pem,
)

NAMES = ["www.example.com", "api.example.com"]


@pytest.fixture(scope="module")
def root() -> Authority:
    return make_root()


@pytest.fixture(scope="module")
def intermediate(root: Authority) -> Authority:
    return make_intermediate(root)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def leaf(intermediate: Authority, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return make_leaf(intermediate, key, NAMES)


def test_chain_with_root_verified(
    leaf: x509.Certificate,
    intermediate: Authority,
    root: Authority,
    key: ec.EllipticCurvePrivateKey,
) -> None:
    chain = verify_chain([leaf, intermediate.certificate, root.certificate], key, NAMES, NOW)

    assert chain.leaf == leaf
    assert chain.intermediates == [intermediate.certificate]
    assert chain.root == root.certificate
    assert chain.tls_crt.decode() == to_pem(leaf, intermediate.certificate)
    assert chain.ca_crt is not None
    assert chain.ca_crt.decode() == to_pem(root.certificate)


def test_chain_without_root_verified(
    leaf: x509.Certificate, intermediate: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    chain = verify_chain([leaf, intermediate.certificate], key, NAMES, NOW)

    assert chain.intermediates == [intermediate.certificate]
    assert chain.root is None
    assert chain.ca_crt is None


def test_chain_order_does_not_matter(
    leaf: x509.Certificate,
    intermediate: Authority,
    root: Authority,
    key: ec.EllipticCurvePrivateKey,
) -> None:
    chain = verify_chain([root.certificate, leaf, intermediate.certificate], key, NAMES, NOW)

    assert chain.leaf == leaf
    assert chain.intermediates == [intermediate.certificate]
    assert chain.root == root.certificate


def test_chain_facts_from_leaf(
    leaf: x509.Certificate, intermediate: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    chain = verify_chain([leaf, intermediate.certificate], key, NAMES, NOW)

    assert chain.serial_hex == serial_to_hex(leaf.serial_number)
    assert chain.not_before == leaf.not_valid_before_utc
    assert chain.not_after == leaf.not_valid_after_utc


def test_duplicated_entries_dropped(
    leaf: x509.Certificate,
    intermediate: Authority,
    root: Authority,
    key: ec.EllipticCurvePrivateKey,
) -> None:
    certificates = [
        leaf,
        intermediate.certificate,
        intermediate.certificate,
        root.certificate,
        leaf,
    ]

    chain = verify_chain(certificates, key, NAMES, NOW)

    assert chain.intermediates == [intermediate.certificate]
    assert chain.tls_crt.decode() == to_pem(leaf, intermediate.certificate)


def test_two_intermediates_ordered(root: Authority, key: ec.EllipticCurvePrivateKey) -> None:
    upper = make_intermediate(root, "Upper CA")
    lower = make_intermediate(upper, "Lower CA")
    leaf = make_leaf(lower, key, NAMES)

    chain = verify_chain(
        [leaf, upper.certificate, root.certificate, lower.certificate], key, NAMES, NOW
    )

    assert chain.intermediates == [lower.certificate, upper.certificate]
    assert chain.root == root.certificate
    assert chain.tls_crt.decode() == to_pem(leaf, lower.certificate, upper.certificate)


def test_wrong_key_rejected(leaf: x509.Certificate, intermediate: Authority) -> None:
    with pytest.raises(CertificateCheckError, match="does not match the private key"):
        verify_chain([leaf, intermediate.certificate], new_key(), NAMES, NOW)


def test_missing_name_rejected(
    leaf: x509.Certificate, intermediate: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    names = [*NAMES, "mail.example.com"]

    with pytest.raises(CertificateCheckError, match=r"requested names mail\.example\.com$"):
        verify_chain([leaf, intermediate.certificate], key, names, NOW)


def test_wildcard_leaf_covers_name(
    intermediate: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    leaf = make_leaf(intermediate, key, ["*.example.com"])

    chain = verify_chain([leaf, intermediate.certificate], key, ["a.example.com"], NOW)

    assert chain.leaf == leaf


def test_wildcard_leaf_two_labels_rejected(
    intermediate: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    leaf = make_leaf(intermediate, key, ["*.example.com"])

    with pytest.raises(CertificateCheckError, match=r"a\.b\.example\.com"):
        verify_chain([leaf, intermediate.certificate], key, ["a.b.example.com"], NOW)


def test_expired_leaf_rejected(intermediate: Authority, key: ec.EllipticCurvePrivateKey) -> None:
    leaf = make_leaf(
        intermediate,
        key,
        NAMES,
        not_before=NOW - timedelta(days=90),
        not_after=NOW - timedelta(seconds=1),
    )

    with pytest.raises(CertificateCheckError, match="expired at"):
        verify_chain([leaf, intermediate.certificate], key, NAMES, NOW)


def test_unlinked_chain_rejected(leaf: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    stranger = make_intermediate(make_root("Other Root"), "Other CA")

    with pytest.raises(CertificateCheckError, match="no intermediate that issued"):
        verify_chain([leaf, stranger.certificate], key, NAMES, NOW)


def test_forged_issuer_signature_rejected(
    leaf: x509.Certificate, root: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    # Same subject as the real issuer, but another key: the leaf's signature cannot verify.
    impostor = make_intermediate(root, "Test Issuing CA")

    with pytest.raises(CertificateCheckError, match="is not signed by CN=Test Issuing CA"):
        verify_chain([leaf, impostor.certificate], key, NAMES, NOW)


def test_unrelated_root_not_kept(
    leaf: x509.Certificate, intermediate: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    other_root = make_root("Other Root")

    chain = verify_chain([leaf, intermediate.certificate, other_root.certificate], key, NAMES, NOW)

    assert chain.root is None
    assert chain.intermediates == [intermediate.certificate]


def test_leaf_under_root_rejected(root: Authority, key: ec.EllipticCurvePrivateKey) -> None:
    leaf = make_leaf(root, key, NAMES)

    with pytest.raises(CertificateCheckError, match="no intermediate certificate"):
        verify_chain([leaf, root.certificate], key, NAMES, NOW)


def test_empty_chain_rejected(key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(CertificateCheckError, match="returned no certificate"):
        verify_chain([], key, NAMES, NOW)


def test_two_leaves_rejected(
    leaf: x509.Certificate, intermediate: Authority, key: ec.EllipticCurvePrivateKey
) -> None:
    other = make_leaf(intermediate, new_key(), NAMES)

    with pytest.raises(CertificateCheckError, match="found 2"):
        verify_chain([leaf, other, intermediate.certificate], key, NAMES, NOW)


def test_crlf_pem_loaded(
    leaf: x509.Certificate,
    intermediate: Authority,
    root: Authority,
    key: ec.EllipticCurvePrivateKey,
) -> None:
    text = to_pem(leaf, intermediate.certificate, root.certificate).replace("\n", "\r\n")

    certificates = load_pem_chain(text)
    chain = verify_chain(certificates, key, NAMES, NOW)

    assert certificates == [leaf, intermediate.certificate, root.certificate]
    assert b"\r" not in chain.tls_crt


def test_invalid_pem_rejected() -> None:
    with pytest.raises(CertificateCheckError, match="not valid PEM"):
        load_pem_chain("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")


def test_self_signed_detected(root: Authority, intermediate: Authority) -> None:
    assert is_self_signed(root.certificate) is True
    assert is_self_signed(intermediate.certificate) is False


def test_certificate_names_read(leaf: x509.Certificate, root: Authority) -> None:
    assert certificate_names(leaf) == NAMES
    assert certificate_names(root.certificate) == []


@pytest.mark.parametrize(
    ("algorithm", "size", "key_type"),
    [
        (KeyAlgorithm.RSA, 2048, rsa.RSAPrivateKey),
        (KeyAlgorithm.ECDSA, 256, ec.EllipticCurvePrivateKey),
        (KeyAlgorithm.ECDSA, 384, ec.EllipticCurvePrivateKey),
    ],
)
def test_generated_key_matches_request(algorithm: KeyAlgorithm, size: int, key_type: type) -> None:
    generated = generate_private_key(algorithm, size)

    assert isinstance(generated, key_type)
    assert key_matches(generated, algorithm, size)


def test_key_mismatch_detected() -> None:
    generated = generate_private_key(KeyAlgorithm.ECDSA, 256)

    assert not key_matches(generated, KeyAlgorithm.ECDSA, 384)
    assert not key_matches(generated, KeyAlgorithm.RSA, 256)


def test_private_key_pem_round_trip() -> None:
    generated = generate_private_key(KeyAlgorithm.ECDSA, 256)
    pem = private_key_to_pem(generated)

    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_key_der(load_private_key(pem)) == public_key_der(generated)


def test_csr_carries_names_and_key() -> None:
    generated = generate_private_key(KeyAlgorithm.ECDSA, 256)

    pem = build_csr(generated, "www.example.com", NAMES, "sha384")
    csr = x509.load_pem_x509_csr(pem.encode())
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value

    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "www.example.com"
    assert sans.get_values_for_type(x509.DNSName) == NAMES
    assert csr.signature_hash_algorithm is not None
    assert csr.signature_hash_algorithm.name == "sha384"
    assert public_key_der(csr) == public_key_der(generated)


@pytest.mark.parametrize(
    "reformat",
    [
        pytest.param(lambda pem: pem, id="as built"),
        pytest.param(lambda pem: pem.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda pem: pem.replace("\n", ""), id="one line"),
        pytest.param(lambda pem: "".join(pem.strip().splitlines()[1:-1]), id="bare base64"),
    ],
)
def test_csr_public_key_read(reformat: Callable[[str], str]) -> None:
    generated = generate_private_key(KeyAlgorithm.ECDSA, 256)
    pem = build_csr(generated, "www.example.com", NAMES, "sha256")

    assert csr_public_key(reformat(pem)) == public_key_der(generated)


@pytest.mark.parametrize("text", ["", "not a csr", "-----BEGIN CERTIFICATE REQUEST-----\n!!"])
def test_unreadable_csr_gives_none(text: str) -> None:
    assert csr_public_key(text) is None


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(0xABC, "0ABC"), (0x1F, "1F"), (0x0123456789ABCDEF, "0123456789ABCDEF")],
)
def test_serial_to_hex_whole_bytes(serial: int, expected: str) -> None:
    assert serial_to_hex(serial) == expected
