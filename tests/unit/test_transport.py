"""The lean transport answers exactly as the aioboto3 client does, and signs what it sends.

* Parity on both backends (moto server, DynamoDB Local): every data operation, errors included,
  gives the same response dict and exception class through the transport and through aioboto3.
* Parity on canned responses (throttling, HTML 5xx, nulls, blobs) from a local fake server.
* Binary values: request bodies and parsed responses equal botocore's serializer and parser
  (hypothesis), and binary keys round trip.
* Signatures: neither backend checks SigV4, so a proxy in front of them verifies every request
  with an independent SigV4 implementation (it accepts botocore's own requests too).
* Checksums, connection failures, refreshing credentials, and no secret in logs or reprs.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import gc
import hashlib
import hmac
import json
import logging
import re
import traceback
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aioboto3
import pytest
from _strategies import wire_items
from aiobotocore.credentials import AioRefreshableCredentials
from aiohttp import ClientSession, web
from botocore import xform_name
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.session import get_session
from hypothesis import given, settings
from multidict import CIMultiDict

from dynamodb_wrapper_async import DynamoDBConfig, PipelineConfigReadApi, _codec
from dynamodb_wrapper_async import exceptions as exc
from dynamodb_wrapper_async._json import encode_request
from dynamodb_wrapper_async._wire import http as http_module
from dynamodb_wrapper_async._wire import transport as transport_module
from dynamodb_wrapper_async._wire.answers import DamagedResponseError, decode_response
from dynamodb_wrapper_async._wire.errors import is_retryable, translate
from dynamodb_wrapper_async._wire.pool import botocore_config, close_clients, get_sender
from dynamodb_wrapper_async._wire.transport import Transport, open_transport

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTRANSPORTSECRET"
TOKEN = "IQoJb3JpZ2luX2VjTRANSPORTSESSIONTOKEN"
SERVICE = get_session().get_service_model("dynamodb")
VOLATILE = {"RequestId", "HTTPHeaders", "MaxAttemptsReached"}  # see compare()
#: The operations the scenario sends (every data operation).
DATA_OPERATIONS = (
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
)  # fmt: skip


# ------------------------------------------------------------------ an independent SigV4 check
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_valid(
    method: str, path: str, headers: Mapping[str, str], body: bytes, secrets: Mapping[str, str]
) -> bool:
    """Check a request's SigV4 signature from what arrived on the wire (AWS's published steps)."""
    match = _AUTH.fullmatch(headers.get("Authorization", ""))
    if match is None or match["key"] not in secrets:
        return False
    signed = match["signed"].split(";")
    if not {"host", "x-amz-date", "x-amz-target"} <= set(signed):
        return False
    if "X-Amz-Security-Token" in headers and "x-amz-security-token" not in signed:
        return False
    canonical_headers = "".join(f"{n}:{' '.join(headers[n].split())}\n" for n in signed)
    canonical = "\n".join(
        [
            method,
            path or "/",
            "",
            canonical_headers,
            match["signed"],
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{match['date']}/{match['region']}/{match['service']}/aws4_request"
    amz_date = headers["X-Amz-Date"]
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secrets[match['key']]}".encode(), match["date"])
    for part in (match["region"], match["service"], "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return amz_date[:8] == match["date"] and hmac.compare_digest(expected, match["signature"])


# ------------------------------------------------------------------ a local fake / proxy server
@dataclass
class Seen:
    target: str
    body: bytes
    headers: CIMultiDict[str]
    signed: bool


@dataclass
class FakeServer:
    """Records and verifies requests; answers from ``canned`` or forwards to ``upstream``."""

    secrets: dict[str, str] = field(default_factory=lambda: {"testing": "testing"})
    upstream: str | None = None
    canned: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = CIMultiDict(request.headers)
        signed = sigv4_valid(request.method, request.path, request.headers, body, self.secrets)
        self.seen.append(Seen(headers.get("X-Amz-Target", ""), body, headers, signed))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.canned:
            status, extra, payload = self.canned.pop(0)
            return web.Response(status=status, body=payload, headers=extra)
        assert self.upstream is not None
        forward = {k: v for k, v in headers.items() if k.lower() not in {"host", "content-length"}}
        async with (
            ClientSession(auto_decompress=False) as session,
            session.post(self.upstream, data=body, headers=forward) as answer,
        ):
            payload = await answer.read()
            keep = {"content-type", "x-amzn-requestid", "x-amz-crc32", "x-amzn-errortype"}
            back = {k: v for k, v in answer.headers.items() if k.lower() in keep}
            return web.Response(status=answer.status, body=payload, headers=back)


@contextlib.asynccontextmanager
async def serving(server: FakeServer) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def canned_json(status: int, body: Any, **headers: str) -> tuple[int, dict[str, str], bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    base = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "REQ1"}
    base["x-amz-crc32"] = str(zlib.crc32(raw))
    return status, base | headers, raw


# ------------------------------------------------------------------ the two clients side by side
@contextlib.asynccontextmanager
async def both(config: DynamoDBConfig) -> AsyncIterator[tuple[Any, Transport]]:
    """An aioboto3 client made as ``_pool`` makes it, and a transport beside it."""
    session = aioboto3.Session(**config.credentials(), region_name=config.region_name)
    async with session.client(
        "dynamodb", endpoint_url=config.endpoint_url, config=botocore_config(config)
    ) as client:
        transport = await open_transport(config, session, client)
        try:
            yield client, transport
        finally:
            await transport.aclose()


Call = Callable[..., Awaitable[dict[str, Any]]]


def via_client(client: Any) -> Callable[[str], Call]:
    return lambda operation: getattr(client, xform_name(operation))


def via_transport(transport: Transport) -> Callable[[str], Call]:
    return lambda operation: lambda **params: transport.send(operation, params)


async def send(transport: Transport, operation: str, **params: Any) -> dict[str, Any]:
    """Send one request through the transport, parameters given as keywords."""
    response: dict[str, Any] = await transport.send(operation, params)
    return response


async def outcome(call: Awaitable[dict[str, Any]]) -> tuple[str, dict[str, Any], list[str]]:
    """("ok" or exception class:code, response without volatile metadata, its header names)."""
    try:
        response = await call
        kind = "ok"
    except ClientError as error:
        response = dict(error.response)
        kind = f"{type(error).__name__}:{response['Error']['Code']}"
    metadata = dict(response.pop("ResponseMetadata", {}))
    headers = sorted(metadata.get("HTTPHeaders", {}))
    response["ResponseMetadata"] = {k: v for k, v in metadata.items() if k not in VOLATILE}
    return kind, response, headers


def renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {renamed(k, old, new): renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(renamed(v, old, new) for v in value)
    return value


# ------------------------------------------------------------------ parity on the real backends
def item(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "pk": {"S": f"p{n % 3}"},
        "sk": {"B": bytes([n, 0, 255])},
        "blob": {"B": b"\x00\x01binary\xff" * 3},
        "blobs": {"BS": [b"a", b"\xff\xfe", bytes([n])]},
        "nested": {"M": {"B": {"B": b"in a map"}, "list": {"L": [{"B": b""}, {"N": "1.5"}]}}},
        "text": {"S": "héllo ☃ \U0001f600"},
        "n": {"N": str(n)},
        **extra,
    }


def key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"p{n % 3}"}, "sk": {"B": bytes([n, 0, 255])}}


async def scenario(call: Callable[[str], Call], table: str) -> list[Any]:
    """Every data operation, successes and errors, in an order whose answers are deterministic."""
    token = uuid.uuid4().hex
    missing_table = f"{table}_missing"
    steps: list[tuple[str, dict[str, Any]]] = [
        ("PutItem", {"TableName": table, "Item": item(1), "ReturnConsumedCapacity": "TOTAL"}),
        (
            "PutItem",
            {"TableName": table, "Item": item(1, x={"S": "v2"}), "ReturnValues": "ALL_OLD"},
        ),
        ("GetItem", {"TableName": table, "Key": key(1), "ConsistentRead": True}),
        ("GetItem", {"TableName": table, "Key": key(99)}),
        (
            "UpdateItem",
            {
                "TableName": table,
                "Key": key(1),
                "UpdateExpression": "SET #t = :t, #b = :b",
                "ExpressionAttributeNames": {"#t": "text", "#b": "blob"},
                "ExpressionAttributeValues": {":t": {"S": "updated"}, ":b": {"B": b"\x10\x20"}},
                "ReturnValues": "ALL_NEW",
            },
        ),
        (
            "PutItem",
            {
                "TableName": table,
                "Item": item(1),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {table: [{"PutRequest": {"Item": item(n)}} for n in range(2, 22)]}},
        ),
        (
            "BatchGetItem",
            {
                "RequestItems": {
                    table: {
                        "Keys": [key(n) for n in (2, 5, 9, 200)],
                        "ProjectionExpression": "pk, sk, blobs, nested",
                        "ConsistentRead": True,
                    }
                }
            },
        ),
        (
            "Query",
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "p2"}},
                "Limit": 3,
            },
        ),
        ("Scan", {"TableName": table, "Limit": 4, "ReturnConsumedCapacity": "TOTAL"}),
        (
            "TransactWriteItems",
            {
                "ClientRequestToken": token,
                "TransactItems": [
                    {"Put": {"TableName": table, "Item": item(30)}},
                    {"Delete": {"TableName": table, "Key": key(2)}},
                ],
            },
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": table, "Item": item(31)}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": key(30),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            },
        ),
        (
            "TransactGetItems",
            {"TransactItems": [{"Get": {"TableName": table, "Key": key(n)}} for n in (1, 30, 2)]},
        ),
        ("DeleteItem", {"TableName": table, "Key": key(3), "ReturnValues": "ALL_OLD"}),
        ("GetItem", {"TableName": missing_table, "Key": key(1)}),
        (
            "Query",
            {
                "TableName": table,
                "KeyConditionExpression": "nope = :p",
                "ExpressionAttributeValues": {":p": {"S": "p2"}},
            },
        ),
        ("PutItem", {"TableName": table, "Item": {"pk": {"S": "only-hash"}}}),
    ]
    results = [await outcome(call(operation)(**params)) for operation, params in steps]
    # resume a page from a key holding bytes
    page = results[8][1]
    assert page.get("LastEvaluatedKey"), "the scenario needs a Query that stops mid-partition"
    rest = call("Query")(**steps[8][1], ExclusiveStartKey=page["LastEvaluatedKey"])
    results.append(await outcome(rest))
    return results


async def create_table(client: Any, name: str) -> None:
    await client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "B"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    await client.get_waiter("table_exists").wait(TableName=name)


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_every_operation_answers_as_the_aioboto3_client(backend: DynamoDBConfig) -> None:
    first, second = backend.table_name("tp_boto"), backend.table_name("tp_lean")
    async with both(backend) as (client, transport):
        await create_table(client, first)
        await create_table(client, second)
        try:
            expected = await scenario(via_client(client), first)
            got = await scenario(via_transport(transport), second)
        finally:
            await client.delete_table(TableName=first)
            await client.delete_table(TableName=second)
    assert len(got) == len(expected)
    for step, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        assert renamed(mine, second, first) == theirs, f"step {step}"
    kinds = [kind for kind, _, _ in got if kind != "ok"]
    assert kinds == [
        "ConditionalCheckFailedException:ConditionalCheckFailedException",
        "TransactionCanceledException:TransactionCanceledException",
        "ResourceNotFoundException:ResourceNotFoundException",
        "ClientError:ValidationException",
        "ClientError:ValidationException",
    ]
    conditional = got[5][1]
    assert conditional["Item"]["blob"] == {"B": b"\x10\x20"}  # the stored item, bytes decoded
    assert got[2][1]["Item"]["sk"] == {"B": bytes([1, 0, 255])}


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_a_converted_page_is_built_with_the_collector_paused(
    backend: DynamoDBConfig,
) -> None:
    table = backend.table_name("tp_converted")
    async with both(backend) as (client, transport):
        await create_table(client, table)
        try:
            await send(transport, "PutItem", TableName=table, Item=item(1))
            enabled, items = await transport.send(
                "Scan", {"TableName": table}, lambda page: (gc.isenabled(), page["Items"])
            )
            assert gc.isenabled()
            with pytest.raises(exc.ValidationError):  # an error in convert leaves as it is
                await transport.send(
                    "Scan", {"TableName": table}, lambda page: _codec.decode_item({"x": {}})
                )
            assert gc.isenabled()
        finally:
            await client.delete_table(TableName=table)
    assert enabled is False
    assert [(i["pk"], i["sk"]) for i in items] == [(item(1)["pk"], item(1)["sk"])]


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_every_request_is_signed_correctly_on_the_wire(backend: DynamoDBConfig) -> None:
    """A verifying proxy in front of the backend: both clients' requests check out."""
    server = FakeServer(
        secrets={"AKIDSIGNED": SECRET},
        upstream=backend.endpoint_url,
    )
    async with serving(server) as url:
        config = backend.model_copy(
            update={
                "endpoint_url": url,
                "aws_access_key_id": "AKIDSIGNED",
                "aws_secret_access_key": SECRET,
                "aws_session_token": TOKEN,
            }
        )
        table = backend.table_name("tp_signed")
        async with both(config) as (client, transport):
            await create_table(client, table)
            try:
                await scenario(via_transport(transport), table)
                await client.get_item(TableName=table, Key=key(1))
            finally:
                await client.delete_table(TableName=table)
    lean = [
        seen
        for seen in server.seen
        if "User-Agent" in seen.headers and "dynamodb-wrapper" in seen.headers["User-Agent"]
    ]
    assert len(lean) >= 18
    assert all(seen.signed for seen in server.seen), [s.target for s in server.seen if not s.signed]
    sample = lean[0]  # the verifier does reject what is not signed right
    assert not sigv4_valid("POST", "/", sample.headers, sample.body + b" ", server.secrets)
    assert not sigv4_valid("POST", "/", sample.headers, sample.body, {"AKIDSIGNED": "other"})
    assert all(seen.headers["X-Amz-Security-Token"] == TOKEN for seen in lean)
    assert {seen.headers["Content-Type"] for seen in lean} == {"application/x-amz-json-1.0"}
    targets = {seen.target for seen in lean}
    assert targets == {f"DynamoDB_20120810.{operation}" for operation in DATA_OPERATIONS}


