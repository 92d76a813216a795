"""Tests for :mod:`lrs.xapi.multipart` (xAPI 1.0.3 Communication 1.5.2, Data 2.4.11).

Bodies are built byte by byte the way the conformance suite builds them (test/v1_0_3/
H.Communication1.5-ContentTypes.js, H.Communication2.1-StatementResource.js, helper.js).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.multipart import (
    Attachment,
    build_statement_multipart,
    check_attachments,
    parse_media_type,
    parse_statement_multipart,
)

BOUNDARY = "-------314159265358979323846"
CONTENT_TYPE = f"multipart/mixed; boundary={BOUNDARY}"
TEXT1 = b"here is a simple attachment"
TEXT1_SHA256 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
TEXT2 = b"here is another simple attachment"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachment_meta(
    data: bytes, *, content_type: str = "text/plain", **extra: Any
) -> dict[str, Any]:
    return {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": content_type,
        "length": len(data),
        "sha2": sha256(data),
        **extra,
    }


def statement(*attachments: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "actor": {"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": "http://www.example.com/meetings/occurances/34534"},
    }
    if attachments:
        result["attachments"] = list(attachments)
    return result


def part(data: bytes, *headers: str) -> bytes:
    return "".join(f"{h}\r\n" for h in headers).encode() + b"\r\n" + data


def attachment_part(data: bytes, content_type: str = "text/plain") -> bytes:
    return part(
        data,
        f"Content-Type: {content_type}",
        "Content-Transfer-Encoding: binary",
        f"X-Experience-API-Hash: {sha256(data)}",
    )


def json_part(document: Any) -> bytes:
    return part(json.dumps(document).encode(), "Content-Type: application/json")


def multipart(*parts: bytes, boundary: str = BOUNDARY, preamble: bytes = b"") -> bytes:
    """The suite's layout: ``--B CRLF part CRLF`` ... ``--B-- CRLF``."""
    dash = b"--" + boundary.encode()
    chunks = [preamble]
    for chunk in parts:
        chunks += [dash, b"\r\n", chunk, b"\r\n"]
    return b"".join([*chunks, dash, b"--\r\n"])


# --- parse_statement_multipart: accepted bodies ------------------------------------------------


def test_parses_suite_layout_with_one_attachment() -> None:
    stmt = statement(attachment_meta(TEXT1))
    body = multipart(json_part(stmt), attachment_part(TEXT1))

    parsed = parse_statement_multipart(CONTENT_TYPE, body)

    assert json.loads(parsed.statements_json) == stmt
    assert parsed.attachments == {
        TEXT1_SHA256: Attachment(sha2=TEXT1_SHA256, content_type="text/plain", data=TEXT1)
    }


def test_parses_signed_statement_helper_layout() -> None:
    """helper.signStatement: CRLF preamble, no space after colons, no CRLF after the close."""
    data = b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
    dash = f"--{BOUNDARY}".encode()
    body = (
        b"\r\n" + dash + b"\r\nContent-Type:application/json\r\n\r\n{}"
        b"\r\n" + dash + b"\r\nContent-Type:application/octet-stream\r\n"
        b"Content-Transfer-Encoding:binary\r\nX-Experience-API-Hash:"
        + sha256(data).encode()
        + b"\r\n\r\n"
        + data
        + b"\r\n"
        + dash
        + b"--"
    )

    parsed = parse_statement_multipart(CONTENT_TYPE, body)

    assert parsed.statements_json == b"{}"
    assert parsed.attachments[sha256(data)].data == data
    assert parsed.attachments[sha256(data)].content_type == "application/octet-stream"


