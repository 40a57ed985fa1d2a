"""Opaque, URL-safe page tokens bound to the query that made them (pure).

A token wraps DynamoDB's LastEvaluatedKey with the *scope* of its query (table, index, key
condition and key values) and an HMAC. The HMAC key is a fixed constant: it detects tampering
and corruption, it is not a secret. Decoding checks the scope and the exact key attributes, so
a token cannot address another table, index or partition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Collection, Mapping
from typing import Any

from .exceptions import ValidationError

_VERSION = 1
_MAC_KEY = b"dynamodb-wrapper/page-token/v1"
_MAC_BYTES = 16
MAX_TOKEN_LENGTH = 4096


def query_scope(
    table: str, index: str | None, key_condition: str | None, values: Mapping[str, Any]
) -> str:
    """Return a short stable digest of what identifies a query (not its filter/projection)."""
    text = json.dumps(
        [table, index, key_condition, _jsonable(values)], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_token(last_key: Mapping[str, Mapping[str, Any]], *, scope: str) -> str:
    """Wrap a wire-format key in an opaque URL-safe token bound to ``scope``."""
    body = json.dumps(
        {"v": _VERSION, "s": scope, "k": _jsonable(last_key)},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(_MAC_KEY, body, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(mac + body).decode().rstrip("=")


def decode_token(
    token: object, *, scope: str, key_names: Collection[str]
) -> dict[str, dict[str, Any]]:
    """Return the wire-format key inside ``token``.

    Raises:
        ValidationError: The token is malformed, tampered with, from another query, or its key
            does not have exactly ``key_names``.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        msg = "expected a non-empty string from next_key"
        raise _invalid(msg)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        msg = "not base64url"
        raise _invalid(msg) from None
    mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    expected = hmac.new(_MAC_KEY, body, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        msg = "checksum mismatch (the token was altered or truncated)"
        raise _invalid(msg)
    try:
        data = json.loads(body)
    except ValueError:
        msg = "bad payload"
        raise _invalid(msg) from None
    if not isinstance(data, dict) or data.get("v") != _VERSION:
        msg = "unknown token version"
        raise _invalid(msg)
    if data.get("s") != scope:
        msg = "token belongs to another query"
        raise _invalid(msg)
    key = data.get("k")
    if not isinstance(key, dict) or set(key) != set(key_names):
        msg = "key attributes do not match this query"
        raise _invalid(msg)
    return {name: _scalar(value) for name, value in key.items()}


def _invalid(reason: str) -> ValidationError:
    return ValidationError(f"invalid page token: {reason}", operation="decode_token")


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def _scalar(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        msg = "bad key value"
        raise _invalid(msg)
    ((kind, inner),) = value.items()
    if kind in ("S", "N") and isinstance(inner, str):
        return {kind: inner}
    if kind == "B" and isinstance(inner, dict) and isinstance(inner.get("__b64__"), str):
        try:
            return {"B": base64.b64decode(inner["__b64__"], validate=True)}
        except (binascii.Error, ValueError):
            msg = "bad binary key value"
            raise _invalid(msg) from None
    msg = "bad key value"
    raise _invalid(msg)
