"""Formats of xAPI string values: IRIs and IRLs, UUIDs, mailto IRIs, hashes, media types,
RFC 5646 language tags, language maps and extensions (xAPI 1.0.3 Data 2.2, 4.1-4.4).

These rules are the same in xAPI 1.0.3 and 2.0.0.
"""

from __future__ import annotations

import re
from typing import cast

from lrs.xapi.validate.json_types import (
    JsonObject,
    describe,
    fail,
    require_object,
    require_string,
)

# --- IRIs and IRLs ------------------------------------------------------------------------------

# Best effort, as xAPI 1.0.3 Data 2.2 allows: an absolute IRI (RFC 3987) has a scheme, then ':',
# then a non-empty remainder without whitespace, control characters or the characters RFC 3987
# excludes from every IRI component; a '%' must start a two-hex-digit escape. Non-ASCII
# characters are allowed (that is what makes it an IRI rather than a URI).
_IRI_CHAR = r"[^\s\x00-\x1f\x7f-\x9f<>\"{}|\\^`%]"
_IRI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.\-]*:(?=.){_IRI_CHAR}*(?:%[0-9A-Fa-f]{{2}}{_IRI_CHAR}*)*", re.DOTALL
)

# IRIs repeat across statements (verbs, activity types, extension keys), so the ones already
# found valid are remembered; the set is emptied when full to bound its memory.
_known_iris: set[str] = set()
_KNOWN_IRIS_LIMIT = 8192


def is_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI (best-effort RFC 3987 check)."""
    if value in _known_iris:
        return True
    if _IRI.fullmatch(value) is None:
        return False
    if len(_known_iris) >= _KNOWN_IRIS_LIMIT:
        _known_iris.clear()
    _known_iris.add(value)
    return True


def validate_iri(value: object, path: str) -> str:
    """``value`` must be an absolute IRI with a scheme.

    xAPI 1.0.3 Data 2.2 (LRS requirements): reject IRI values without a scheme or that do not
    follow the IRI format, including the empty string; Data 4.3.
    """
    text = require_string(value, path)
    if not is_iri(text):
        fail(
            path, f"must be an absolute IRI with a scheme (e.g. 'http://...'), got {describe(text)}"
        )
    return text


def validate_irl(value: object, path: str) -> str:
    """``value`` must be an IRL, a locator IRI (xAPI 1.0.3 Data 2.2, 2.4.2.4).

    Resolvability cannot be checked offline, so an IRL gets the same best-effort syntax check as
    an IRI: absolute, with a scheme.
    """
    text = require_string(value, path)
    if not is_iri(text):
        fail(
            path, f"must be an absolute IRL with a scheme (e.g. 'http://...'), got {describe(text)}"
        )
    return text


# --- UUIDs, mailto, hashes ----------------------------------------------------------------------

_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def validate_uuid(value: object, path: str) -> str:
    """``value`` must be a UUID in the standard 8-4-4-4-12 hex string form.

    xAPI 1.0.3 Data 2.4.1 and 4.4. Hex digits are case-insensitive on input (RFC 4122 section 3);
    the variant and version nibbles are not checked, since the specification's own examples use
    non-RFC-4122 variants.
    """
    text = require_string(value, path)
    if _UUID.fullmatch(text) is None:
        fail(
            path,
            "must be a UUID in standard string form "
            f"(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got {describe(text)}",
        )
    return text


_MAILTO = re.compile(r"mailto:[^\s@<>\"(),;:\\\[\]]+@[^\s@<>\"(),;:\\\[\]/?#]+")


def validate_mailto(value: object, path: str) -> str:
    """``value`` must be ``mailto:`` followed by an email address (xAPI 1.0.3 Data 2.4.2.3)."""
    text = require_string(value, path)
    if _MAILTO.fullmatch(text) is None or not is_iri(text):
        fail(path, f"must be a 'mailto:' IRI of an email address, got {describe(text)}")
    return text


_SHA1_HEX = re.compile(r"[0-9A-Fa-f]{40}")


def validate_sha1_hex(value: object, path: str) -> str:
    """``value`` must be a hex-encoded SHA-1 digest, 40 hex digits (xAPI 1.0.3 Data 2.4.2.3)."""
    text = require_string(value, path)
    if _SHA1_HEX.fullmatch(text) is None:
        fail(path, f"must be a hex-encoded SHA-1 hash (40 hex digits), got {describe(text)}")
    return text


_HEX = re.compile(r"[0-9A-Fa-f]+")
# SHA-224 and SHA-512/224: 56, SHA-256: 64, SHA-384: 96, SHA-512: 128 hex digits.
_SHA2_HEX_LENGTHS = frozenset({56, 64, 96, 128})


def validate_sha2_hex(value: object, path: str) -> str:
    """``value`` must be a hex-encoded SHA-2 digest.

    xAPI 1.0.3 Data 2.4.11 and Communication 1.5.2 (matched against ``X-Experience-API-Hash``).
    """
    text = require_string(value, path)
    if len(text) not in _SHA2_HEX_LENGTHS or _HEX.fullmatch(text) is None:
        fail(
            path,
            "must be a hex-encoded SHA-2 hash (56, 64, 96 or 128 hex digits), "
            f"got {describe(text)}",
        )
    return text


# RFC 2045 section 5.1: type "/" subtype *(";" parameter), parameter = attribute "=" value,
# value = token / quoted-string.
_MIME_WORD = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_MEDIA_TYPE = re.compile(
    rf"{_MIME_WORD}/{_MIME_WORD}"
    rf"(?:[ \t]*;[ \t]*{_MIME_WORD}=(?:{_MIME_WORD}|\"(?:[^\"\\\r\n]|\\.)*\"))*[ \t]*"
)


def validate_media_type(value: object, path: str) -> str:
    """``value`` must be an Internet Media Type such as ``text/plain; charset=ascii``.

    xAPI 1.0.3 Data 2.4.11 (attachment ``contentType``), RFC 2046.
    """
    text = require_string(value, path)
    if _MEDIA_TYPE.fullmatch(text) is None:
        fail(path, f"must be an Internet Media Type like 'text/plain', got {describe(text)}")
    return text


# --- RFC 5646 language tags ---------------------------------------------------------------------

_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"  # language ["-" extlang]
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variant
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extension
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"  # privateuse
)
_PRIVATEUSE = r"[Xx](?:-[A-Za-z0-9]{1,8})+"
_GRANDFATHERED = (
    r"en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn"
    r"|i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE"
    r"|art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE_TAG = re.compile(rf"(?:{_GRANDFATHERED})|(?:{_PRIVATEUSE})|(?:{_LANGTAG})", re.IGNORECASE)

_known_tags: set[str] = set()
_KNOWN_TAGS_LIMIT = 4096


def is_language_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed RFC 5646 language tag with no repeated singleton or variant.

    RFC 5646 section 2.1 (syntax) and 2.2.5/2.2.6 (a variant or an extension singleton MUST NOT
    appear twice).
    """
    if tag in _known_tags:
        return True
    if _LANGUAGE_TAG.fullmatch(tag) is None or not _no_repeated_subtags(tag):
        return False
    if len(_known_tags) >= _KNOWN_TAGS_LIMIT:
        _known_tags.clear()
    _known_tags.add(tag)
    return True