def test_parses_the_communication_1_5_2_example_with_quoted_boundary() -> None:
    boundary = "abcABC0123'()+_,-./:=?"
    stmt = statement(attachment_meta(TEXT1, content_type="text/plain; charset=ascii"))
    dash = f"--{boundary}".encode()
    body = b"\r\n" + dash + b"\r\nContent-Type:application/json\r\n\r\n" + json.dumps(stmt).encode()
    body += b"\r\n" + dash + b"\r\nContent-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\n"
    body += f"X-Experience-API-Hash:{TEXT1_SHA256}\r\n\r\n".encode() + TEXT1
    body += b"\r\n" + dash + b"--"

    parsed = parse_statement_multipart(f'multipart/mixed; boundary="{boundary}"', body)

    assert parsed.attachments[TEXT1_SHA256].data == TEXT1
    # Data 2.4.11: the spec's own example pairs "text/plain; charset=ascii" with "text/plain".
    stored = check_attachments([stmt], parsed.attachments)
    assert stored[TEXT1_SHA256].content_type == "text/plain"


def test_binary_data_with_crlf_dashes_and_every_octet_survives() -> None:
    data = bytes(range(256)) + b"\r\n--\r\n--" + BOUNDARY[:-1].encode() + b"\r\n\r\n" + b"\x00"
    body = multipart(json_part(statement()), attachment_part(data, "application/octet-stream"))

    parsed = parse_statement_multipart(CONTENT_TYPE, body)

    assert parsed.attachments[sha256(data)].data == data


def test_zero_length_attachment() -> None:
    body = multipart(json_part(statement()), attachment_part(b""))

    parsed = parse_statement_multipart(CONTENT_TYPE, body)

    assert parsed.attachments[sha256(b"")].data == b""


@pytest.mark.parametrize("algorithm", ["sha224", "sha256", "sha384", "sha512"])
def test_any_sha2_digest_is_accepted(algorithm: str) -> None:
    digest = hashlib.new(algorithm, TEXT1).hexdigest()
    attachment = part(TEXT1, "Content-Type: text/plain", f"X-Experience-API-Hash: {digest.upper()}")
    body = multipart(json_part(statement()), attachment)

    parsed = parse_statement_multipart(CONTENT_TYPE, body)

    assert list(parsed.attachments) == [digest]  # normalised to lower case


def test_header_names_are_case_insensitive_and_folding_is_unfolded() -> None:
    attachment = part(
        TEXT1,
        "content-type: text/plain;",
        "  charset=ascii",
        "CONTENT-TRANSFER-ENCODING: Binary",
        f"x-experience-api-hash: {TEXT1_SHA256}",
    )
    body = multipart(part(b"[]", "CONTENT-TYPE: Application/JSON; charset=utf-8"), attachment)

    parsed = parse_statement_multipart("Multipart/Mixed; BOUNDARY=" + BOUNDARY, body)

    assert parsed.attachments[TEXT1_SHA256].content_type == "text/plain; charset=ascii"


def test_repeated_part_for_the_same_hash_is_kept_once() -> None:
    body = multipart(json_part([]), attachment_part(TEXT1), attachment_part(TEXT1))

    parsed = parse_statement_multipart(CONTENT_TYPE, body)

    assert list(parsed.attachments) == [TEXT1_SHA256]


def test_multipart_without_attachments_is_accepted() -> None:
    """IEEE 9274.1.1 4.1.3 (and 1.0.3 SHOULD*): multipart batches need not carry attachments."""
    body = multipart(json_part(statement()))

    parsed = parse_statement_multipart(CONTENT_TYPE, body)

    assert parsed.attachments == {}
    assert json.loads(parsed.statements_json) == statement()


def test_preamble_and_epilogue_are_ignored() -> None:
    body = multipart(json_part([]), preamble=b"This is a preamble.\r\n") + b"epilogue text"

    assert parse_statement_multipart(CONTENT_TYPE, body).statements_json == b"[]"


def test_transport_padding_after_a_boundary_is_allowed() -> None:
    dash = f"--{BOUNDARY}".encode()
    body = dash + b" \t\r\n" + json_part([]) + b"\r\n" + dash + b"-- \r\n"

    assert parse_statement_multipart(CONTENT_TYPE, body).statements_json == b"[]"


