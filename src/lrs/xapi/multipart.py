"""Statement requests and responses in ``multipart/mixed`` form (statements with attachments).

Rules implemented (xAPI 1.0.3 Communication 1.5.2 "Multipart/Mixed" and Data 2.4.11
"Attachments"; IEEE 9274.1.1 (xAPI 2.0) section 4.1.3 "Content Types" and 4.2.2.6 say the same):

* the body conforms to RFC 2046 ``multipart/mixed``; the boundary comes from the request's
  ``Content-Type`` header, every delimiter is ``CRLF--boundary`` and the body ends with the close
  delimiter ``--boundary--``;
* the first part holds the statements and its ``Content-Type`` is ``application/json``;
* every other part carries an ``X-Experience-API-Hash`` header (the SHA-2 of its raw octets) and a
  ``Content-Transfer-Encoding`` of ``binary``; the LRS "SHOULD assume a Content-Transfer-Encoding of
  binary for Attachment parts", so a part without the header is read as binary and a part declaring
  any other encoding is rejected;
* the LRS matches a part to the attachment metadata by comparing the SHA-2 of the part's raw data
  with the declared hash "and MUST not do so any other way";
* attachment metadata without a ``fileUrl`` must have a matching part, and a part that no
  attachment metadata names is an excess part (conformance requirements XAPI-00128, XAPI-00129);
* where a part header has a corresponding attachment property and both are given they must
  match: ``X-Experience-API-Hash`` ~ ``sha2`` always, ``Content-Type`` ~ ``contentType`` by media
  type; a part's ``Content-Length`` must equal its size, but the ``length`` property is not
  compared with the data (the conformance suite sends a mismatching ``length`` and expects 200).

Everything here is pure: bytes and dicts in, values out, :class:`~lrs.errors.BadRequest` on any
violation. Parsing is a single forward scan with :meth:`bytes.find`, linear in the body size.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lrs.errors import BadRequest

HASH_HEADER = "X-Experience-API-Hash"
"""Part header that carries the SHA-2 (hex) of an attachment part's raw data."""

_CRLF = b"\r\n"
_LWSP = b" \t"
_HEX = re.compile(r"[0-9a-fA-F]+")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

# Hex digest length -> hashlib names of the SHA-2 functions with that digest size (FIPS 180-4).
_SHA2_BY_HEX_LENGTH: dict[int, tuple[str, ...]] = {
    56: ("sha224", "sha512_224"),
    64: ("sha256", "sha512_256"),
    96: ("sha384",),
    128: ("sha512",),
}