# ------------------------------------------------------------------ parity on canned answers
CANNED: dict[str, tuple[int, dict[str, str], bytes]] = {
    "throttled": canned_json(
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "slow down",
        },
    ),
    "limit-exceeded-Message": canned_json(
        400, {"__type": "com.amazon.coral.availability#ThrottlingException", "Message": "x"}
    ),
    "html-503": (503, {"Content-Type": "text/html"}, b"<html><body>busy</body></html>"),
    "empty-500": (500, {}, b""),
    "not-json-400": (400, {"x-amzn-RequestId": "R"}, b"this is not json"),
    "cancelled": canned_json(
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons",
            "CancellationReasons": [
                {"Code": "None"},
                {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                    "Item": {"pk": {"S": "a"}, "b": {"B": base64.b64encode(b"\x00").decode()}},
                },
            ],
        },
    ),
    "unknown-code": canned_json(400, {"__type": "SomethingNewException", "message": "?"}),
    "nulls-and-blobs": canned_json(
        200,
        {
            "Items": [
                {"B": {"S": "an attribute named B"}, "BS": {"M": {}}},
                {"x": {"BS": ["AAE=", ""]}, "y": {"L": [{"B": "/w=="}]}},
            ],
            "Count": 2,
            "ScannedCount": 2,
            "LastEvaluatedKey": None,
            "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5},
        },
    ),
    "empty-200": (200, {"x-amzn-RequestId": "R"}, b""),
    "spaced-json": canned_json(
        200, b'{"Item" : {"k" : {"B" : "AQI="}, "s": {"S": "\\"B\\": not a blob"}}}'
    ),
}