def test_missing_transfer_encoding_is_assumed_binary() -> None:
    """Communication 1.5.2: the LRS SHOULD assume a Content-Transfer-Encoding of binary."""
    attachment = part(TEXT1, "Content-Type: text/plain", f"X-Experience-API-Hash: {TEXT1_SHA256}")
    body = multipart(json_part([]), attachment)

    assert parse_statement_multipart(CONTENT_TYPE, body).attachments[TEXT1_SHA256].data == TEXT1
    with pytest.raises(BadRequest, match="no Content-Transfer-Encoding"):
        parse_statement_multipart(CONTENT_TYPE, body, require_transfer_encoding=True)


def test_part_without_content_type_has_none() -> None:
    attachment = part(TEXT1, f"X-Experience-API-Hash: {TEXT1_SHA256}")
    body = multipart(json_part([]), attachment)

    assert (
        parse_statement_multipart(CONTENT_TYPE, body).attachments[TEXT1_SHA256].content_type is None
    )


def test_large_body_is_parsed_in_linear_time() -> None:
    big = (bytes(range(256)) * 4096) * 40  # 40 MiB
    small = [f"attachment {i}\r\n--".encode() for i in range(3000)]
    body = multipart(
        json_part([]), attachment_part(big, "video/mp4"), *(attachment_part(s) for s in small)
    )

    started = time.perf_counter()
    parsed = parse_statement_multipart(CONTENT_TYPE, body)
    elapsed = time.perf_counter() - started

    assert parsed.attachments[sha256(big)].data == big
    assert len(parsed.attachments) == 3001
    assert elapsed < 5.0


# --- parse_statement_multipart: rejected requests -----------------------------------------------


def rejects(content_type: str, body: bytes, match: str) -> None:
    with pytest.raises(BadRequest, match=match):
        parse_statement_multipart(content_type, body)


def test_rejects_multipart_form_data() -> None:
    """XAPI-00127: multipart/form-data is not a statement content type."""
    body = multipart(json_part(statement()), attachment_part(TEXT1))
    rejects(f"multipart/form-data; boundary={BOUNDARY}", body, "must be multipart/mixed")


@pytest.mark.parametrize(
    "header", ["multipart/mixed;", "multipart/mixed", 'multipart/mixed; boundary=""']
)
def test_rejects_header_without_boundary(header: str) -> None:
    """XAPI-00131: no boundary in the Content-Type header."""
    rejects(header, multipart(json_part([]), attachment_part(TEXT1)), "no boundary parameter")


def test_rejects_malformed_content_type_header() -> None:
    rejects('multipart/mixed; boundary="abc', multipart(json_part([])), "Malformed Content-Type")


def test_rejects_body_that_never_uses_the_boundary() -> None:
    body = multipart(json_part([]), boundary="something-else")
    rejects(CONTENT_TYPE, body, "never contains the boundary")


def test_rejects_body_whose_statements_precede_the_first_boundary() -> None:
    """XAPI-00131 'boundary not provided in body': the JSON sits in the preamble."""
    body = (
        b"Content-Type: application/json\r\n\r\n"
        + json.dumps(statement(attachment_meta(TEXT1))).encode()
        + b"\r\n"
        + multipart(attachment_part(TEXT1))
    )
    rejects(CONTENT_TYPE, body, "first part of a multipart/mixed statement request")


def test_part_without_its_own_boundary_is_swallowed_into_the_statements() -> None:
    """XAPI-00130: with no boundary before the attachment, the first part is not JSON."""
    stmt = statement(attachment_meta(TEXT1))
    first = json_part(stmt) + b"\r\n" + attachment_part(TEXT1)
    parsed = parse_statement_multipart(CONTENT_TYPE, multipart(first))

    assert parsed.attachments == {}
    with pytest.raises(json.JSONDecodeError):
        json.loads(parsed.statements_json)
    with pytest.raises(BadRequest, match="no fileUrl"):
        check_attachments([stmt], parsed.attachments)


@pytest.mark.parametrize("first_type", ["Content-Type: text/plain", None])
def test_rejects_first_part_that_is_not_json(first_type: str | None) -> None:
    """XAPI-00134: the first part's Content-Type must be application/json."""
    headers = [first_type] if first_type else []
    first = part(json.dumps(statement()).encode(), *headers)
    rejects(CONTENT_TYPE, multipart(first, attachment_part(TEXT1)), "must have Content-Type")


