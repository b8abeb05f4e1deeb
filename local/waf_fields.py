"""What AWS WAF inspects in a web request: the request components a rule's ``FieldToMatch`` names, with
WAF's inspection limits and oversize handling, and the text transformations applied before matching.

Values are handled as byte strings decoded as Latin-1 (one character per byte), so a size is a size in
bytes, as WAF measures it, and a transformation never fails on bytes that are not UTF-8.

References: FieldToMatch, Body, Headers, Cookies, JsonBody and TextTransformation in the AWS WAFV2 API
reference (https://docs.aws.amazon.com/waf/latest/APIReference/), and "Oversize web request
components" in the developer guide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: API Gateway forwards the first 16 KB of a body to WAF unless the web ACL's AssociationConfig raises it.
DEFAULT_BODY_LIMIT = 16 * 1024
#: For headers and cookies WAF gets at most the first 8 KB and the first 200 of them.
HEADERS_LIMIT = 8 * 1024
HEADERS_COUNT_LIMIT = 200
BODY_LIMITS = {"KB_16": 16 * 1024, "KB_32": 32 * 1024, "KB_48": 48 * 1024, "KB_64": 64 * 1024}


class NotEmulated(ValueError):
    """A part of a rule that the local evaluator does not reproduce (the rule never matches locally)."""


@dataclass
class WafRequest:
    """A web request as WAF sees it in front of an API Gateway stage."""

    method: str
    uri_path: str  # as sent to execute-api, with the stage: /prod/cart/abc (still percent-encoded)
    query_string: str  # without the "?"
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    body_limit: int = DEFAULT_BODY_LIMIT
    _lower: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def header_values(self, name: str) -> list[str]:
        if not self._lower:
            for key, value in self.headers:
                self._lower.setdefault(key.lower(), []).append(value)
            self._lower.setdefault("", [])
        return self._lower.get(name.lower(), [])


# A component extractor answers the strings to test, None when the component is absent (no match), or a
# bool when oversize handling decides the statement's result (MATCH/NO_MATCH).
Extracted = list[str] | bool | None
Extractor = Callable[[WafRequest], Extracted]


def _latin1(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value.encode("utf-8", "surrogateescape").decode("latin-1")


def to_bytes_text(value: str) -> str:
    """A search string (text from the template) in the Latin-1 form the components have."""
    return _latin1(value)


def _oversize(handling: str | None, inspected: list[str]) -> Extracted:
    if handling == "MATCH":
        return True
    if handling == "NO_MATCH":
        return False
    return inspected


def _limited_pairs(pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], bool]:
    """The pairs WAF receives (first 200, first 8 KB) and whether anything was cut off."""
    kept, size = [], 0
    for key, value in pairs[:HEADERS_COUNT_LIMIT]:
        size += len(_latin1(key)) + len(_latin1(value)) + 4  # "key: value\r\n"
        if size > HEADERS_LIMIT:
            return kept, True
        kept.append((key, value))
    return kept, len(pairs) > HEADERS_COUNT_LIMIT


def _scoped(pairs: list[tuple[str, str]], scope: str) -> list[str]:
    values: list[str] = []
    for key, value in pairs:
        if scope in ("ALL", "KEY"):
            values.append(_latin1(key))
        if scope in ("ALL", "VALUE"):
            values.append(_latin1(value))
    return values


def _pattern_filter(pattern: dict[str, Any], included: str, excluded: str) -> Callable[[str], bool]:
    if "All" in pattern:
        return lambda _key: True
    if included in pattern:
        names = {n.lower() for n in pattern[included]}
        return lambda key: key.lower() in names
    if excluded in pattern:
        names = {n.lower() for n in pattern[excluded]}
        return lambda key: key.lower() not in names
    raise NotEmulated(f"MatchPattern {sorted(pattern)}")


def _cookies(request: WafRequest) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for header in request.header_values("cookie"):
        for part in header.split(";"):
            name, separator, value = part.strip().partition("=")
            if name or separator:
                pairs.append((name, value))
    return pairs


def _headers_extractor(spec: dict[str, Any]) -> Extractor:
    keep = _pattern_filter(spec.get("MatchPattern", {"All": {}}), "IncludedHeaders", "ExcludedHeaders")
    scope, handling = spec.get("MatchScope", "ALL"), spec.get("OversizeHandling")

    def extract(request: WafRequest) -> Extracted:
        kept, cut = _limited_pairs(request.headers)
        inspected = _scoped([(k, v) for k, v in kept if keep(k)], scope)
        return _oversize(handling, inspected) if cut else inspected

    return extract


def _cookies_extractor(spec: dict[str, Any]) -> Extractor:
    keep = _pattern_filter(spec.get("MatchPattern", {"All": {}}), "IncludedCookies", "ExcludedCookies")
    scope, handling = spec.get("MatchScope", "ALL"), spec.get("OversizeHandling")

    def extract(request: WafRequest) -> Extracted:
        kept, cut = _limited_pairs(_cookies(request))
        inspected = _scoped([(k, v) for k, v in kept if keep(k)], scope)
        return _oversize(handling, inspected) if cut else inspected

    return extract


def _body_extractor(spec: dict[str, Any]) -> Extractor:
    handling = (spec or {}).get("OversizeHandling")

    def extract(request: WafRequest) -> Extracted:
        inspected = [_latin1(request.body[: request.body_limit])]
        return _oversize(handling, inspected) if len(request.body) > request.body_limit else inspected

    return extract


def _json_elements(document: Any, pointer: str, scope: str, out: list[tuple[str, str]]) -> None:
    """(JSON pointer, text) of each key and scalar value, in document order."""
    if isinstance(document, dict):
        for key, value in document.items():
            child = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if scope in ("ALL", "KEY"):
                out.append((child, key))
            _json_elements(value, child, scope, out)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            _json_elements(value, f"{pointer}/{index}", scope, out)
    elif scope in ("ALL", "VALUE"):
        text = document if isinstance(document, str) else json.dumps(document)
        out.append((pointer, text))


def _json_body_extractor(spec: dict[str, Any]) -> Extractor:
    pattern = spec.get("MatchPattern", {"All": {}})
    included = pattern.get("IncludedPaths")
    scope, handling = spec.get("MatchScope", "ALL"), spec.get("OversizeHandling")
    fallback = spec.get("InvalidFallbackBehavior")

    def extract(request: WafRequest) -> Extracted:
        raw = request.body[: request.body_limit]
        if len(request.body) > request.body_limit and handling in ("MATCH", "NO_MATCH"):
            return handling == "MATCH"
        try:
            document = json.loads(raw)
        except ValueError:
            if fallback in ("MATCH", "NO_MATCH"):
                return fallback == "MATCH"
            # EVALUATE_AS_STRING, and WAF's own default for invalid JSON: the body as plain text.
            return [_latin1(raw)]
        elements: list[tuple[str, str]] = []
        _json_elements(document, "", scope, elements)
        if included is not None:
            elements = [(p, v) for p, v in elements if any(p == i or p.startswith(i + "/") for i in included)]
        return [_latin1(text) for _pointer, text in elements]

    return extract


def _query_arguments(request: WafRequest) -> list[tuple[str, str]]:
    return urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)


def _single_header(name: str) -> Extractor:
    return lambda request: [_latin1(v) for v in request.header_values(name)] or None


def _single_query_argument(name: str) -> Extractor:
    lowered = name.lower()
    return lambda request: [_latin1(v) for k, v in _query_arguments(request) if k.lower() == lowered] or None


def _header_order(spec: dict[str, Any]) -> Extractor:
    handling = spec.get("OversizeHandling")

    def extract(request: WafRequest) -> Extracted:
        kept, cut = _limited_pairs(request.headers)
        inspected = [":".join(_latin1(k) for k, _v in kept)]
        return _oversize(handling, inspected) if cut else inspected

    return extract


def extractor(field_to_match: dict[str, Any]) -> Extractor:
    """The function that reads one FieldToMatch from a request."""
    if len(field_to_match) != 1:
        raise NotEmulated(f"FieldToMatch {sorted(field_to_match)}")
    (kind, spec), *_ = field_to_match.items()
    simple: dict[str, Extractor] = {
        "UriPath": lambda r: [_latin1(r.uri_path)],
        "QueryString": lambda r: [_latin1(r.query_string)],
        "Method": lambda r: [r.method],
        "AllQueryArguments": lambda r: [_latin1(v) for _k, v in _query_arguments(r)],
    }
    if kind in simple:
        return simple[kind]
    builders: dict[str, Callable[[dict[str, Any]], Extractor]] = {
        "SingleHeader": lambda s: _single_header(s["Name"]),
        "SingleQueryArgument": lambda s: _single_query_argument(s["Name"]),
        "Headers": _headers_extractor,
        "Cookies": _cookies_extractor,
        "Body": _body_extractor,
        "JsonBody": _json_body_extractor,
        "HeaderOrder": _header_order,
    }
    if kind not in builders:
        raise NotEmulated(f"FieldToMatch {kind}")
    return builders[kind](spec or {})


# --- text transformations ----------------------------------------------------------------------------

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WHITESPACE = re.compile(r"[ \t\n\v\f\r\xa0]+")
_PERCENT_U = re.compile(r"%u([0-9A-Fa-f]{4})")
_COMMENTS = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)


def _url_decode(value: str) -> str:
    # As ModSecurity's urlDecode, which WAF's transformation follows: "+" is a space.
    return urllib.parse.unquote_to_bytes(value.replace("+", " ")).decode("latin-1")


def _url_decode_uni(value: str) -> str:
    decoded = _PERCENT_U.sub(lambda m: _latin1(chr(int(m.group(1), 16))), value)
    return _url_decode(decoded)


def _normalize_path(value: str) -> str:
    absolute, trailing = value.startswith("/"), value.endswith("/")
    parts: list[str] = []
    for part in value.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    result = ("/" if absolute else "") + "/".join(parts)
    return result + "/" if trailing and parts else result or ("/" if absolute else "")


def _base64_decode(value: str) -> str:
    try:
        return base64.b64decode(value.encode("latin-1") + b"==", validate=False).decode("latin-1")
    except (binascii.Error, ValueError):
        return value


def _hex_decode(value: str) -> str:
    try:
        return bytes.fromhex(value).decode("latin-1")
    except ValueError:
        return value


def _cmd_line(value: str) -> str:
    value = re.sub(r"[\\\"'^]", "", value)
    value = re.sub(r"[,;\s]+", " ", value)
    value = re.sub(r" (?=[/(])", "", value)
    return value.translate(_ASCII_LOWER)


TRANSFORMATIONS: dict[str, Callable[[str], str]] = {
    "NONE": lambda v: v,
    "LOWERCASE": lambda v: v.translate(_ASCII_LOWER),
    "UPPERCASE": lambda v: v.upper(),
    "URL_DECODE": _url_decode,
    "URL_DECODE_UNI": _url_decode_uni,
    "COMPRESS_WHITE_SPACE": lambda v: _WHITESPACE.sub(" ", v),
    "HTML_ENTITY_DECODE": html.unescape,
    "BASE64_DECODE": _base64_decode,
    "BASE64_DECODE_EXT": lambda v: _base64_decode(re.sub(r"[^A-Za-z0-9+/]", "", v)),
    "HEX_DECODE": _hex_decode,
    "MD5": lambda v: hashlib.md5(v.encode("latin-1"), usedforsecurity=False).digest().decode("latin-1"),
    "REMOVE_NULLS": lambda v: v.replace("\x00", ""),
    "REPLACE_NULLS": lambda v: v.replace("\x00", " "),
    "REPLACE_COMMENTS": lambda v: _COMMENTS.sub(" ", v),
    "NORMALIZE_PATH": _normalize_path,
    "NORMALIZE_PATH_WIN": lambda v: _normalize_path(v.replace("\\", "/")),
    "CMD_LINE": _cmd_line,
    "TRIM": lambda v: v.strip(" \t\n\v\f\r"),
}


def transformer(transformations: list[dict[str, Any]]) -> Callable[[str], str]:
    """Applies a rule's text transformations in priority order."""
    steps = []
    for item in sorted(transformations or [], key=lambda t: int(t.get("Priority", 0))):
        name = str(item.get("Type", "NONE"))
        if name not in TRANSFORMATIONS:
            raise NotEmulated(f"text transformation {name}")
        steps.append(TRANSFORMATIONS[name])

    def apply(value: str) -> str:
        for step in steps:
            value = step(value)
        return value

    return apply


def cookie_value(request: WafRequest, name: str) -> str | None:
    """One cookie's value (rate-based custom keys), None when the request has no such cookie."""
    return next((v for k, v in _cookies(request) if k == name), None)


def query_argument(request: WafRequest, name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in _query_arguments(request) if k.lower() == lowered), None)
