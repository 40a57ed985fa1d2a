"""The wire JSON module: compact UTF-8 bodies, pre-encoded parts inlined exactly, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from _strategies import wire_items
from hypothesis import given, settings

from dynamodb_wrapper_async import exceptions as exc
from dynamodb_wrapper_async._json import decode_body, encode_part, encode_request

_items = wire_items()


def test_request_bodies_are_compact_utf8_json() -> None:
    body = encode_request({"Item": {"s": {"S": "☃"}, "b": {"B": b"\xff"}}})
    assert body == '{"Item":{"s":{"S":"☃"},"b":{"B":"/w=="}}}'.encode()


@settings(max_examples=100, deadline=None)
@given(_items)
def test_encoded_parts_inline_as_they_are_and_parse_back_exactly(value: dict[str, Any]) -> None:
    part = encode_part({"PutRequest": {"Item": value}})
    params = {"RequestItems": {"t": [part, part]}}
    body = encode_request(params)
    plain = {"RequestItems": {"t": [{"PutRequest": {"Item": value}}] * 2}}
    assert body == encode_request(plain)  # inlined byte for byte
    assert decode_body(body) == plain  # bytes come back as bytes


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"x": object()}, "not JSON serializable"),
        ({"Item": {"s": {"S": "half a pair \ud800"}}}, "surrogates not allowed"),
    ],
)
def test_requests_that_cannot_be_json_are_a_validation_error(
    params: dict[str, Any], reason: str
) -> None:
    with pytest.raises(exc.ValidationError, match=reason):
        encode_request(params)