def test_rejects_statements_split_over_two_parts() -> None:
    """XAPI-00133: a second application/json part is an attachment part without a hash."""
    stmt = statement(attachment_meta(TEXT1))
    body = multipart(json_part(stmt), json_part(stmt), attachment_part(TEXT1))
    rejects(CONTENT_TYPE, body, "part 2 has no X-Experience-API-Hash")


def test_rejects_empty_statements_part() -> None:
    rejects(CONTENT_TYPE, multipart(part(b"", "Content-Type: application/json")), "is empty")


def test_rejects_attachment_part_without_hash() -> None:
    """XAPI-00132: every part after the first needs X-Experience-API-Hash."""
    attachment = part(TEXT1, "Content-Type: text/plain", "Content-Transfer-Encoding: binary")
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "no X-Experience-API-Hash")


def test_rejects_hash_that_does_not_match_the_data() -> None:
    """XAPI-00132: the declared hash must be the SHA-2 of the raw part data."""
    wrong = "b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89"
    attachment = part(
        TEXT1,
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: binary",
        f"X-Experience-API-Hash: {wrong}",
    )
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "does not hash to")


def test_rejects_data_altered_by_trailing_whitespace() -> None:
    attachment = part(TEXT1 + b" ", f"X-Experience-API-Hash: {TEXT1_SHA256}")
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "does not hash to")


@pytest.mark.parametrize("value", ["not-hex", "abc123", "g" * 64, TEXT1_SHA256 + "00"])
def test_rejects_hash_that_is_not_a_sha2_hex_digest(value: str) -> None:
    attachment = part(TEXT1, f"X-Experience-API-Hash: {value}")
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "is not a hex SHA-2 digest")


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable", "8bit", ""])
def test_rejects_transfer_encoding_other_than_binary(encoding: str) -> None:
    """XAPI-00135: Content-Transfer-Encoding must be binary."""
    attachment = part(
        TEXT1,
        "Content-Type: text/plain",
        f"Content-Transfer-Encoding: {encoding}",
        f"X-Experience-API-Hash: {TEXT1_SHA256}",
    )
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "Content-Transfer-Encoding")


def test_rejects_truncated_body_without_close_delimiter() -> None:
    body = multipart(json_part([]), attachment_part(TEXT1))
    truncated = body[: body.rindex(f"--{BOUNDARY}--".encode())]
    rejects(CONTENT_TYPE, truncated, "does not end with the close delimiter")


def test_rejects_bare_lf_line_endings() -> None:
    body = multipart(json_part([]), attachment_part(TEXT1)).replace(b"\r\n", b"\n")
    rejects(CONTENT_TYPE, body, "CRLF")


def test_rejects_boundary_string_inside_a_part() -> None:
    data = b"line\r\n--" + BOUNDARY.encode() + b"X more"
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment_part(data)), "not followed by CRLF")


def test_rejects_data_after_the_close_delimiter() -> None:
    body = multipart(json_part([]))[:-2] + b"junk"
    rejects(CONTENT_TYPE, body, "after the multipart close delimiter")


def test_rejects_part_without_blank_line() -> None:
    rejects(CONTENT_TYPE, multipart(b"Content-Type: application/json"), "no empty line")


def test_rejects_repeated_hash_header() -> None:
    attachment = part(
        TEXT1, f"X-Experience-API-Hash: {TEXT1_SHA256}", f"X-Experience-API-Hash: {sha256(TEXT2)}"
    )
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "repeats the X-Experience-API-Hash")


def test_rejects_malformed_header_line() -> None:
    attachment = part(TEXT1, "this is not a header", f"X-Experience-API-Hash: {TEXT1_SHA256}")
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "Malformed multipart part header")


def test_rejects_content_length_that_disagrees_with_the_data() -> None:
    attachment = part(TEXT1, "Content-Length: 3", f"X-Experience-API-Hash: {TEXT1_SHA256}")
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "declares Content-Length")