def _no_repeated_subtags(tag: str) -> bool:
    subtags = tag.lower().split("-")
    if subtags[0] in ("x", "i"):
        return True  # private use or grandfathered, checked by the grammar alone
    singletons: set[str] = set()
    variants: set[str] = set()
    in_extension = False
    for subtag in subtags[1:]:
        if subtag == "x":
            break
        if len(subtag) == 1:
            if subtag in singletons:
                return False
            singletons.add(subtag)
            in_extension = True
        elif not in_extension and (len(subtag) >= 5 or (len(subtag) == 4 and subtag[0].isdigit())):
            if subtag in variants:
                return False
            variants.add(subtag)
    return True


def validate_language_tag(value: object, path: str) -> str:
    """``value`` must be an RFC 5646 language tag (xAPI 1.0.3 Data 2.2, 2.4.6 ``language``)."""
    text = require_string(value, path)
    if not is_language_tag(text):
        fail(path, f"must be an RFC 5646 language tag like 'en-US', got {describe(text)}")
    return text


def validate_language_map(value: object, path: str) -> dict[str, str]:
    """``value`` must be a language map: RFC 5646 tags mapped to strings.

    xAPI 1.0.3 Data 4.2; Data 2.2 requires the LRS to validate the language map keys.
    """
    obj = require_object(value, path)
    known = _known_tags
    for key, text in obj.items():
        if key not in known and not is_language_tag(key):
            fail(
                path,
                f"language map key {describe(key)} is not an RFC 5646 language tag like 'en-US'",
            )
        if type(text) is not str:
            fail(f"{path}.{key}", f"must be a string, got {describe(text)}")
    return cast(dict[str, str], obj)


def validate_extensions(value: object, path: str) -> JsonObject:
    """``value`` must be an extensions map whose keys are IRIs (xAPI 1.0.3 Data 4.1).

    Extension values are not validated: the LRS MUST NOT reject a statement based on them, and
    they are the one place a JSON ``null`` is allowed (Data 2.2).
    """
    obj = require_object(value, path)
    for key in obj:
        if not is_iri(key):
            fail(path, f"extension key {describe(key)} must be an absolute IRI with a scheme")
    return obj
