"""String formats shared by statements and other resources (xAPI 1.0.3 Data 2.2, 4.1-4.4)."""

from __future__ import annotations

import time

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import (
    common,
    validate_activity_id,
    validate_extensions,
    validate_iri,
    validate_irl,
    validate_language_map,
    validate_language_tag,
    validate_uuid,
)
from lrs.xapi.validate.common import (
    is_iri,
    is_language_tag,
    validate_mailto,
    validate_media_type,
    validate_sha1_hex,
    validate_sha2_hex,
)
from lrs.xapi.validate.json_types import (
    describe,
    require_bool,
    require_int,
    require_number,
    require_object,
)

VALID_IRIS = [
    "http://example.org",
    "https://example.org/a/b?c=d&e=f#g",
    "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
    "mailto:someone@example.org",
    "tag:example.org,2024:x",
    "http://example.com/فعل/خواندن",
    "https://例え.jp/パス",
    "http://example.org/%E2%82%AC",
    "http://example.com/path/../x",
    "x:y",
    "coap+tcp://host:5683/r",
]
INVALID_IRIS = [
    "",
    "example.org/path",
    "/relative/path",
    "#fragment",
    "http:",
    "ab=c://should.fail.com",
    "1http://example.org",
    ":nothing",
    "http://example.org/a b",
    "http://example.org/a\tb",
    "http://example.org/\n",
    "http://example.org/<tag>",
    'http://example.org/"quoted"',
    "http://example.org/{x}",
    "http://example.org/a|b",
    "http://example.org/a\\b",
    "http://example.org/a^b",
    "http://example.org/`",
    "http://example.org/%",
    "http://example.org/%4",
    "http://example.org/%zz",
    "http://example.org/\x00",
    "http://example.org/\x85",
]


@pytest.mark.parametrize("value", VALID_IRIS)
def test_valid_iris_are_accepted(value: str) -> None:
    assert validate_iri(value, "x") == value
    assert validate_irl(value, "x") == value
    assert validate_activity_id(value, "x") == value


@pytest.mark.parametrize("value", INVALID_IRIS)
def test_invalid_iris_are_rejected_naming_the_path(value: str) -> None:
    with pytest.raises(BadRequest, match=r"^object\.id: must be an absolute IRI"):
        validate_iri(value, "object.id")
    with pytest.raises(BadRequest, match=r"^homePage: must be an absolute IRL"):
        validate_irl(value, "homePage")
    assert not is_iri(value)


@pytest.mark.parametrize("value", [None, 1, 1.5, True, ["http://a.b"], {"id": "http://a.b"}])
def test_iri_must_be_a_string(value: object) -> None:
    with pytest.raises(BadRequest, match=r"^verb\.id: must be a string, got "):
        validate_iri(value, "verb.id")


def test_iri_cache_is_bounded_and_keeps_answers_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "_KNOWN_IRIS_LIMIT", 3)
    monkeypatch.setattr(common, "_known_iris", set())
    for index in range(10):
        assert is_iri(f"http://example.org/{index}")
        assert len(common._known_iris) <= 3
    assert is_iri("http://example.org/9")
    assert not is_iri("not an iri")
    assert "not an iri" not in common._known_iris


@pytest.mark.parametrize(
    "value",
    [
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
        "00000000-0000-0000-0000-000000000000",
        "12345678-1234-5678-1234-567812345678",
    ],
)
def test_uuids_in_standard_form_are_accepted(value: str) -> None:
    assert validate_uuid(value, "id") == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "3f2504e0-4f89-11d3-9a0c-0305e82c330",
        "3f2504e0-4f89-11d3-9a0c-0305e82c33011",
        "3f2504e04f8911d39a0c0305e82c3301",
        "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
        "urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "3f2504e0-4f89-11d3-9a0c-0305e82c330g",
        " 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "3f2504e0_4f89_11d3_9a0c_0305e82c3301",
    ],
)
def test_malformed_uuids_are_rejected(value: str) -> None:
    with pytest.raises(BadRequest, match=r"^registration: must be a UUID in standard string form"):
        validate_uuid(value, "registration")