def test_rejects_body_with_no_parts() -> None:
    rejects(CONTENT_TYPE, f"--{BOUNDARY}--\r\n".encode(), "has no parts")


def test_rejects_invalid_part_content_type() -> None:
    attachment = part(TEXT1, "Content-Type: text", f"X-Experience-API-Hash: {TEXT1_SHA256}")
    rejects(CONTENT_TYPE, multipart(json_part([]), attachment), "not an Internet media type")


# --- check_attachments ----------------------------------------------------------------------------


def parts_for(*datas: bytes, content_type: str | None = "text/plain") -> dict[str, Attachment]:
    return {sha256(d): Attachment(sha256(d), content_type, d) for d in datas}


def test_every_attachment_without_file_url_has_its_part() -> None:
    stmts = [statement(attachment_meta(TEXT1), attachment_meta(TEXT2))]
    parts = parts_for(TEXT1, TEXT2)

    assert check_attachments(stmts, parts) == parts


def test_rejects_missing_part_for_attachment_without_file_url() -> None:
    """XAPI-00129: a non-fileUrl attachment whose data was not sent."""
    stmts = [statement(attachment_meta(TEXT1), attachment_meta(TEXT2))]

    with pytest.raises(BadRequest, match=r"attachments\[1\] has no fileUrl and no multipart part"):
        check_attachments(stmts, parts_for(TEXT1))


def test_rejects_excess_part() -> None:
    """XAPI-00128: a part no attachment's sha2 names."""
    stmts = [statement(attachment_meta(TEXT1))]

    with pytest.raises(BadRequest, match="matches no attachment's sha2"):
        check_attachments(stmts, parts_for(TEXT1, TEXT2))


def test_rejects_raw_attachment_in_application_json_request() -> None:
    """Communication 1.5.1: application/json needs a fileUrl on every attachment."""
    with pytest.raises(BadRequest, match="use a multipart/mixed request"):
        check_attachments([statement(attachment_meta(TEXT1))], {})


def test_file_url_attachments_need_no_part() -> None:
    """Communication 1.5.1 and IEEE 9274.1.1 4.1.3: fileUrl-only batches are accepted."""
    meta = attachment_meta(TEXT1, fileUrl="http://over.there.com/file.txt")

    assert check_attachments([statement(meta)], {}) == {}
    assert check_attachments([statement()], {}) == {}


def test_part_for_a_file_url_attachment_is_kept() -> None:
    """XAPI-00161 stores a part sent for a fileUrl attachment and returns it later."""
    meta = attachment_meta(TEXT1, fileUrl="http://over.there.com/file.txt")

    assert check_attachments([statement(meta)], parts_for(TEXT1)) == parts_for(TEXT1)


def test_substatement_attachments_are_matched() -> None:
    stmt = statement()
    stmt["object"] = {**statement(attachment_meta(TEXT2)), "objectType": "SubStatement"}
    stmt["attachments"] = [attachment_meta(TEXT1)]

    assert set(check_attachments([stmt], parts_for(TEXT1, TEXT2))) == {
        sha256(TEXT1),
        sha256(TEXT2),
    }
    with pytest.raises(BadRequest, match=r"object\.attachments\[0\]"):
        check_attachments([stmt], parts_for(TEXT1))


def test_one_part_serves_several_statements_of_a_batch() -> None:
    stmts = [statement(attachment_meta(TEXT1)), statement(attachment_meta(TEXT1))]

    assert check_attachments(stmts, parts_for(TEXT1)) == parts_for(TEXT1)


def test_missing_part_message_names_the_statement_in_a_batch() -> None:
    stmts = [statement(), statement(attachment_meta(TEXT1))]

    with pytest.raises(BadRequest, match=r"statement 1 attachments\[0\]"):
        check_attachments(stmts, parts_for(TEXT2))


def test_sha2_matching_ignores_case() -> None:
    meta = attachment_meta(TEXT1)
    meta["sha2"] = meta["sha2"].upper()

    assert list(check_attachments([statement(meta)], parts_for(TEXT1))) == [TEXT1_SHA256]