@dataclass(frozen=True, slots=True)
class Attachment:
    """The raw data of one attachment, identified by its SHA-2 hex digest (lower case).

    ``content_type`` is the part's ``Content-Type`` header, or ``None`` when the part had none
    (:func:`check_attachments` then fills it from the attachment metadata).
    """

    sha2: str
    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class MultipartStatements:
    """A parsed ``multipart/mixed`` statement request.

    ``statements_json`` is the raw first part (still to be parsed as JSON by the caller);
    ``attachments`` maps each part's SHA-2 (lower-case hex) to its data.
    """

    statements_json: bytes
    attachments: dict[str, Attachment]


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a ``Content-Type`` value into its lower-case ``type/subtype`` and its parameters.

    Parameter names are lower-cased; quoted values (RFC 2045 / RFC 7231 ``quoted-string``) are
    unquoted. Raises :class:`BadRequest` if the value is not a media type.
    """
    pieces = _split_parameters(value)
    essence = pieces[0].strip().lower()
    type_, sep, subtype = essence.partition("/")
    if not sep or not _TOKEN.fullmatch(type_) or not _TOKEN.fullmatch(subtype):
        raise BadRequest(f"{value!r} is not an Internet media type (type/subtype).")
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        if not piece.strip():
            continue
        name, eq, raw = piece.partition("=")
        name = name.strip().lower()
        if not eq or not _TOKEN.fullmatch(name):
            raise BadRequest(f"Malformed media type parameter {piece.strip()!r} in {value!r}.")
        params[name] = _unquote(raw.strip())
    return essence, params


def media_type_essence(value: str) -> str:
    """The lower-case ``type/subtype`` of a media type, without parameters (no validation)."""
    return value.split(";", 1)[0].strip().lower()


def parse_statement_multipart(
    content_type_header: str, body: bytes, *, require_transfer_encoding: bool = False
) -> MultipartStatements:
    """Parse a ``multipart/mixed`` statement request (xAPI 1.0.3 Communication 1.5.2).

    ``content_type_header`` is the request's ``Content-Type``; it must be ``multipart/mixed`` with
    a ``boundary`` parameter. The first part must be ``application/json`` and is returned as raw
    bytes. Every further part must declare ``X-Experience-API-Hash`` and its data must hash to that
    value with the SHA-2 function of the digest's length (SHA-224/256/384/512, or SHA-512/224 and
    SHA-512/256). A ``Content-Transfer-Encoding`` other than ``binary`` is rejected; a missing one
    is taken as ``binary`` (Communication 1.5.2: the LRS "SHOULD assume a Content-Transfer-Encoding
    of binary") unless ``require_transfer_encoding`` is true.

    Several parts with the same hash carry the same octets (the hash was verified), so one copy is
    kept. Raises :class:`BadRequest` with the rule that was broken.
    """
    boundary = _boundary_from_header(content_type_header)
    parts = list(_split_parts(body, boundary.encode("latin-1")))
    if not parts:
        raise BadRequest(
            "The multipart/mixed body has no parts; the first part must hold the statements "
            "(Communication 1.5.2)."
        )

    first_headers, first_data = parts[0]
    first_type = first_headers.get("content-type")
    if first_type is None or media_type_essence(first_type) != "application/json":
        shown = "no Content-Type" if first_type is None else f"Content-Type {first_type!r}"
        raise BadRequest(
            f"The first part of a multipart/mixed statement request must have Content-Type "
            f"application/json and hold the statements, but it has {shown} "
            "(Communication 1.5.2)."
        )
    parse_media_type(first_type)
    if not first_data.strip():
        raise BadRequest("The first (statements) part of the multipart/mixed body is empty.")

    attachments: dict[str, Attachment] = {}
    for number, (headers, data) in enumerate(parts[1:], start=2):
        attachment = _attachment_part(number, headers, data, require_transfer_encoding)
        attachments.setdefault(attachment.sha2, attachment)
    return MultipartStatements(statements_json=first_data, attachments=attachments)


def check_attachments(
    statements: Sequence[Mapping[str, Any]], parts: Mapping[str, Attachment]
) -> dict[str, Attachment]:
    """Match the attachment metadata in ``statements`` with the received ``parts``.

    xAPI 1.0.3 Communication 1.5.1/1.5.2 and Data 2.4.11:

    * every Attachment Object without a ``fileUrl`` - in a statement or in a SubStatement object
      (Data 2.4.11 allows attachments there) - must have a part whose hash equals its ``sha2``;
      for an ``application/json`` request the caller passes an empty ``parts``, so any such
      attachment is rejected;
    * every part must be named by the ``sha2`` of some Attachment Object (with or without a
      ``fileUrl``); otherwise it is an excess part (XAPI-00128);
    * when a part has a ``Content-Type`` and the attachment a ``contentType`` their media types
      must match (parameters such as ``charset`` are not compared: the Communication 1.5.2
      example itself pairs ``text/plain; charset=ascii`` with a ``text/plain`` part).

    The ``length`` property is not compared with the part's size: the conformance suite
    (H.Communication1.5, XAPI-00127) sends an image's file size as ``length`` with the image's
    hex text as the part and expects it stored; the hash is what identifies the data. (A part's
    own ``Content-Length`` header, if any, is checked against its data by the parser.)

    Returns the parts keyed by lower-case hash, with ``content_type`` filled in from the metadata
    where the part had none. Malformed Attachment Objects are skipped here; validating their shape
    is the statement validator's job.
    """
    parts = {key.lower(): part for key, part in parts.items()}
    metadata_by_hash: dict[str, list[Mapping[str, Any]]] = {}
    for statement_index, location, attachment in _iter_attachment_metadata(statements):
        sha2 = attachment["sha2"].lower()
        metadata_by_hash.setdefault(sha2, []).append(attachment)
        if "fileUrl" not in attachment and sha2 not in parts:
            where = _where(len(statements), statement_index, location)
            if not parts:
                raise BadRequest(
                    f"Attachment with sha2 {attachment['sha2']!r} in {where} has no fileUrl, so "
                    "its data must be sent: use a multipart/mixed request with a part whose "
                    f"{HASH_HEADER} is that sha2, or give the attachment a fileUrl "
                    "(Communication 1.5.1, 1.5.2)."
                )
            raise BadRequest(
                f"Attachment with sha2 {attachment['sha2']!r} in {where} has no fileUrl and no "
                f"multipart part has {HASH_HEADER} {sha2}; send its data or give it a fileUrl "
                "(Communication 1.5.2)."
            )

    stored: dict[str, Attachment] = {}
    for sha2, part in parts.items():
        described = metadata_by_hash.get(sha2)
        if not described:
            raise BadRequest(
                f"The multipart part with {HASH_HEADER} {sha2} matches no attachment's sha2 in "
                "the statements; excess parts are not allowed (Communication 1.5.1, 1.5.2)."
            )
        content_type = part.content_type
        for attachment in described:
            declared = attachment.get("contentType")
            if (
                content_type is not None
                and isinstance(declared, str)
                and media_type_essence(declared) != media_type_essence(content_type)
            ):
                raise BadRequest(
                    f"The part with {HASH_HEADER} {sha2} has Content-Type {content_type!r} but "
                    f"its attachment declares contentType {declared!r}; they must match "
                    "(Communication 1.5.2)."
                )
        if content_type is None:
            declared_types = [a.get("contentType") for a in described]
            content_type = next((t for t in declared_types if isinstance(t, str)), None)
        stored[sha2] = replace(part, sha2=sha2, content_type=content_type)
    return stored


def build_statement_multipart(
    statements_json: bytes, attachments: Sequence[Attachment]
) -> tuple[str, bytes]:
    """Build a ``multipart/mixed`` response for ``GET /statements?attachments=true``.

    xAPI 1.0.3 Communication 2.1.3 and 1.5.2: the first part is the statement (or StatementResult)
    as ``application/json``; each attachment follows once (the same hash is sent once) with
    ``Content-Type``, ``Content-Transfer-Encoding: binary`` and ``X-Experience-API-Hash``.

    Returns ``(content_type_header, body)``. The boundary is fresh, alphanumeric (so clients may
    use it unquoted, even inside a regular expression) and checked not to occur in any part.
    """
    unique: dict[str, Attachment] = {}
    for attachment in attachments:
        unique.setdefault(attachment.sha2.lower(), attachment)

    boundary = _fresh_boundary(statements_json, unique.values())
    delimiter = b"--" + boundary.encode("ascii")
    chunks: list[bytes] = [
        delimiter,
        b"\r\nContent-Type: application/json\r\n\r\n",
        statements_json,
    ]
    for sha2, attachment in unique.items():
        header = (
            f"\r\n--{boundary}\r\n"
            f"Content-Type: {_safe_header_value(attachment.content_type)}\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            f"{HASH_HEADER}: {sha2}\r\n\r\n"
        )
        chunks.append(header.encode("latin-1"))
        chunks.append(attachment.data)
    chunks.append(b"\r\n" + delimiter + b"--\r\n")
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)


# --- parsing helpers -------------------------------------------------------------------------


def _boundary_from_header(content_type_header: str) -> str:
    try:
        essence, params = parse_media_type(content_type_header)
    except BadRequest as exc:
        raise BadRequest(f"Malformed Content-Type header: {exc.message}") from None
    if essence != "multipart/mixed":
        raise BadRequest(
            f"A statement request with attachments must be multipart/mixed, not {essence} "
            "(Communication 1.5.2)."
        )
    boundary = params.get("boundary")
    if not boundary:
        raise BadRequest(
            "The multipart/mixed Content-Type header has no boundary parameter "
            "(RFC 2046 section 5.1.1, Communication 1.5.2)."
        )
    if any(ord(c) < 0x20 or ord(c) > 0x7E for c in boundary):
        raise BadRequest(
            "The multipart boundary may only contain printable ASCII characters (RFC 2046)."
        )
    return boundary


def _split_parameters(value: str) -> list[str]:
    """Split on ``;`` outside quoted strings."""
    pieces: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and in_quotes:
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            in_quotes = not in_quotes
        elif char == ";" and not in_quotes:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    if in_quotes:
        raise BadRequest(f"Unterminated quoted string in {value!r}.")
    pieces.append("".join(current))
    return pieces


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _split_parts(body: bytes, boundary: bytes) -> Iterator[tuple[dict[str, str], bytes]]:
    """Yield ``(headers, data)`` per body part in one forward scan (RFC 2046 section 5.1.1)."""
    dash_boundary = b"--" + boundary
    delimiter = _CRLF + dash_boundary

    if body.startswith(dash_boundary):
        position = len(dash_boundary)
    else:
        found = body.find(delimiter)
        if found < 0:
            raise BadRequest(
                f"The body never contains the boundary --{boundary.decode('latin-1')} given in "
                "the Content-Type header; every part must start with it (RFC 2046, "
                "Communication 1.5.2)."
            )
        position = found + len(delimiter)

    while True:
        # ``position`` is just past a dash-boundary.
        if body.startswith(b"--", position):
            _check_epilogue(body, position + 2)
            return
        position = _skip(body, position, _LWSP)
        if not body.startswith(_CRLF, position):
            raise BadRequest(
                "A boundary line in the multipart body is not followed by CRLF: either the "
                "boundary string also occurs inside a part, or lines do not end with CRLF "
                "(RFC 2046 section 5.1.1)."
            )
        start = position + 2
        end = body.find(delimiter, start)
        if end < 0:
            raise BadRequest(
                f"The multipart body does not end with the close delimiter "
                f"--{boundary.decode('latin-1')}--; it may be truncated (RFC 2046)."
            )
        yield _split_headers(body, start, end)
        position = end + len(delimiter)


def _check_epilogue(body: bytes, position: int) -> None:
    position = _skip(body, position, _LWSP)
    if position < len(body) and not body.startswith(_CRLF, position):
        raise BadRequest(
            "Unexpected data right after the multipart close delimiter; it must be followed by "
            "CRLF or end the body (RFC 2046 section 5.1.1)."
        )


def _skip(body: bytes, position: int, chars: bytes) -> int:
    while position < len(body) and body[position] in chars:
        position += 1
    return position


def _split_headers(body: bytes, start: int, end: int) -> tuple[dict[str, str], bytes]:
    if body.startswith(_CRLF, start) and start + 2 <= end:
        return {}, body[start + 2 : end]
    blank = body.find(b"\r\n\r\n", start, end)
    if blank < 0:
        raise BadRequest(
            "A multipart part has no empty line (CRLF CRLF) between its headers and its data "
            "(RFC 2046, RFC 5322)."
        )
    try:
        text = body[start:blank].decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("Multipart part headers must be ASCII text.") from None
    return _parse_header_block(text), body[blank + 4 : end]


def _parse_header_block(text: str) -> dict[str, str]:
    lines: list[str] = []
    for line in text.split("\r\n"):
        if "\n" in line or "\r" in line:
            raise BadRequest("Multipart part header lines must end with CRLF, not a bare CR or LF.")
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()  # obsolete line folding (RFC 5322 section 2.2.3)
        else:
            lines.append(line)
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadRequest(f"Malformed multipart part header line {line!r}.")
        key = name.lower()
        if key in headers:
            raise BadRequest(f"A multipart part repeats the {name} header.")
        headers[key] = value.strip()
    return headers


def _attachment_part(
    number: int, headers: dict[str, str], data: bytes, require_transfer_encoding: bool
) -> Attachment:
    declared = headers.get(HASH_HEADER.lower())
    if declared is None:
        raise BadRequest(
            f"Multipart part {number} has no {HASH_HEADER} header; every part after the first "
            "must carry the SHA-2 of its data (Communication 1.5.2)."
        )
    if not _HEX.fullmatch(declared) or len(declared) not in _SHA2_BY_HEX_LENGTH:
        raise BadRequest(
            f"{HASH_HEADER} {declared!r} of multipart part {number} is not a hex SHA-2 digest "
            "(SHA-224, SHA-256, SHA-384 or SHA-512) (Data 2.4.11)."
        )
    sha2 = declared.lower()

    encoding = headers.get("content-transfer-encoding")
    if encoding is None:
        if require_transfer_encoding:
            raise BadRequest(
                f"Multipart part {number} has no Content-Transfer-Encoding header; it must be "
                "'binary' (Communication 1.5.2)."
            )
    elif encoding.strip().lower() != "binary":
        raise BadRequest(
            f"Multipart part {number} has Content-Transfer-Encoding {encoding!r}; attachment "
            "parts must be sent as raw octets with Content-Transfer-Encoding: binary "
            "(Communication 1.5.2)."
        )

    content_type = headers.get("content-type")
    if content_type is not None:
        parse_media_type(content_type)

    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) != len(data)):
        raise BadRequest(
            f"Multipart part {number} declares Content-Length {length!r} but carries "
            f"{len(data)} octets."
        )

    if not _digest_matches(sha2, data):
        raise BadRequest(
            f"The data of multipart part {number} does not hash to its {HASH_HEADER} {sha2}; "
            "the header must be the SHA-2 of the part's raw octets (Communication 1.5.2)."
        )
    return Attachment(sha2=sha2, content_type=content_type, data=data)


def _digest_matches(sha2: str, data: bytes) -> bool:
    for name in _SHA2_BY_HEX_LENGTH[len(sha2)]:
        try:
            digest = hashlib.new(name, data).hexdigest()
        except ValueError:  # this OpenSSL build lacks the truncated SHA-512 variants
            continue
        if secrets.compare_digest(digest, sha2):
            return True
    return False


def _iter_attachment_metadata(
    statements: Sequence[Mapping[str, Any]],
) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    """Yield ``(statement index, location, attachment)`` for well-formed Attachment Objects."""
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            continue
        yield from _attachments_of(index, "", statement)
        target = statement.get("object")
        if isinstance(target, Mapping) and target.get("objectType") == "SubStatement":
            yield from _attachments_of(index, "object.", target)


def _attachments_of(
    index: int, prefix: str, statement: Mapping[str, Any]
) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    attachments = statement.get("attachments")
    if not isinstance(attachments, list):
        return
    for position, attachment in enumerate(attachments):
        if isinstance(attachment, Mapping) and isinstance(attachment.get("sha2"), str):
            yield index, f"{prefix}attachments[{position}]", attachment


def _where(count: int, index: int, location: str) -> str:
    return location if count == 1 else f"statement {index} {location}"


# --- building helpers ------------------------------------------------------------------------


def _fresh_boundary(statements_json: bytes, attachments: Iterable[Attachment]) -> str:
    parts = [statements_json, *(a.data for a in attachments)]
    while True:
        boundary = "xapi" + secrets.token_hex(20)
        marker = boundary.encode("ascii")
        if not any(marker in part for part in parts):
            return boundary


def _safe_header_value(content_type: str | None) -> str:
    if content_type is None or any(c in content_type for c in "\r\n\x00"):
        return "application/octet-stream"
    try:
        parse_media_type(content_type)
    except BadRequest:
        return "application/octet-stream"
    return content_type
