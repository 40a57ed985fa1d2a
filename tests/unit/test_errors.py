import asyncio
import builtins
import pickle
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from dynamodb_wrapper_async import exceptions as exc
from dynamodb_wrapper_async._wire.errors import (
    ERRORS,
    RETRYABLE_CODES,
    is_retryable,
    may_have_been_applied,
    translate,
)


def client_error(code: str, status: int = 400, **extra: Any) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "REQ123"},
        **extra,
    }
    return ClientError(response, "PutItem")


@pytest.mark.parametrize(("code", "cls"), sorted(ERRORS.items()))
def test_every_mapped_code_becomes_its_class(
    code: str, cls: type[exc.DynamoDBWrapperError]
) -> None:
    error = translate(client_error(code), operation="PutItem", table="t", key={"id": "1"})
    assert type(error) is cls
    assert error.aws_code == code
    assert error.request_id == "REQ123"
    assert error.table == "t"
    assert error.key == {"id": "1"}
    assert isinstance(error, exc.DynamoDBWrapperError)


def test_unknown_codes_become_base_or_retryable_by_status() -> None:
    unknown = translate(client_error("BrandNewException"), operation="Query")
    assert type(unknown) is exc.DynamoDBWrapperError
    assert unknown.aws_code == "BrandNewException"
    server = translate(client_error("Weird", status=503), operation="Query")
    assert type(server) is exc.RetryableError


def test_retryable_classification() -> None:
    for code in ("ProvisionedThroughputExceededException", "ThrottlingException",
                 "RequestLimitExceeded", "InternalServerError",
                 "TransactionConflictException"):  # fmt: skip
        assert code in RETRYABLE_CODES
        assert is_retryable(client_error(code))
    assert is_retryable(client_error("Whatever", status=500))
    assert not is_retryable(client_error("ConditionalCheckFailedException"))
    assert not is_retryable(client_error("ValidationException"))
    assert is_retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_retryable(asyncio.TimeoutError())


def test_only_5xx_and_lost_connections_may_have_been_applied() -> None:
    """Throttling is an answer given before any write; a 500 or a reset may follow one."""
    assert not may_have_been_applied(client_error("ThrottlingException"))
    assert not may_have_been_applied(client_error("ProvisionedThroughputExceededException"))
    assert may_have_been_applied(client_error("InternalServerError", status=500))
    assert may_have_been_applied(asyncio.TimeoutError())
    assert may_have_been_applied(ConnectionResetError())


def test_connection_errors_are_also_builtin_connection_errors() -> None:
    error = translate(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), operation="GetItem"
    )
    assert isinstance(error, exc.ConnectionError)
    assert isinstance(error, builtins.ConnectionError)
    timeout = translate(ReadTimeoutError(endpoint_url="http://x"), operation="GetItem")
    assert isinstance(timeout, exc.ConnectionError)
    assert "timed out" in str(timeout)


def test_missing_credentials_is_a_domain_error() -> None:
    error = translate(NoCredentialsError(), operation="GetItem")
    assert type(error) is exc.DynamoDBWrapperError
    assert "credentials" in str(error)


def test_transaction_cancellation_reasons_and_condition_item() -> None:
    cancelled = translate(
        client_error(
            "TransactionCanceledException",
            CancellationReasons=[
                {"Code": "None"},
                {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
            ],
        ),
        operation="TransactWriteItems",
    )
    assert isinstance(cancelled, exc.ConflictError)
    assert [r["code"] for r in cancelled.cancellation_reasons] == ["None", "ConditionalCheckFailed"]
    failed = translate(
        client_error("ConditionalCheckFailedException", Item={"id": {"S": "1"}}),
        operation="PutItem",
    )
    assert isinstance(failed, exc.ConflictError)
    assert failed.item == {"id": {"S": "1"}}


def test_hierarchy_mixes_in_builtins() -> None:
    assert issubclass(exc.ItemNotFoundError, LookupError)
    assert issubclass(exc.TableNotFoundError, LookupError)
    assert issubclass(exc.ValidationError, ValueError)
    assert issubclass(exc.ConnectionError, builtins.ConnectionError)


@pytest.mark.parametrize(
    "error",
    [
        exc.ItemNotFoundError("gone", operation="get_by_id", table="t", key={"id": "1"}),
        exc.ConflictError("no", cancellation_reasons=[{"code": "X"}], item={"a": {"S": "b"}}),
        exc.BatchWriteError("left", unprocessed_items=[{"id": 1}], unprocessed_keys=[{"id": 1}]),
        exc.RetryableError("slow", retries=9, unprocessed_keys=[{"id": {"S": "1"}}]),
        exc.ConnectionError("down", aws_code=None, request_id="R"),
    ],
)
def test_exceptions_pickle_with_context(error: exc.DynamoDBWrapperError) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert clone._context() == error._context()


def test_str_names_context_but_not_batch_payloads() -> None:
    error = exc.BatchWriteError(
        "2 items not written", table="t", unprocessed_items=[{"secret_payload": 1}]
    )
    assert "table='t'" in str(error)
    assert "secret_payload" not in str(error)
    assert repr(error) == "BatchWriteError('2 items not written')"
