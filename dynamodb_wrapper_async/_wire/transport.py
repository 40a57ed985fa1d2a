"""A lean DynamoDB JSON-protocol transport for the data operations.

botocore's request pipeline (event hooks, endpoint rules, the shape-driven serializer and
parser) was most of the client's CPU per request. Our requests are already in wire format, so
the data operations are posted here as compact JSON (``orjson``), signed with SigV4 (our
``_sigv4``, held equal to botocore's ``SigV4Auth`` by tests) with the credentials the aioboto3
session resolved, sent over our lean HTTP/1.1 pool (``_http``), and parsed with ``orjson``.
Binary values travel as base64 both ways, as botocore sends and parses them. Error responses
go through botocore's own JSON parser and exception classes, so callers see exactly the
``ClientError`` the aioboto3 client raises. Table management stays on the aioboto3 client.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import re
import ssl
import uuid
import zlib
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import NoCredentialsError
from botocore.httpsession import ProxyConfiguration, create_urllib3_context, get_cert_path
from botocore.parsers import create_parser
from botocore.utils import get_environ_proxies

from ._gc_pause import without_gc
from ._http import ConnectionPool, HTTPConnectionError
from ._sigv4 import Signer
from ._types import Response
from .config import DynamoDBConfig
from .exceptions import ValidationError

#: DynamoDB operation -> client method name, for the operations this transport sends.
OPERATIONS: dict[str, str] = {
    "GetItem": "get_item",
    "PutItem": "put_item",
    "UpdateItem": "update_item",
    "DeleteItem": "delete_item",
    "Query": "query",
    "Scan": "scan",
    "BatchGetItem": "batch_get_item",
    "BatchWriteItem": "batch_write_item",
    "TransactWriteItems": "transact_write_items",
    "TransactGetItems": "transact_get_items",
}

_TARGET_PREFIX = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"
_KEEPALIVE_SECONDS = 12.0  # aiobotocore's: below the 20 s AWS closes idle connections after
_USER_AGENT = f"dynamodb-wrapper Python/{platform.python_version()}"
#: A response holds a binary value only if some object has a "B" or "BS" member.
_BINARY_MEMBER = re.compile(rb'"BS?"\s*:')
_ERROR_PARSER = create_parser("json")


class DamagedResponseError(HTTPConnectionError):
    """A response arrived damaged (CRC32 mismatch, or a success that is not a JSON object).

    A ``ConnectionError``, so it is retried like any broken connection. botocore
    would read a non-JSON 200 as an empty success, which for BatchWriteItem means "nothing
    unprocessed": a silent loss we refuse.
    """


class EncodedJSON(bytes):
    """Part of a request already encoded as JSON (a batch item), inlined as it is."""

    __slots__ = ()


def _base64(value: object) -> str | orjson.Fragment:
    """``orjson`` fallback: pre-encoded parts inlined; bytes go out as base64, as botocore
    sends blobs."""
    if type(value) is EncodedJSON:
        return orjson.Fragment(bytes(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    msg = f"Object of type {type(value).__name__} is not JSON serializable"
    raise TypeError(msg)


def _binary_hook(obj: dict[str, Any]) -> dict[str, Any]:
    """``json`` object hook: decode ``{"B": b64}`` and ``{"BS": [b64]}`` AttributeValues.

    No other DynamoDB response structure has a sole ``B``/``BS`` member holding a string (an
    item attribute named ``B`` holds a dict), so this matches botocore's shape-driven parse.
    """
    if len(obj) == 1:
        value = obj.get("B")
        if isinstance(value, str):
            return {"B": base64.b64decode(value)}
        values = obj.get("BS")
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            return {"BS": [base64.b64decode(v) for v in values]}
    return obj


def encode_request(params: Mapping[str, Any]) -> bytes:
    """Return the JSON body of a request: compact UTF-8, bytes as base64.

    ``orjson`` encodes about 10x faster than ``json``; ``EncodedJSON`` values (items the
    batch engine encoded once) are inlined as they are.

    Raises:
        ValidationError: The request cannot be JSON: text that is not valid Unicode (a lone
            surrogate), nesting deeper than JSON encoders allow, or a value of no JSON type.
    """
    try:
        return orjson.dumps(params, default=_base64)
    except orjson.JSONEncodeError as error:
        msg = f"the request cannot be encoded as JSON: {error}"
        raise ValidationError(msg) from None


def encode_part(value: Mapping[str, Any]) -> EncodedJSON:
    """Encode part of a request once (a batch item); ``encode_request`` inlines it as is.

    Raises:
        ValidationError: As ``encode_request``.
    """
    return EncodedJSON(encode_request(value))


def without_encoded_parts(value: Any) -> Any:
    """Return ``value`` with every ``EncodedJSON`` parsed back, binary values as bytes.

    For clients other than the transport (a test fake, an aioboto3 client), which expect
    the request as plain dicts.
    """
    if type(value) is EncodedJSON:
        return json.loads(value, object_hook=_binary_hook)
    if isinstance(value, Mapping):
        return {key: without_encoded_parts(member) for key, member in value.items()}
    if isinstance(value, list):
        return [without_encoded_parts(member) for member in value]
    return value


def decode_response(body: bytes) -> dict[str, Any]:
    """Parse a JSON response body: binary values back to bytes, top-level nulls dropped.

    Raises:
        DamagedResponseError: The body is not a JSON object.
    """
    if not body:
        return {}
    # substring tests first: a regex scan of a 60 KB page costs ~100x more
    binary = (b'"B"' in body or b'"BS"' in body) and _BINARY_MEMBER.search(body) is not None
    try:
        parsed = json.loads(body, object_hook=_binary_hook) if binary else orjson.loads(body)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, binascii.Error
        parsed = None
    if not isinstance(parsed, dict):
        msg = "the response body is not a JSON object"
        raise DamagedResponseError(msg)
    if None in parsed.values():  # botocore omits members sent as null
        parsed = {key: value for key, value in parsed.items() if value is not None}
    return parsed


class Transport:
    """Sends data operations to one DynamoDB endpoint over one connection pool.

    Holds the credentials provider, never frozen keys: each request asks it for current
    credentials, so refreshable credentials refresh as they do inside botocore.
    """

    __slots__ = (
        "_credentials",
        "_exceptions",
        "_idempotent",
        "_pool",
        "_region",
        "_service_model",
        "_signer",
        "endpoint_url",
    )

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        credentials: Any,
        client: Any,
        pool: ConnectionPool,
    ) -> None:
        self.endpoint_url = endpoint_url
        self._region = region
        self._credentials = credentials
        self._pool = pool
        self._service_model = client.meta.service_model
        self._exceptions = client.exceptions
        # The Host header and canonical path botocore's signer would derive from the URL,
        # derived once by it; the Host header is sent as signed.
        blank = AWSRequest(method="POST", url=endpoint_url)
        botocore_signer = SigV4Auth(None, "dynamodb", region)
        host: str = botocore_signer.headers_to_sign(blank)["host"]
        path = botocore_signer.canonical_request(blank).split("\n")[1]
        self._signer = Signer(region=region, host=host, path=path, content_type=_CONTENT_TYPE)
        self._idempotent: dict[str, tuple[str, ...]] = {
            operation: tuple(self._service_model.operation_model(operation).idempotent_members)
            for operation in OPERATIONS
        }

    def __repr__(self) -> str:
        return f"<Transport dynamodb {self._region} {self.endpoint_url}>"

    async def send(self, operation: str, /, **params: Any) -> Response:
        """Send one request and return the parsed response, as the aioboto3 client would.

        Raises:
            As :meth:`request`.
        """
        response: Response = await self.request(operation, params)
        return response

    async def request(
        self,
        operation: str,
        params: Mapping[str, Any],
        convert: Callable[[Response], Any] | None = None,
    ) -> Any:
        """Send one request; return the parsed response, or ``convert(response)``.

        ``convert`` runs as the body is parsed, with the garbage collector paused (see
        ``_gc_pause``): a page's raw dicts are freed before any collection can see them.

        Raises:
            botocore.exceptions.ClientError: DynamoDB answered with an error (the modeled
                subclass, with botocore's ``response`` dict).
            OSError: The connection failed (``HTTPConnectionError``; ``DamagedResponseError``
                if the response arrived damaged).
            asyncio.TimeoutError: Connecting or reading timed out.
        """
        for name in self._idempotent[operation]:
            if name not in params:  # as botocore's generate_idempotent_uuid
                params = {**params, name: str(uuid.uuid4())}
        body = encode_request(params)
        headers = await self._signed_headers(operation, body)
        status, response_headers, raw = await self._pool.post(headers, body)
        crc = response_headers.get("x-amz-crc32")
        if crc is not None and crc.isdigit() and int(crc) != zlib.crc32(raw):
            msg = f"CRC32 mismatch in the {operation} response"
            raise DamagedResponseError(msg)
        if status >= 300:
            raise self._error(operation, status, response_headers, raw)
        metadata: dict[str, Any] = {}
        request_id = response_headers.get("x-amzn-requestid")
        if request_id is not None:
            metadata["RequestId"] = request_id
        metadata["HTTPStatusCode"] = status
        metadata["HTTPHeaders"] = response_headers
        metadata["RetryAttempts"] = 0
        if convert is None:
            parsed = decode_response(raw)
            parsed["ResponseMetadata"] = metadata
            return parsed

        def parse_and_convert(body: bytes) -> Any:
            parsed = decode_response(body)
            parsed["ResponseMetadata"] = metadata
            return convert(parsed)

        return without_gc(parse_and_convert, raw)

    async def _signed_headers(self, operation: str, body: bytes) -> dict[str, str]:
        credentials = self._credentials
        frozen = None if credentials is None else await credentials.get_frozen_credentials()
        if frozen is None:
            raise NoCredentialsError  # as botocore's signer raises
        headers = self._signer.headers(frozen, _TARGET_PREFIX + operation, body)
        headers["Accept-Encoding"] = "identity"  # the CRC32 covers the uncompressed body
        headers["User-Agent"] = _USER_AGENT
        return headers

    def _error(
        self, operation: str, status: int, headers: dict[str, str], body: bytes
    ) -> Exception:
        """Build the ClientError botocore would raise, with the same ``response`` dict."""
        response = {
            "status_code": status,
            "headers": headers,
            "body": body,
            "context": {"operation_name": operation},
        }
        output = self._service_model.operation_model(operation).output_shape
        parsed: dict[str, Any] = _ERROR_PARSER.parse(response, output)
        code = parsed.get("Error", {}).get("Code")
        if code:
            shape = self._service_model.shape_for_error_code(code)
            if shape is not None:  # modeled fields: Item, CancellationReasons, ...
                parsed.update(_ERROR_PARSER.parse(response, shape))
        parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
        error: Exception = self._exceptions.from_code(code)(parsed, operation)
        return error

    async def close(self) -> None:
        """Close the connections."""
        await self._pool.close()


class TransportClient:
    """The pooled client: data operations go to the transport, the rest to aioboto3.

    It has the aioboto3 client's method names (``batch_write_item(**params)``...), so the
    gateway calls either the same way; exiting it closes the transport and the client.
    """

    def __init__(self, transport: Transport, client: Any, owner: Any) -> None:
        self.transport = transport
        self._client = client
        self._owner = owner
        for operation, method in OPERATIONS.items():
            setattr(self, method, partial(transport.send, operation))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not delegated (and no recursion before __init__ ran)
            raise AttributeError(name)
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"<TransportClient {self.transport!r}>"

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.transport.close()
        finally:
            await self._owner.__aexit__(*exc_info)

    async def close(self) -> None:
        """Close the transport and the aioboto3 client."""
        await self.__aexit__(None, None, None)


def _ssl_context(session: Any) -> ssl.SSLContext:
    """The TLS settings botocore's endpoint would use (``ca_bundle``, REQUESTS_CA_BUNDLE)."""
    bundle: str | None = session.get_config_variable("ca_bundle")
    if bundle is None:  # botocore's EndpointCreator._get_verify_value
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or None
    context: ssl.SSLContext = create_urllib3_context()
    context.load_verify_locations(get_cert_path(bundle or True))
    return context


async def open_transport(config: DynamoDBConfig, session: Any, client: Any) -> Transport:
    """Open a transport beside ``client``, with its endpoint, region and credentials.

    ``session`` is the aioboto3 session that made ``client``; its credential chain (keys,
    profile, environment, instance role, refreshable) is asked for credentials per request.
    """
    endpoint_url: str = client.meta.endpoint_url
    proxy = ProxyConfiguration(proxies=get_environ_proxies(endpoint_url)).proxy_url_for(
        endpoint_url
    )
    https = endpoint_url.startswith("https:") or (proxy or "").startswith("https:")
    proxy_headers = ProxyConfiguration().proxy_headers_for(proxy) if proxy else None
    credentials = await session.get_credentials()
    pool = ConnectionPool(
        endpoint_url,
        limit=config.pool_size,
        ssl_context=_ssl_context(session._session) if https else None,  # the botocore session
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        keepalive=_KEEPALIVE_SECONDS,
        proxy=proxy,
        proxy_headers=proxy_headers,
    )
    return Transport(
        endpoint_url=endpoint_url,
        region=client.meta.region_name,
        credentials=credentials,
        client=client,
        pool=pool,
    )


__all__ = [
    "OPERATIONS",
    "DamagedResponseError",
    "EncodedJSON",
    "Transport",
    "TransportClient",
    "decode_response",
    "encode_part",
    "encode_request",
    "open_transport",
    "without_encoded_parts",
]
