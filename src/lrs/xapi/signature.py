"""Signed statements (xAPI 1.0.3 Data 2.6 "Signed Statements"; IEEE 9274.1.1 section 4.2.6).

A signed statement carries a JSON Web Signature (RFC 7515) as an attachment whose ``usageType`` is
``http://adlnet.gov/expapi/attachments/signature`` and whose ``contentType`` is
``application/octet-stream``. The LRS MUST reject a statement with a malformed signature with
400; to decide it MUST:

* decode the JWS and load the signed serialization of the statement from its payload;
* validate that this original statement is logically equivalent to the received statement
  (Data 2.3.1 "Statement Comparison Requirements", implemented once for the whole LRS in
  :func:`lrs.xapi.equivalence.statements_equivalent`: it ignores ``attachments``, which is what
  lets the payload - signed before the signature attachment was added - match, and ignores
  duration precision beyond 0.01 s, 1.0.3 Data 4.6 SHOULD*, 2.0 4.2.7 *shall*);
* if the JWS header includes an X.509 certificate (``x5c``), validate the signature against it;
* validate that the signature requirements are met: algorithm RS256, RS384 or RS512, payload a
  valid JSON serialization of the complete statement before the signature was added.

Version difference: xAPI 1.0.3 says JWS Compact Serialization SHOULD* be used (the JSON
serialization is "strongly discouraged" but allowed), so under 1.0.3 a JSON-serialized JWS is
accepted; IEEE 9274.1.1 says compact serialization *shall* be used, so under 2.0 only compact is
accepted.

Validation against ``x5c`` is, as the specification notes, "a way to catch mistakes in the
signature, not a security measure": the chain is checked for internal consistency (each
certificate issued by the next) but not against trust anchors or validity periods (the xAPI
Appendix D example certificate expired in 2014). Without ``x5c`` there is no key to check the
signature with, so only its form is checked (the conformance suite signs without ``x5c``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lrs.errors import BadRequest
from lrs.xapi.equivalence import statements_equivalent
from lrs.xapi.multipart import Attachment, media_type_essence
from lrs.xapi.versions import XapiVersion

SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"
"""``usageType`` of the attachment that holds a statement's JWS (Data 2.6)."""

SIGNATURE_CONTENT_TYPE = "application/octet-stream"
"""Required ``contentType`` of the signature attachment (Data 2.6)."""

ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}
"""The only JWS algorithms xAPI allows, with the hash each uses (RSASSA-PKCS1-v1_5, RFC 7518)."""

Equivalence = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
"""``equivalent(original, received)``: is the signed statement logically the received one?"""

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class _JwsSignature:
    header: dict[str, Any]
    signing_input: bytes
    signature: bytes


# --- public API ------------------------------------------------------------------------------