@pytest.mark.parametrize("case", list(CANNED))
async def test_canned_answers_parse_as_botocore_parses_them(case: str) -> None:
    server = FakeServer()
    async with serving(server) as url:
        config = DynamoDBConfig(
            endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        async with both(config) as (client, transport):
            server.canned = [CANNED[case], CANNED[case]]
            operation = "Query" if b'"Items"' in CANNED[case][2] else "GetItem"
            params = {"TableName": "t", "Key": {"k": {"S": "v"}}}
            if operation == "Query":
                params = {"TableName": "t", "KeyConditionExpression": "k = :v"}
            expected = await outcome(via_client(client)(operation)(**params))
            got = await outcome(transport.send(operation, params))
    assert got == expected


# ------------------------------------------------------------------ binary values, exactly
_items = wire_items(max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(_items)
def test_binary_values_serialize_and_parse_as_botocore_does(value: dict[str, Any]) -> None:
    serializer, parser = create_serializer("json"), create_parser("json")
    put = SERVICE.operation_model("PutItem")
    params = {"TableName": "t", "Item": value}
    theirs = serializer.serialize_to_request(params, put)["body"]
    assert json.loads(encode_request(params)) == json.loads(theirs)

    wire = encode_request({"Item": value, "ConsumedCapacity": {"CapacityUnits": 1.0}})
    get = SERVICE.operation_model("GetItem")
    parsed = parser.parse({"status_code": 200, "headers": {}, "body": wire}, get.output_shape)
    parsed.pop("ResponseMetadata")
    assert decode_response(wire) == parsed
    assert decode_response(wire)["Item"] == value  # bytes round trip


# ------------------------------------------------------------------ failures
DAMAGED = {
    "crc32-mismatch": canned_json(200, {"Item": {"k": {"S": "v"}}}, **{"x-amz-crc32": "12345"}),
    "not-json": canned_json(200, b"<html>proxy error</html>"),
    "not-an-object": canned_json(200, b"[1, 2]"),
    "truncated": canned_json(200, b'{"Item": {"k": {"B": "AQ'),
}


@pytest.mark.parametrize("case", list(DAMAGED))
async def test_a_damaged_answer_is_a_retryable_connection_error(case: str) -> None:
    server = FakeServer(canned=[DAMAGED[case]])
    async with serving(server) as url:
        config = DynamoDBConfig(
            endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        async with both(config) as (_, transport):
            with pytest.raises(DamagedResponseError) as caught:
                await send(transport, "GetItem", TableName="t", Key={"k": {"S": "v"}})
    assert is_retryable(caught.value)
    error = translate(caught.value, operation="GetItem")
    assert isinstance(error, exc.ConnectionError)


async def test_timeouts_and_refused_connections_raise_what_errors_understand() -> None:
    server = FakeServer(delay=1.0, canned=[canned_json(200, {})])
    async with serving(server) as url:
        config = DynamoDBConfig(
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            read_timeout=0.1,
        )
        async with both(config) as (_, transport):
            with pytest.raises(asyncio.TimeoutError) as slow:
                await send(transport, "GetItem", TableName="t", Key={})
    refused = DynamoDBConfig(
        endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
    )  # the server is gone now
    async with both(refused) as (_, transport):
        with pytest.raises(ConnectionRefusedError) as down:
            await send(transport, "GetItem", TableName="t", Key={})
    for error, word in ((slow.value, "timed out"), (down.value, "failed")):
        assert is_retryable(error)
        translated = translate(error, operation="GetItem")
        assert isinstance(translated, exc.ConnectionError)
        assert word in str(translated)


async def test_without_credentials_nothing_is_sent() -> None:
    server = FakeServer()
    async with serving(server) as url:
        config = DynamoDBConfig(endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="y")
        async with both(config) as (_, transport):
            transport._credentials = None
            with pytest.raises(NoCredentialsError) as caught:
                await send(transport, "GetItem", TableName="t", Key={})
    assert server.seen == []
    assert "no usable AWS credentials" in str(translate(caught.value, operation="GetItem"))


async def test_refreshable_credentials_are_asked_for_on_every_request() -> None:
    refreshed: list[str] = []
    secrets: dict[str, str] = {}

    async def refresh() -> dict[str, str]:
        name = f"AKIDREFRESH{len(refreshed)}"
        refreshed.append(name)
        secrets[name] = f"secret-{name}"
        expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)  # always due
        return {
            "access_key": name,
            "secret_key": secrets[name],
            "token": TOKEN,
            "expiry_time": expiry.isoformat(),
        }

    server = FakeServer(secrets=secrets, canned=[canned_json(200, {})] * 3)
    async with serving(server) as url:
        config = DynamoDBConfig(endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="y")
        async with both(config) as (_, transport):
            metadata = await refresh()
            transport._credentials = AioRefreshableCredentials.create_from_metadata(
                metadata, refresh_using=refresh, method="test"
            )
            for _ in range(3):
                await send(transport, "GetItem", TableName="t", Key={})
    used = [seen.headers["Authorization"].split("/")[0].split("=")[1] for seen in server.seen]
    assert all(seen.signed for seen in server.seen)
    assert used == refreshed[1:4]


async def test_a_missing_idempotency_token_is_filled_in_as_botocore_does() -> None:
    server = FakeServer(canned=[canned_json(200, {}), canned_json(200, {})])
    async with serving(server) as url:
        config = DynamoDBConfig(
            endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        async with both(config) as (_, transport):
            await send(transport, "TransactWriteItems", TransactItems=[])
            await send(transport, "TransactWriteItems", TransactItems=[], ClientRequestToken="T")
    tokens = [json.loads(seen.body)["ClientRequestToken"] for seen in server.seen]
    assert str(uuid.UUID(tokens[0])) == tokens[0]
    assert tokens[1] == "T"


# ------------------------------------------------------------------ the pooled sender
async def test_the_pooled_sender_is_the_transport_for_every_operation_and_hides_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = FakeServer(
        secrets={"AKIDPOOLED": SECRET},
        canned=[
            canned_json(200, {"Item": {"k": {"B": "AAE="}}}),
            canned_json(400, {"__type": "x#ValidationException", "message": "bad"}),
            canned_json(200, {"TableNames": ["t"]}),
        ],
    )
    caplog.set_level(logging.DEBUG)
    async with serving(server) as url:
        config = DynamoDBConfig(
            endpoint_url=url,
            aws_access_key_id="AKIDPOOLED",
            aws_secret_access_key=SECRET,
            aws_session_token=TOKEN,
            max_concurrency=3,
        )
        pooled = await get_sender(config)
        try:
            sender = pooled.sender
            assert isinstance(sender, Transport)
            found = await sender.send("GetItem", {"TableName": "t", "Key": {"k": {"S": "v"}}})
            with pytest.raises(ClientError) as failed:
                await sender.send("Query", {"TableName": "t"})
            tables = await sender.send("ListTables", {})  # table management: the same path
            texts = [repr(sender), repr(pooled), str(failed.value)]
        finally:
            await close_clients(config)
    assert found["Item"] == {"k": {"B": b"\x00\x01"}}
    assert tables["TableNames"] == ["t"]
    assert [json.loads(seen.body) for seen in server.seen][2] == {}
    assert all("dynamodb-wrapper" in seen.headers["User-Agent"] for seen in server.seen)
    assert all(seen.signed for seen in server.seen)
    assert sender._pool.closed
    assert caplog.text, "DEBUG logging was on"
    for text in [*texts, caplog.text]:
        assert SECRET not in text
        assert TOKEN not in text


@pytest.mark.parametrize("tls_in_tls", [True, False], ids=["3.11+", "3.10"])
async def test_an_https_endpoint_through_an_https_proxy_is_refused_clearly_on_3_10(
    monkeypatch: pytest.MonkeyPatch, tls_in_tls: bool
) -> None:
    """Where asyncio cannot run TLS inside TLS, a call fails with our error, naming why."""
    monkeypatch.setattr(transport_module, "TLS_IN_TLS", tls_in_tls)
    monkeypatch.setattr(http_module, "TLS_IN_TLS", tls_in_tls)
    monkeypatch.setenv("HTTPS_PROXY", "https://alice:pr0xy-pass@127.0.0.1:9")
    config = DynamoDBConfig(
        endpoint_url="https://127.0.0.1:9",
        aws_access_key_id="AKIDPROXIED",
        aws_secret_access_key=SECRET,
        max_retries=0,
        connect_timeout=1,
    )
    with pytest.raises(exc.DynamoDBWrapperError) as caught:
        await PipelineConfigReadApi(config).get_by_id("x")
    await close_clients(config)
    if tls_in_tls:  # nobody listens on port 9: the proxy cannot be reached
        assert isinstance(caught.value, exc.ConnectionError)
    else:
        assert type(caught.value) is exc.DynamoDBWrapperError
        assert str(caught.value).startswith(
            "the https endpoint https://127.0.0.1:9 through an https proxy needs Python 3.11"
        )
        assert caught.value.operation == "connect"
    for secret in ("alice", "pr0xy-pass", SECRET):
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    "proxy",
    [
        f"http://alice:{SECRET}@127.0.0.1:3128",  # "/" unescaped: the URL splits inside it
        f"http://alice:{SECRET}",  # no host at all
        "http://alice:pr0xy-pass@127.0.0.1:99999",  # a port out of range
    ],
    ids=["slash-in-password", "no-host", "bad-port"],
)
async def test_a_malformed_proxy_url_is_refused_without_its_credentials(
    monkeypatch: pytest.MonkeyPatch, proxy: str
) -> None:
    """The proxy URL comes from the environment and may hold credentials: not shown."""
    monkeypatch.setenv("HTTP_PROXY", proxy)
    config = DynamoDBConfig(
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIDPROXIED",
        aws_secret_access_key="x",
        max_retries=0,
    )
    with pytest.raises(exc.DynamoDBWrapperError) as caught:
        await PipelineConfigReadApi(config).get_by_id("x")
    await close_clients(config)
    text = "".join(traceback.format_exception(caught.value))
    assert "proxy URL" in str(caught.value)
    assert caught.value.operation == "connect"
    for part in ("alice", "pr0xy-pass", *SECRET.split("/")):
        assert part not in text, text


async def test_an_endpoint_url_with_user_info_from_botocore_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore takes the endpoint from AWS_ENDPOINT_URL_DYNAMODB when the config has none:
    our config's check never sees it, the connection's does."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://AKIDINURL:{SECRET}@127.0.0.1:9")
    config = DynamoDBConfig(aws_access_key_id="AKIDINURL", aws_secret_access_key="x", max_retries=0)
    with pytest.raises(exc.DynamoDBWrapperError) as caught:
        await PipelineConfigReadApi(config).get_by_id("x")
    await close_clients(config)
    text = "".join(traceback.format_exception(caught.value))
    assert caught.value.operation == "connect"
    for part in ("AKIDINURL", *SECRET.split("/")):
        assert part not in text, text
