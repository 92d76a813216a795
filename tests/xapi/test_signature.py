"""Tests for :mod:`lrs.xapi.signature` (xAPI 1.0.3 Data 2.6; IEEE 9274.1.1 4.2.6).

Keys and certificates are generated here with ``cryptography``; JWSs are built by hand the way
the conformance suite's helper.signStatement (the ``jws`` npm package) builds them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from lrs.errors import BadRequest
from lrs.xapi.multipart import Attachment, check_attachments, parse_statement_multipart
from lrs.xapi.signature import (
    SIGNATURE_USAGE_TYPE,
    signature_attachments,
    verify_signed_statement,
    verify_statement_signatures,
)
from lrs.xapi.versions import XapiVersion

V1 = XapiVersion.V1_0_3
V2 = XapiVersion.V2_0_0
HASHES = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}


# --- helpers ----------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jws(
    payload: Mapping[str, Any] | bytes,
    key: rsa.RSAPrivateKey,
    alg: str = "RS256",
    **header: Any,
) -> bytes:
    """A JWS in compact serialization, signed with RSASSA-PKCS1-v1_5."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64url(json.dumps({'alg': alg, **header}).encode())}.{b64url(raw)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), HASHES[alg])
    return f"{signing_input}.{b64url(signature)}".encode()


def x5c(*certificates: x509.Certificate) -> list[str]:
    """``x5c`` values are standard base64 of DER, not base64url (RFC 7515 4.1.6)."""
    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certificates
    ]


def certificate(
    subject_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    subject: str,
    issuer_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
    issuer: str | None = None,
) -> x509.Certificate:
    """A certificate for ``subject_key``, self-signed unless an issuer is given."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or subject)]))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(issuer_key or subject_key, hashes.SHA256())
    )


def base_statement() -> dict[str, Any]:
    """Like the suite's statements/default.json, with an id set before signing."""
    return {
        "id": "5c5a9a5e-0c1d-4d6b-9c0b-4b8c1f6f0a11",
        "actor": {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:xapi@adlnet.gov"},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/attended",
            "display": {"en-GB": "attended", "en-US": "attended"},
        },
        "object": {
            "objectType": "Activity",
            "id": "http://www.example.com/meetings/occurances/34534",
        },
    }


def signed(statement: Mapping[str, Any], signature: bytes) -> dict[str, Any]:
    """The received statement: the signed one plus its signature Attachment Object."""
    return {
        **statement,
        "attachments": [
            {
                "usageType": SIGNATURE_USAGE_TYPE,
                "display": {"en-US": "Signed by the Test Suite"},
                "contentType": "application/octet-stream",
                "length": len(signature),
                "sha2": hashlib.sha256(signature).hexdigest(),
            }
        ],
    }


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rejects(
    statement: Mapping[str, Any], part: bytes, match: str, version: XapiVersion = V2
) -> None:
    with pytest.raises(BadRequest, match=match):
        verify_signed_statement(statement, part, version=version)


# --- accepted signatures --------------------------------------------------------------------


@pytest.mark.parametrize("version", [V1, V2])
@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_accepts_suite_style_signature_without_certificate(
    key: rsa.RSAPrivateKey, alg: str, version: XapiVersion
) -> None:
    """E.Data2.6 'Accepts signed statement with RS256/RS384/RS512' (no x5c in the suite)."""
    original = base_statement()
    signature = jws(original, key, alg)

    verify_signed_statement(signed(original, signature), signature, version=version)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_accepts_signature_verified_with_self_signed_x5c(key: rsa.RSAPrivateKey, alg: str) -> None:
    original = base_statement()
    signature = jws(original, key, alg, x5c=x5c(certificate(key, "Signer")))

    verify_signed_statement(signed(original, signature), signature)