def signature_attachments(statement: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the statement's signature Attachment Objects (usually none or one).

    An attachment whose ``usageType`` is the signature usage type but whose ``contentType`` is not
    ``application/octet-stream`` is a malformed signature (Data 2.6, XAPI-00115): 400.
    """
    attachments = statement.get("attachments")
    if not isinstance(attachments, list):
        return []
    found: list[Mapping[str, Any]] = []
    for index, attachment in enumerate(attachments):
        if not isinstance(attachment, Mapping):
            continue
        if attachment.get("usageType") != SIGNATURE_USAGE_TYPE:
            continue
        content_type = attachment.get("contentType")
        if (
            not isinstance(content_type, str)
            or media_type_essence(content_type) != SIGNATURE_CONTENT_TYPE
        ):
            raise BadRequest(
                f"attachments[{index}] has the signature usageType {SIGNATURE_USAGE_TYPE} but "
                f"contentType {content_type!r}; a statement signature must be a JWS attachment "
                f"with contentType {SIGNATURE_CONTENT_TYPE} (Data 2.6)."
            )
        found.append(attachment)
    return found


def verify_statement_signatures(
    statements: Sequence[Mapping[str, Any]],
    parts: Mapping[str, Attachment],
    *,
    version: XapiVersion,
    equivalent: Equivalence | None = None,
) -> None:
    """Verify every signed statement of a request against its signature part (Data 2.6).

    ``parts`` are the attachment parts of the request keyed by SHA-2 (as returned by
    :func:`lrs.xapi.multipart.check_attachments`). A signature attachment must arrive as a part:
    a ``fileUrl`` alone does not carry the signature (XAPI-00115). Raises :class:`BadRequest` on
    the first statement whose signature is malformed.
    """
    lowered = {key.lower(): part for key, part in parts.items()}
    for index, statement in enumerate(statements):
        for attachment in signature_attachments(statement):
            sha2 = attachment.get("sha2")
            part = lowered.get(sha2.lower()) if isinstance(sha2, str) else None
            where = "" if len(statements) == 1 else f" (statement {index})"
            if part is None:
                raise BadRequest(
                    f"The signature attachment with sha2 {sha2!r}{where} was not sent: a signed "
                    "statement must include its JWS as a multipart/mixed part (Data 2.6)."
                )
            try:
                verify_signed_statement(
                    statement, part.data, version=version, equivalent=equivalent
                )
            except BadRequest as exc:
                if not where:
                    raise
                raise BadRequest(f"{exc.message}{where}") from None


def verify_signed_statement(
    statement: Mapping[str, Any],
    signature_part: bytes,
    *,
    version: XapiVersion = XapiVersion.V2_0_0,
    equivalent: Equivalence | None = None,
) -> None:
    """Check that ``signature_part`` is a well-formed JWS signature of ``statement`` (Data 2.6).

    The part must be a JWS (RFC 7515) in compact serialization (under xAPI 1.0.3 the JSON
    serialization is also accepted) whose ``alg`` is RS256, RS384 or RS512 and whose payload is a
    JSON object; if the JOSE header has ``x5c`` the signature must verify with the first
    certificate's RSA public key and each certificate must be issued by the next. Finally
    ``equivalent(payload, statement)`` - by default
    :func:`lrs.xapi.equivalence.statements_equivalent` (Data 2.3.1) - must hold.
    Any failure raises :class:`BadRequest` saying which rule failed. ``version`` selects the
    rule set (default: xAPI 2.0, compact serialization only).
    """
    try:
        text = signature_part.decode("ascii").strip()
    except UnicodeDecodeError:
        raise BadRequest(
            "The signature attachment is not a JWS: it must be ASCII text in JWS Compact "
            "Serialization (RFC 7515 section 7.1, Data 2.6)."
        ) from None

    payload, signatures = _parse_jws(text, version)
    for signature in signatures:
        _check_signature(signature)

    original = _decode_payload(payload)

    for signature in signatures:
        if "x5c" in signature.header:
            _verify_with_x5c(signature)

    check = equivalent or statements_equivalent
    if not check(original, statement):
        raise BadRequest(
            "The statement signed in the JWS payload is not logically equivalent to the received "
            "statement; the payload must be the complete statement as it was before the "
            "signature attachment was added (Data 2.6, 2.3.1)."
        )


# --- JWS parsing -----------------------------------------------------------------------------


def _parse_jws(text: str, version: XapiVersion) -> tuple[str, list[_JwsSignature]]:
    """Return the base64url payload and the signatures of a compact or JSON-serialized JWS."""
    if text.startswith("{"):
        if version.is_v2:
            raise BadRequest(
                "The signature attachment uses the JWS JSON Serialization; xAPI 2.0 requires JWS "
                "Compact Serialization (IEEE 9274.1.1 section 4.2.6)."
            )
        return _parse_json_serialization(text)

    segments = text.split(".")
    if len(segments) != 3:
        raise BadRequest(
            f"The signature attachment is not a JWS in Compact Serialization: expected three "
            f"base64url segments separated by '.', found {len(segments)} (RFC 7515 section 7.1, "
            "Data 2.6)."
        )
    protected, payload, signature = segments
    header = _decode_json_object(_b64url(protected, "JWS protected header"), "JWS header")
    return payload, [
        _JwsSignature(
            header=header,
            signing_input=f"{protected}.{payload}".encode("ascii"),
            signature=_b64url(signature, "JWS signature"),
        )
    ]


def _parse_json_serialization(text: str) -> tuple[str, list[_JwsSignature]]:
    document = _decode_json_object(text.encode("ascii"), "JWS JSON Serialization")
    payload = document.get("payload")
    if not isinstance(payload, str):
        raise BadRequest("The JWS JSON Serialization has no 'payload' string (RFC 7515 7.2).")
    if "signatures" in document:
        if "signature" in document:
            raise BadRequest(
                "The JWS JSON Serialization has both 'signatures' and 'signature' (RFC 7515 7.2)."
            )
        entries = document["signatures"]
        if not isinstance(entries, list) or not entries:
            raise BadRequest("The JWS 'signatures' member must be a non-empty array (RFC 7515).")
    else:
        entries = [document]

    signatures: list[_JwsSignature] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("signature"), str):
            raise BadRequest("Each JWS signature object needs a 'signature' string (RFC 7515).")
        protected = entry.get("protected", "")
        unprotected = entry.get("header", {})
        if not isinstance(protected, str) or not isinstance(unprotected, dict):
            raise BadRequest(
                "A JWS 'protected' member must be a string and 'header' an object (RFC 7515)."
            )
        header: dict[str, Any] = {}
        if protected:
            header = _decode_json_object(_b64url(protected, "JWS protected header"), "JWS header")
        overlap = header.keys() & unprotected.keys()
        if overlap:
            raise BadRequest(
                f"JWS header parameters {sorted(overlap)} appear in both the protected and the "
                "unprotected header (RFC 7515 section 7.2.1)."
            )
        header.update(unprotected)
        signatures.append(
            _JwsSignature(
                header=header,
                signing_input=f"{protected}.{payload}".encode("ascii"),
                signature=_b64url(entry["signature"], "JWS signature"),
            )
        )
    return payload, signatures


def _check_signature(signature: _JwsSignature) -> None:
    header = signature.header
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        shown = "no 'alg'" if alg is None else f"alg {alg!r}"
        raise BadRequest(
            f"The JWS header has {shown}; a statement signature must use RS256, RS384 or RS512 "
            "(Data 2.6)."
        )
    if "crit" in header:
        raise BadRequest(
            f"The JWS header marks extensions {header['crit']!r} as critical; this LRS "
            "understands none, so it must reject the JWS (RFC 7515 section 4.1.11)."
        )
    if not signature.signature:
        raise BadRequest(
            f"The JWS signature is empty; an {alg} JWS carries an RSASSA-PKCS1-v1_5 signature "
            "(RFC 7518 section 3.3, Data 2.6)."
        )


def _decode_payload(payload: str) -> dict[str, Any]:
    raw = _b64url(payload, "JWS payload")
    try:
        original = _decode_json_object(raw, "JWS payload")
    except BadRequest:
        raise BadRequest(
            "The JWS payload is not a valid JSON serialization of a statement; it must be the "
            "complete statement before the signature was added (Data 2.6)."
        ) from None
    return original


def _b64url(segment: str, what: str) -> bytes:
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise BadRequest(
            f"The {what} is not base64url without padding (RFC 7515 section 2), so the "
            "signature attachment is not a well-formed JWS (Data 2.6)."
        )
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise BadRequest(f"The {what} is not valid base64url (RFC 7515 section 2).") from None


def _decode_json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_reject_duplicate_members,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The {what} is not valid UTF-8 JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise BadRequest(f"The {what} must be a JSON object.")
    return value


def _reject_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# --- X.509 -----------------------------------------------------------------------------------


def _verify_with_x5c(signature: _JwsSignature) -> None:
    chain = signature.header["x5c"]
    if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
        raise BadRequest(
            "The JWS header 'x5c' must be a non-empty array of base64 DER certificates "
            "(RFC 7515 section 4.1.6)."
        )
    certificates = [_load_certificate(index, value) for index, value in enumerate(chain)]

    public_key = certificates[0].public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise BadRequest(
            "The first certificate in the JWS 'x5c' does not hold an RSA key, but RS256, RS384 "
            "and RS512 signatures need one (Data 2.6)."
        )
    alg = signature.header["alg"]
    try:
        public_key.verify(
            signature.signature, signature.signing_input, padding.PKCS1v15(), ALGORITHMS[alg]()
        )
    except InvalidSignature:
        raise BadRequest(
            f"The JWS signature does not verify ({alg}) with the public key of the first "
            "certificate in its 'x5c' header (Data 2.6)."
        ) from None

    for index in range(len(certificates) - 1):
        child, issuer = certificates[index], certificates[index + 1]
        if child.issuer != issuer.subject:
            raise BadRequest(
                f"x5c[{index}] is not issued by x5c[{index + 1}]; each certificate in the chain "
                "must certify the one before it (RFC 7515 section 4.1.6)."
            )
        try:
            child.verify_directly_issued_by(issuer)
        except InvalidSignature:
            raise BadRequest(
                f"The signature on x5c[{index}] does not verify with the key of x5c[{index + 1}] "
                "(RFC 7515 section 4.1.6)."
            ) from None
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # An algorithm this build cannot check (e.g. SHA-1 as in the xAPI Appendix D example):
            # the check is a mistake-catcher, not a security measure (Data 2.6 note).
            continue


def _load_certificate(index: int, value: str) -> x509.Certificate:
    try:
        der = base64.b64decode(value, validate=True)
        return x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise BadRequest(
            f"x5c[{index}] in the JWS header is not a base64 (not base64url) DER X.509 "
            "certificate (RFC 7515 section 4.1.6)."
        ) from None