def test_rejects_part_content_type_that_contradicts_the_metadata() -> None:
    """Communication 1.5.2: a header and its corresponding property must match."""
    stmts = [statement(attachment_meta(TEXT1, content_type="image/png"))]

    with pytest.raises(BadRequest, match="contentType 'image/png'"):
        check_attachments(stmts, parts_for(TEXT1))


def test_part_without_content_type_takes_the_metadata_type() -> None:
    stmts = [statement(attachment_meta(TEXT1, content_type="text/plain; charset=ascii"))]

    stored = check_attachments(stmts, parts_for(TEXT1, content_type=None))

    assert stored[TEXT1_SHA256].content_type == "text/plain; charset=ascii"


def test_malformed_metadata_is_left_to_the_validator() -> None:
    stmt = statement()
    stmt["attachments"] = [12345, {"sha2": 1}, "x"]

    assert check_attachments([stmt], {}) == {}


# --- build_statement_multipart ------------------------------------------------------------------


def test_build_round_trips_through_the_parser() -> None:
    stmts = [
        statement(
            attachment_meta(TEXT1),
            attachment_meta(bytes(range(256)), content_type="application/octet-stream"),
        )
    ]
    result = json.dumps({"statements": stmts, "more": ""}).encode()
    octets = bytes(range(256))
    attachments = [
        *parts_for(TEXT1).values(),
        Attachment(sha256(octets), "application/octet-stream", octets),
    ]

    content_type, body = build_statement_multipart(result, attachments)
    parsed = parse_statement_multipart(content_type, body, require_transfer_encoding=True)

    assert parsed.statements_json == result
    assert check_attachments(stmts, parsed.attachments) == {a.sha2: a for a in attachments}


def test_build_layout_matches_what_the_suite_reads() -> None:
    content_type, body = build_statement_multipart(b"{}", list(parts_for(TEXT1).values()))

    # H.Communication2.1: ContentType.split(";")[1].replace(" boundary=", "")
    media, boundary_param = content_type.split(";")
    assert media == "multipart/mixed"
    boundary = boundary_param.replace(" boundary=", "")
    assert re.fullmatch(r"[A-Za-z0-9]+", boundary)  # safe unquoted and inside a RegExp
    assert (
        body
        == (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{{}}\r\n"
            f"--{boundary}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {TEXT1_SHA256}\r\n\r\n"
        ).encode()
        + TEXT1
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_build_sends_each_attachment_once() -> None:
    """XAPI-00167 counts each hash twice: once in the statement, once in its part header."""
    statements_json = json.dumps(statement(attachment_meta(TEXT1))).encode()
    attachments = list(parts_for(TEXT1).values()) * 3

    _, body = build_statement_multipart(statements_json, attachments)

    assert body.count(TEXT1_SHA256.encode()) == 2


def test_build_boundaries_are_fresh() -> None:
    first, _ = build_statement_multipart(b"[]", [])
    second, _ = build_statement_multipart(b"[]", [])

    assert first != second


def test_build_falls_back_to_octet_stream_for_unusable_content_types() -> None:
    attachments = [
        Attachment(sha256(TEXT1), None, TEXT1),
        Attachment(sha256(TEXT2), "text/plain\r\nX-Injected: 1", TEXT2),
    ]

    _, body = build_statement_multipart(b"[]", attachments)

    assert body.count(b"Content-Type: application/octet-stream\r\n") == 2
    assert b"X-Injected" not in body


# --- parse_media_type -----------------------------------------------------------------------------


def test_parse_media_type_handles_quoted_parameters() -> None:
    assert parse_media_type('Multipart/Mixed; Boundary="a;b\\"c"; x=y') == (
        "multipart/mixed",
        {"boundary": 'a;b"c', "x": "y"},
    )


@pytest.mark.parametrize("value", ["", "text", "text/", "/plain", "text/plain; =x", "a b/c"])
def test_parse_media_type_rejects_non_media_types(value: str) -> None:
    with pytest.raises(BadRequest):
        parse_media_type(value)