def test_accepts_x5c_chain_in_issuing_order(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    leaf = certificate(key, "Signer", other_key, "Example CA")
    ca = certificate(other_key, "Example CA")
    original = base_statement()
    signature = jws(original, key, x5c=x5c(leaf, ca))

    verify_signed_statement(signed(original, signature), signature)


@pytest.mark.parametrize("version", [V1, V2])
def test_accepts_the_appendix_d_example(version: XapiVersion) -> None:
    """Data Appendix D: RS256 with an x5c chain (SHA-1 signed, expired in 2014)."""
    verify_signed_statement(APPENDIX_D_STATEMENT, APPENDIX_D_JWS.encode(), version=version)


def test_accepts_duration_differing_beyond_hundredths(key: rsa.RSAPrivateKey) -> None:
    """v2_0/4.2.7: the body's duration is rewritten from 0.12S to 0.1237S after signing."""
    original = {**base_statement(), "result": {"duration": "P1DT12H36M0.12S"}}
    signature = jws(original, key)
    received = {**signed(original, signature), "result": {"duration": "P1DT12H36M0.1237S"}}

    verify_signed_statement(received, signature)


def test_accepts_properties_an_lrs_assigns(key: rsa.RSAPrivateKey) -> None:
    """Data 2.3.1: id (when absent), authority, stored, version may differ."""
    original = base_statement()
    del original["id"]
    signature = jws(original, key)
    received = {
        **signed(original, signature),
        "id": "0d4c8b0e-7a1f-4b0e-9d77-6d1f6a1f0c33",
        "version": "1.0.3",
        "stored": "2024-01-01T00:00:00.000Z",
        "authority": {"objectType": "Agent", "mbox": "mailto:lrs@example.com"},
    }

    verify_signed_statement(received, signature)


def test_accepts_jws_followed_by_a_newline(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    signature = jws(original, key) + b"\r\n"

    verify_signed_statement(signed(original, signature), signature)


def test_custom_equivalence_receives_payload_and_statement(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    signature = jws(original, key)
    received = signed(original, signature)
    calls: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []

    def never(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        calls.append((a, b))
        return False

    with pytest.raises(BadRequest, match="not logically equivalent"):
        verify_signed_statement(received, signature, equivalent=never)
    assert calls == [(original, received)]


# --- rejected signatures --------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["HS256", "none", "rs256", "PS256", "ES256"])
def test_rejects_other_algorithms(key: rsa.RSAPrivateKey, alg: str) -> None:
    """XAPI-00117: 'Rejects signed statement with another algorithm' (the suite uses HS256)."""
    original = base_statement()
    signing_input = (
        f"{b64url(json.dumps({'alg': alg}).encode())}.{b64url(json.dumps(original).encode())}"
    )
    mac = hmac.new(b"secret", signing_input.encode(), hashlib.sha256).digest()
    signature = f"{signing_input}.{b64url(mac)}".encode()

    rejects(signed(original, signature), signature, f"alg '{alg}'")


def test_rejects_header_without_alg(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    good = jws(original, key).decode().split(".")
    signature = ".".join([b64url(b'{"typ":"JWT"}'), *good[1:]]).encode()

    rejects(signed(original, signature), signature, "no 'alg'")


def test_rejects_payload_that_is_not_json(key: rsa.RSAPrivateKey) -> None:
    """XAPI-00116, the suite's breakJson: the first '"' of the payload becomes "'"."""
    original = base_statement()
    broken = json.dumps(original).replace('"', "'", 1).encode()
    signature = jws(broken, key)

    rejects(signed(original, signature), signature, "not a valid JSON serialization")


@pytest.mark.parametrize(
    "payload", [b"[]", b'"statement"', b'{"id": "a", "id": "b"}', b'{"x": NaN}', b"\xff\xfe"]
)
def test_rejects_payload_that_is_not_a_statement_object(
    key: rsa.RSAPrivateKey, payload: bytes
) -> None:
    signature = jws(payload, key)

    rejects(signed(base_statement(), signature), signature, "not a valid JSON serialization")


@pytest.mark.parametrize(
    ("mangle", "match"),
    [
        (lambda s: s.rsplit(".", 1)[0], "expected three"),
        (lambda s: s + ".extra", "expected three"),
        (lambda s: s.replace(".", "+", 1).replace("+", ".", 1) + "=", "base64url without padding"),
        (lambda s: "e30!" + s[4:], "base64url without padding"),
        (lambda s: b64url(b"not json") + s[s.index(".") :], "JWS header is not valid"),
        (lambda s: b64url(b'["alg"]') + s[s.index(".") :], "must be a JSON object"),
        (
            lambda s: b64url(b'{"alg":"RS256","alg":"RS256"}') + s[s.index(".") :],
            "duplicate member",
        ),
    ],
)
def test_rejects_malformed_compact_serialization(
    key: rsa.RSAPrivateKey, mangle: Any, match: str
) -> None:
    original = base_statement()
    signature = mangle(jws(original, key).decode()).encode()

    rejects(signed(original, signature), signature, match)


def test_rejects_empty_signature(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    signature = jws(original, key).rsplit(b".", 1)[0] + b"."

    rejects(signed(original, signature), signature, "signature is empty")


def test_rejects_line_break_inside_a_segment(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    compact = jws(original, key)
    signature = compact[:10] + b"\n" + compact[10:]

    rejects(signed(original, signature), signature, "base64url without padding")


def test_rejects_non_ascii_part(key: rsa.RSAPrivateKey) -> None:
    signature = "é".encode() + jws(base_statement(), key)

    rejects(signed(base_statement(), signature), signature, "not a JWS")


def test_rejects_statement_that_differs_from_the_payload(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    signature = jws(original, key)
    received = signed(original, signature)
    received["verb"] = {"id": "http://adlnet.gov/expapi/verbs/failed"}

    rejects(received, signature, "not logically equivalent")


def test_rejects_signature_that_does_not_verify_with_x5c(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    original = base_statement()
    signature = jws(original, other_key, x5c=x5c(certificate(key, "Signer")))

    rejects(signed(original, signature), signature, "does not verify")


def test_rejects_payload_altered_after_signing_with_x5c(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    header, _, tail = jws(original, key, x5c=x5c(certificate(key, "Signer"))).decode().split(".")
    altered = {**original, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}
    signature = f"{header}.{b64url(json.dumps(altered).encode())}.{tail}".encode()

    rejects(signed(altered, signature), signature, "does not verify")


def test_rejects_x5c_with_a_non_rsa_key(key: rsa.RSAPrivateKey) -> None:
    ec_cert = certificate(ec.generate_private_key(ec.SECP256R1()), "EC signer")
    original = base_statement()
    signature = jws(original, key, x5c=x5c(ec_cert))

    rejects(signed(original, signature), signature, "does not hold an RSA key")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ([], "non-empty array"),
        ("MIIB", "non-empty array"),
        ([42], "non-empty array"),
        (["not base64!"], "not a base64"),
        ([base64.b64encode(b"not a certificate").decode()], "not a base64"),
    ],
)
def test_rejects_malformed_x5c(key: rsa.RSAPrivateKey, value: Any, match: str) -> None:
    original = base_statement()
    signature = jws(original, key, x5c=value)

    rejects(signed(original, signature), signature, match)


def test_rejects_x5c_as_base64url(key: rsa.RSAPrivateKey) -> None:
    der = certificate(key, "Signer").public_bytes(serialization.Encoding.DER)
    value = base64.urlsafe_b64encode(der).decode()
    if value == base64.b64encode(der).decode():  # pragma: no cover - no '+' or '/' in this DER
        pytest.skip("DER happened to encode identically")
    original = base_statement()
    signature = jws(original, key, x5c=[value])

    rejects(signed(original, signature), signature, "not a base64")


def test_rejects_x5c_chain_out_of_order(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    leaf = certificate(key, "Signer", other_key, "Example CA")
    unrelated = certificate(other_key, "Someone else")
    original = base_statement()
    signature = jws(original, key, x5c=x5c(leaf, unrelated))

    rejects(signed(original, signature), signature, r"x5c\[0\] is not issued by x5c\[1\]")


def test_rejects_x5c_chain_with_forged_issuer(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    leaf = certificate(key, "Signer", key, "Example CA")  # claims the CA, signs itself
    ca = certificate(other_key, "Example CA")
    original = base_statement()
    signature = jws(original, key, x5c=x5c(leaf, ca))

    rejects(signed(original, signature), signature, r"signature on x5c\[0\] does not verify")


def test_rejects_critical_extensions(key: rsa.RSAPrivateKey) -> None:
    original = base_statement()
    signature = jws(original, key, crit=["exp"], exp=1)

    rejects(signed(original, signature), signature, "critical")


# --- JSON serialization (1.0.3 SHOULD*, 2.0 shall use compact) ------------------------------


def json_serialization(compact: bytes, *, general: bool = False, **unprotected: Any) -> bytes:
    protected, payload, signature = compact.decode().split(".")
    entry: dict[str, Any] = {"protected": protected, "signature": signature}
    if unprotected:
        entry["header"] = unprotected
    if general:
        return json.dumps({"payload": payload, "signatures": [entry, entry]}).encode()
    return json.dumps({"payload": payload, **entry}).encode()


@pytest.mark.parametrize("general", [False, True])
def test_json_serialization_is_accepted_under_1_0_3_only(
    key: rsa.RSAPrivateKey, general: bool
) -> None:
    original = base_statement()
    signature = json_serialization(jws(original, key), general=general)
    received = signed(original, signature)

    verify_signed_statement(received, signature, version=V1)
    rejects(received, signature, "requires JWS Compact Serialization", version=V2)


def test_json_serialization_checks_x5c_from_the_unprotected_header(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    original = base_statement()
    good = json_serialization(jws(original, key), x5c=x5c(certificate(key, "Signer")))
    bad = json_serialization(jws(original, key), x5c=x5c(certificate(other_key, "Other")))

    verify_signed_statement(signed(original, good), good, version=V1)
    rejects(signed(original, bad), bad, "does not verify", version=V1)


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ({"signature": "x"}, "no 'payload'"),
        ({"payload": "e30", "signatures": []}, "non-empty array"),
        ({"payload": "e30", "signatures": [{}], "signature": "x"}, "both 'signatures'"),
        ({"payload": "e30", "signatures": [{"protected": "e30"}]}, "'signature' string"),
        ({"payload": "e30", "signature": "eA", "header": "x"}, "'header' an object"),
        (
            {
                "payload": "e30",
                "signature": "eA",
                "protected": b64url(b'{"alg":"RS256"}'),
                "header": {"alg": "RS256"},
            },
            "both the protected and the unprotected",
        ),
    ],
)
def test_rejects_malformed_json_serialization(document: dict[str, Any], match: str) -> None:
    signature = json.dumps(document).encode()

    rejects(signed(base_statement(), signature), signature, match, version=V1)


# --- signature_attachments / verify_statement_signatures ----------------------------------------


def test_signature_attachments_finds_the_signature(key: rsa.RSAPrivateKey) -> None:
    signature = jws(base_statement(), key)
    received = signed(base_statement(), signature)
    received["attachments"].insert(0, {"usageType": "http://example.com/other", "sha2": "ab"})

    assert signature_attachments(received) == [received["attachments"][1]]
    assert signature_attachments(base_statement()) == []


def test_signature_with_another_content_type_is_malformed(key: rsa.RSAPrivateKey) -> None:
    """E.Data2.6 'rejects a signed statement with a malformed signature - bad content type'."""
    signature = jws(base_statement(), key)
    received = signed(base_statement(), signature)
    received["attachments"][0]["contentType"] = "text/plain; charset=ascii"

    with pytest.raises(BadRequest, match="contentType 'text/plain; charset=ascii'"):
        signature_attachments(received)
    with pytest.raises(BadRequest, match="must be a JWS attachment"):
        verify_statement_signatures([received], {}, version=V1)


def suite_signed_body(statement: Mapping[str, Any], signature: bytes, boundary: str) -> bytes:
    """Byte for byte what helper.signStatement sends."""
    dash = f"--{boundary}".encode()
    sha2 = hashlib.sha256(signature).hexdigest()
    return (
        b"\r\n"
        + dash
        + b"\r\nContent-Type:application/json\r\n\r\n"
        + json.dumps(statement).encode()
        + b"\r\n"
        + dash
        + b"\r\nContent-Type:application/octet-stream\r\n"
        + b"Content-Transfer-Encoding:binary\r\n"
        + f"X-Experience-API-Hash:{sha2}\r\n\r\n".encode()
        + signature
        + b"\r\n"
        + dash
        + b"--"
    )


@pytest.mark.parametrize("version", [V1, V2])
def test_whole_request_flow(key: rsa.RSAPrivateKey, version: XapiVersion) -> None:
    boundary = "-------------1234567890"
    original = base_statement()
    signature = jws(original, key)
    body = suite_signed_body(signed(original, signature), signature, boundary)

    parsed = parse_statement_multipart(f"multipart/mixed; boundary={boundary}", body)
    statements = [json.loads(parsed.statements_json)]
    parts = check_attachments(statements, parsed.attachments)
    verify_statement_signatures(statements, parts, version=version)

    assert parts[hashlib.sha256(signature).hexdigest()].data == signature


def test_signature_given_only_by_file_url_is_rejected(key: rsa.RSAPrivateKey) -> None:
    """XAPI-00115: a signature attachment without the signature attached."""
    signature = jws(base_statement(), key)
    received = signed(base_statement(), signature)
    received["attachments"][0]["fileUrl"] = "http://example.com/signature.jws"

    with pytest.raises(BadRequest, match="was not sent"):
        verify_statement_signatures([received], {}, version=V2)


def test_batch_errors_name_the_statement(key: rsa.RSAPrivateKey) -> None:
    first = base_statement()
    good = jws(first, key)
    second = {**base_statement(), "id": "6f0b2c1e-3d4a-4b5c-8d6e-7f8091a2b3c4"}
    bad = jws({**second, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}, key)
    statements = [signed(first, good), base_statement(), signed(second, bad)]
    parts = {
        hashlib.sha256(p).hexdigest(): Attachment(hashlib.sha256(p).hexdigest(), None, p)
        for p in (good, bad)
    }

    with pytest.raises(BadRequest, match=r"not logically equivalent.*\(statement 2\)"):
        verify_statement_signatures(statements, parts, version=V2)
    verify_statement_signatures(statements[:2], parts, version=V2)


# --- Appendix D (xAPI 1.0.3 Data): the specification's own signed statement ------------------

APPENDIX_D_STATEMENT: dict[str, Any] = {
    "version": "1.0.0",
    "id": "33cff416-e331-4c9d-969e-5373a1756120",
    "actor": {
        "mbox": "mailto:example@example.com",
        "name": "Example Learner",
        "objectType": "Agent",
    },
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/experienced",
        "display": {"en-US": "experienced"},
    },
    "object": {
        "id": "https://www.youtube.com/watch?v=xh4kIiH3Sm8",
        "objectType": "Activity",
        "definition": {
            "name": {"en-US": "Tax Tips & Information : How to File a Tax Return "},
            "description": {
                "en-US": "Filing a tax return will require filling out either a 1040, 1040A or "
                "1040EZ form"
            },
        },
    },
    "timestamp": "2013-04-01T12:00:00Z",
    "attachments": [
        {
            "usageType": "http://adlnet.gov/expapi/attachments/signature",
            "display": {"en-US": "Signature"},
            "description": {"en-US": "A test signature"},
            "contentType": "application/octet-stream",
            "length": 4235,
            "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
        }
    ],
}

APPENDIX_D_JWS = (
    "ew0KICAgICJhbGciOiAiUlMyNTYiLA0KICAgICJ4NWMiOiBbDQogICAgICAgICJNSUlEQVRDQ0FtcWdBd0lCQWdJ"
    "SkFNQjFjc051QTYra01BMEdDU3FHU0liM0RRRUJCUVVBTUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlF"
    "d2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlho"
    "aGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiVEFlRncweE16QTBN"
    "RFF4TlRJNE16QmFGdzB4TkRBME1EUXhOVEk0TXpCYU1JR1dNUXN3Q1FZRFZRUUdFd0pWVXpFU01CQUdBMVVFQ0JN"
    "SlZHVnVibVZ6YzJWbE1SRXdEd1lEVlFRSEV3aEdjbUZ1YTJ4cGJqRVlNQllHQTFVRUNoTVBSWGhoYlhCc1pTQkRi"
    "MjF3WVc1NU1SQXdEZ1lEVlFRTEV3ZEZlR0Z0Y0d4bE1SQXdEZ1lEVlFRREV3ZEZlR0Z0Y0d4bE1TSXdJQVlKS29a"
    "SWh2Y05BUWtCRmhObGVHRnRjR3hsUUdWNFlXMXdiR1V1WTI5dE1JR2ZNQTBHQ1NxR1NJYjNEUUVCQVFVQUE0R05B"
    "RENCaVFLQmdRRGp4dlpYRjMwV0w0b0tqWllYZ1IwWnlhWCt1M3k2K0pxVHFpTmtGYS9WVG5ldDZMeTJPVDZabW1j"
    "SkVQbnEzVW5ld3BIb09RK0dmaGhUa1cxM2owNmo1aU5uNG9iY0NWV1RMOXlYTnZKSCtLbyt4dTRZbC95U1BScklQ"
    "eVRqdEhkRzBNMlh6SWxtbUxxbStDQVMrS0NiSmVINHRmNTQza0lXQzVwQzVwM2NWUUlEQVFBQm8zc3dlVEFKQmdO"
    "VkhSTUVBakFBTUN3R0NXQ0dTQUdHK0VJQkRRUWZGaDFQY0dWdVUxTk1JRWRsYm1WeVlYUmxaQ0JEWlhKMGFXWnBZ"
    "MkYwWlRBZEJnTlZIUTRFRmdRVVZzM3Y1YWZFZE9lb1llVmFqQVFFNHYwV1MxUXdId1lEVlIwakJCZ3dGb0FVeVZJ"
    "YzN5dnJhNEVCejIwSTRCRjM5SUFpeEJrd0RRWUpLb1pJaHZjTkFRRUZCUUFEZ1lFQWdTL0ZGNUQwSG5qNDRydlQ2"
    "a2duM2tKQXZ2MmxqL2Z5anp0S0lyWVMzM2xqWEduNmdHeUE0cXRiWEEyM1ByTzR1Yy93WUNTRElDRHBQb2JoNjJ4"
    "VENkOXFPYktoZ3dXT2kwNVBTQkxxVXUzbXdmQWUxNUxKQkpCcVBWWjRLMGtwcGVQQlU4bTZhSVpvSDU3TC85dDRP"
    "b2FMOHlLcy9xaktGZUkxT0ZXWnh2QT0iLA0KICAgICAgICAiTUlJRE56Q0NBcUNnQXdJQkFnSUpBTUIxY3NOdUE2"
    "K2pNQTBHQ1NxR1NJYjNEUUVCQlFVQU1IRXhDekFKQmdOVkJBWVRBbFZUTVJJd0VBWURWUVFJRXdsVVpXNXVaWE56"
    "WldVeEdEQVdCZ05WQkFvVEQwVjRZVzF3YkdVZ1EyOXRjR0Z1ZVRFUU1BNEdBMVVFQXhNSFJYaGhiWEJzWlRFaU1D"
    "QUdDU3FHU0liM0RRRUpBUllUWlhoaGJYQnNaVUJsZUdGdGNHeGxMbU52YlRBZUZ3MHhNekEwTURReE5USTFOVE5h"
    "RncweU16QTBNREl4TlRJMU5UTmFNSEV4Q3pBSkJnTlZCQVlUQWxWVE1SSXdFQVlEVlFRSUV3bFVaVzV1WlhOelpX"
    "VXhHREFXQmdOVkJBb1REMFY0WVcxd2JHVWdRMjl0Y0dGdWVURVFNQTRHQTFVRUF4TUhSWGhoYlhCc1pURWlNQ0FH"
    "Q1NxR1NJYjNEUUVKQVJZVFpYaGhiWEJzWlVCbGVHRnRjR3hsTG1OdmJUQ0JuekFOQmdrcWhraUc5dzBCQVFFRkFB"
    "T0JqUUF3Z1lrQ2dZRUExc0JuQldQWjBmN1dKVUZUSnk1KzAxU2xTNVo2RERENlV5ZTl2SzlBeWNnVjVCMytXQzhI"
    "QzV1NWg5MU11akFDMUFSUFZVT3RzdlBSczQ1cUtORklnSUdSWEtQQXdaamF3RUkyc0NKUlNLVjQ3aTZCOGJEdjRX"
    "a3VHdlFhdmVaR0kwcWxtTjVSMUVpbTJnVUl0UmoxaGdjQzlyUWF2amxuRktEWTJybFhHdWtDQXdFQUFhT0IxakNC"
    "MHpBZEJnTlZIUTRFRmdRVXlWSWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCa3dnYU1HQTFVZEl3U0JtekNCbUlBVXlW"
    "SWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCbWhkYVJ6TUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xV"
    "Wlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJY"
    "QnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiWUlKQU1CMWNzTnVBNitq"
    "TUF3R0ExVWRFd1FGTUFNQkFmOHdEUVlKS29aSWh2Y05BUUVGQlFBRGdZRUFEaHdUZWJHazczNXlLaG04RHFDeHZO"
    "bkVaME54c1lFWU9qZ1JHMXlYVGxXNXBFNjkxZlNINUFaK1Q2ZnB3cFpjV1k1UVlrb042RG53ak94R2tTZlFDMy95"
    "R21jVURLQlB3aVo1TzJzOUMrZkUxa1VFbnJYMlhlYTRhZ1ZuZ016UjhEUTZvT2F1TFdxZWhEQitnMkVOV1JMb1Zn"
    "UyttYTUvWWNzMEdUeXJFQ1k9Ig0KICAgIF0NCn0.ew0KICAgICJ2ZXJzaW9uIjogIjEuMC4wIiwNCiAgICAiaWQi"
    "OiAiMzNjZmY0MTYtZTMzMS00YzlkLTk2OWUtNTM3M2ExNzU2MTIwIiwNCiAgICAiYWN0b3IiOiB7DQogICAgICAg"
    "ICJtYm94IjogIm1haWx0bzpleGFtcGxlQGV4YW1wbGUuY29tIiwNCiAgICAgICAgIm5hbWUiOiAiRXhhbXBsZSBM"
    "ZWFybmVyIiwNCiAgICAgICAgIm9iamVjdFR5cGUiOiAiQWdlbnQiDQogICAgfSwNCiAgICAidmVyYiI6IHsNCiAg"
    "ICAgICAgImlkIjogImh0dHA6Ly9hZGxuZXQuZ292L2V4cGFwaS92ZXJicy9leHBlcmllbmNlZCIsDQogICAgICAg"
    "ICJkaXNwbGF5Ijogew0KICAgICAgICAgICAgImVuLVVTIjogImV4cGVyaWVuY2VkIg0KICAgICAgICB9DQogICAg"
    "fSwNCiAgICAib2JqZWN0Ijogew0KICAgICAgICAiaWQiOiAiaHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g_"
    "dj14aDRrSWlIM1NtOCIsDQogICAgICAgICJvYmplY3RUeXBlIjogIkFjdGl2aXR5IiwNCiAgICAgICAgImRlZmlu"
    "aXRpb24iOiB7DQogICAgICAgICAgICAibmFtZSI6IHsNCiAgICAgICAgICAgICAgICAiZW4tVVMiOiAiVGF4IFRp"
    "cHMgJiBJbmZvcm1hdGlvbiA6IEhvdyB0byBGaWxlIGEgVGF4IFJldHVybiAiDQogICAgICAgICAgICB9LA0KICAg"
    "ICAgICAgICAgImRlc2NyaXB0aW9uIjogew0KICAgICAgICAgICAgICAgICJlbi1VUyI6ICJGaWxpbmcgYSB0YXgg"
    "cmV0dXJuIHdpbGwgcmVxdWlyZSBmaWxsaW5nIG91dCBlaXRoZXIgYSAxMDQwLCAxMDQwQSBvciAxMDQwRVogZm9y"
    "bSINCiAgICAgICAgICAgIH0NCiAgICAgICAgfQ0KICAgIH0sDQogICAgInRpbWVzdGFtcCI6ICIyMDEzLTA0LTAx"
    "VDEyOjAwOjAwWiINCn0.FWuwaPhwUbkk7h9sKW5zSvjsYNugvxJ-TrVaEgt_DCUT0bmKhQScRrjMB6P9O50uznPw"
    "T66oF1NnU_G0HVhRzS5voiXE-y7tT3z0M3-8A6YK009Bk_digVUul-HA4Fpd5IjoBBGe3yzaQ2ZvzarvRuipvNEQ"
    "CI0onpfuZZJQ0d8"
)