@pytest.mark.parametrize(
    "value", ["mailto:a@example.org", "mailto:first.last+tag@sub.example.co.uk", "mailto:a@b"]
)
def test_mailto_iris_are_accepted(value: str) -> None:
    assert validate_mailto(value, "mbox") == value


@pytest.mark.parametrize(
    "value",
    [
        "a@b.c",
        "mailto:",
        "mailto:a",
        "mailto:@example.org",
        "mailto:a@",
        "mailto:a@@example.org",
        "mailto:a b@example.org",
        "Mailto:a@example.org",
        "mailto:a@example.org?subject=hi",
        "mailto:a@example.org,b@example.org",
        "http://example.org",
    ],
)
def test_malformed_mailto_iris_are_rejected(value: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_mailto(value, "statement.actor.mbox")
    assert caught.value.message == (
        f"statement.actor.mbox: must be a 'mailto:' IRI of an email address, got {value!r}"
    )


def test_sha1_and_sha2_hex_lengths() -> None:
    assert validate_sha1_hex("a" * 40, "h") == "a" * 40
    assert validate_sha1_hex("ABCDEF0123" * 4, "h") == "ABCDEF0123" * 4
    for length in (56, 64, 96, 128):
        assert validate_sha2_hex("0" * length, "h") == "0" * length
    for bad in ("a" * 39, "a" * 41, "g" * 40, ""):
        with pytest.raises(BadRequest, match=r"^h: must be a hex-encoded SHA-1 hash"):
            validate_sha1_hex(bad, "h")
    for bad in ("0" * 40, "0" * 63, "0" * 65, "0" * 127, "x" * 64, ""):
        with pytest.raises(BadRequest, match=r"^h: must be a hex-encoded SHA-2 hash"):
            validate_sha2_hex(bad, "h")


@pytest.mark.parametrize(
    "value",
    [
        "text/plain",
        "text/plain; charset=ascii",
        'multipart/mixed; boundary="abc ABC0123\'()+_,-./:=?"',
        "application/vnd.api+json;charset=utf-8;q=1",
        "application/octet-stream",
    ],
)
def test_media_types_are_accepted(value: str) -> None:
    assert validate_media_type(value, "contentType") == value


@pytest.mark.parametrize(
    "value", ["", "text", "text/", "/plain", "text/plain;", "text/plain; charset", "te xt/plain"]
)
def test_malformed_media_types_are_rejected(value: str) -> None:
    with pytest.raises(BadRequest, match=r"^contentType: must be an Internet Media Type"):
        validate_media_type(value, "contentType")


VALID_TAGS = [
    "en",
    "EN",
    "en-US",
    "de-CH-1996",
    "zh-Hant",
    "zh-Hant-TW",
    "zh-yue-HK",
    "sr-Latn-RS",
    "es-419",
    "tlh",
    "cmn",
    "und",
    "x-private",
    "i-klingon",
    "en-GB-oed",
    "zh-min-nan",
    "de-DE-u-co-phonebk",
    "en-a-bbb-b-ccc",
    "en-x-a-b-c",
    "qaa-Qaaa-QM-x-southern",
    "sl-rozaj-biske",
    "abcdefgh",
]
INVALID_TAGS = [
    "",
    "e",
    "abcdefghi",
    "en_US",
    "en-",
    "-en",
    "en--US",
    "a12345",
    "a12345678",
    "something",
    "s-something",
    "en-something-AU",
    "zh-z-aaa-z-bbb",
    "zh-z-aaa-z-bbb-c-ccc",
    "de-1996-1996",
    "en-a",
    "en-x",
    "x",
    "en US",
    "en-US-",
    "123",
    "en-Latn-Latn",
]


@pytest.mark.parametrize("tag", VALID_TAGS)
def test_rfc5646_tags_are_accepted(tag: str) -> None:
    assert is_language_tag(tag)
    assert validate_language_tag(tag, "context.language") == tag
    assert validate_language_map({tag: "text"}, "display") == {tag: "text"}


@pytest.mark.parametrize("tag", INVALID_TAGS)
def test_malformed_language_tags_are_rejected(tag: str) -> None:
    assert not is_language_tag(tag)
    with pytest.raises(BadRequest, match=r"^context\.language: must be an RFC 5646 language tag"):
        validate_language_tag(tag, "context.language")
    with pytest.raises(BadRequest, match=r"^verb\.display: language map key "):
        validate_language_map({"en": "ok", tag: "text"}, "verb.display")


def test_language_map_values_must_be_strings() -> None:
    for value in (None, 1, ["a"], {"en": "a"}, True):
        with pytest.raises(BadRequest, match=r"^verb\.display\.en-US: must be a string, got "):
            validate_language_map({"en-US": value}, "verb.display")


@pytest.mark.parametrize("value", [None, "en", ["en"], 1])
def test_language_map_must_be_an_object(value: object) -> None:
    with pytest.raises(BadRequest, match=r"^name: must be an object, got "):
        validate_language_map(value, "name")


def test_empty_language_map_and_extensions_are_allowed() -> None:
    assert validate_language_map({}, "display") == {}
    assert validate_extensions({}, "extensions") == {}


def test_extension_values_are_not_validated_but_keys_are() -> None:
    extensions: dict[str, object] = {
        "http://example.org/a": None,
        "http://example.org/b": "",
        "http://example.org/c": {},
        "http://example.org/d": [None, {"Any": "thing", "": None}],
    }
    assert validate_extensions(extensions, "result.extensions") is extensions
    with pytest.raises(BadRequest) as caught:
        validate_extensions({"http://example.org/a": 1, "attempt": 2}, "result.extensions")
    assert caught.value.message == (
        "result.extensions: extension key 'attempt' must be an absolute IRI with a scheme"
    )
    with pytest.raises(BadRequest, match=r"^result\.extensions: must be an object, got 'x'"):
        validate_extensions("x", "result.extensions")


def test_json_type_checks_do_not_coerce() -> None:
    assert require_number(1, "n") == 1
    assert require_number(-0.5, "n") == -0.5
    for bad in (True, False, "1", None, float("nan"), float("inf"), float("-inf")):
        with pytest.raises(BadRequest, match=r"^n: must be a (finite )?number"):
            require_number(bad, "n")
    assert require_int(0, "i") == 0
    for bad in (1.0, True, "1", None):
        with pytest.raises(BadRequest, match=r"^i: must be an integer"):
            require_int(bad, "i")
    assert require_bool(False, "b") is False
    for bad in (0, "false", None):
        with pytest.raises(BadRequest, match=r"^b: must be a boolean"):
            require_bool(bad, "b")
    with pytest.raises(BadRequest, match=r"^o: must be an object, got an array"):
        require_object([], "o")


def test_describe_renders_json_values_briefly() -> None:
    assert describe(None) == "null"
    assert describe(True) == "true"
    assert describe(False) == "false"
    assert describe(3) == "3"
    assert describe("abc") == "'abc'"
    assert describe({}) == "an object"
    assert describe([]) == "an array"
    assert describe("x" * 200) == repr("x" * 60 + "...")


@pytest.mark.parametrize(
    "value",
    [
        "http://" + "a" * 100_000 + " ",
        "a" * 100_000 + ":",
        "http://x/" + "%4" * 50_000,
        "en-" + "-".join(["aaaa1"] * 20_000),
        "a-" + "-".join(["bb"] * 50_000) + "-",
        "mailto:" + "a" * 100_000,
    ],
)
def test_pathological_inputs_are_handled_in_linear_time(value: str) -> None:
    start = time.perf_counter()
    for check in (is_iri, is_language_tag):
        check(value)
    with pytest.raises(BadRequest):
        validate_mailto(value, "m")
    assert time.perf_counter() - start < 1.0
