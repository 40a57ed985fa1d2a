import base64
import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamodb_wrapper_async._tokens import decode_token, encode_token, query_scope
from dynamodb_wrapper_async.exceptions import ValidationError

KEY = {"run_id": {"S": "r1"}, "pipeline_id": {"S": "p"}, "created_at": {"S": "2024"}}
NAMES = ("run_id", "pipeline_id", "created_at")
SCOPE = query_scope("t_runs", "PipelineRunsIndex", "#n0 = :v0", {":v0": {"S": "p"}})


def test_round_trip_of_string_number_and_binary_keys() -> None:
    key: dict[str, dict[str, Any]] = {"a": {"S": "x"}, "n": {"N": "12.5"}, "b": {"B": b"\x00\xff"}}
    token = encode_token(key, scope="s")
    assert decode_token(token, scope="s", key_names=("a", "n", "b")) == key
    assert all(c.isalnum() or c in "-_" for c in token)


def test_scope_depends_on_table_index_condition_and_values() -> None:
    others = [
        query_scope("t_other", "PipelineRunsIndex", "#n0 = :v0", {":v0": {"S": "p"}}),
        query_scope("t_runs", "StatusRunsIndex", "#n0 = :v0", {":v0": {"S": "p"}}),
        query_scope("t_runs", "PipelineRunsIndex", "#n0 = :v0", {":v0": {"S": "q"}}),
        query_scope("t_runs", None, "#n0 = :v0", {":v0": {"S": "p"}}),
    ]
    assert SCOPE not in others
    assert len(set(others)) == len(others)


def test_token_from_another_query_is_rejected() -> None:
    token = encode_token(KEY, scope=SCOPE)
    with pytest.raises(ValidationError, match="another query"):
        decode_token(token, scope="different", key_names=NAMES)


def test_tampered_token_is_rejected() -> None:
    token = encode_token(KEY, scope=SCOPE)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-5] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(ValidationError, match="checksum"):
        decode_token(tampered, scope=SCOPE, key_names=NAMES)
    with pytest.raises(ValidationError):
        decode_token(token[:-3], scope=SCOPE, key_names=NAMES)


def test_key_names_must_match() -> None:
    token = encode_token(KEY, scope=SCOPE)
    with pytest.raises(ValidationError, match="key attributes"):
        decode_token(token, scope=SCOPE, key_names=("run_id", "pipeline_id"))


@pytest.mark.parametrize("garbage", ["", "!!!", "a" * 5000, "bm90IGEgdG9rZW4", 42, None])
def test_garbage_is_a_validation_error(garbage: object) -> None:
    with pytest.raises(ValidationError, match="invalid page token"):
        decode_token(garbage, scope=SCOPE, key_names=NAMES)


@given(st.text(max_size=300))
def test_arbitrary_text_only_ever_raises_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationError):
        decode_token(text, scope=SCOPE, key_names=NAMES)
