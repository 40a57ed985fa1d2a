"""The JSON transport: sends every DynamoDB operation over our lean HTTP/1.1 pool.

botocore's request pipeline (event hooks, endpoint rules, the shape-driven serializer and
parser) was most of the client's CPU per request. Our requests are already in wire format, so
they are posted here as compact JSON (``_json``), signed with SigV4 (``sigv4``, held equal to
botocore's ``SigV4Auth`` by tests) with the credentials the aioboto3 session resolved, sent
over ``http.ConnectionPool``, and read by ``answers.read_answer`` (errors through botocore's
own parser and exception classes). Table management takes the same path as data.
"""

from __future__ import annotations

import os
import platform
import ssl
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import NoCredentialsError
from botocore.httpsession import ProxyConfiguration, create_urllib3_context, get_cert_path
from botocore.utils import get_environ_proxies

from .._json import encode_request
from .._types import Response
from ..config import DynamoDBConfig
from ..exceptions import DynamoDBWrapperError
from .answers import idempotent_members, read_answer
from .http import TLS_IN_TLS, ConnectionPool, shown_url
from .sigv4 import Signer

__all__ = ["Transport", "open_transport"]

_TARGET_PREFIX = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"
_KEEPALIVE_SECONDS = 12.0  # aiobotocore's: below the 20 s AWS closes idle connections after
_USER_AGENT = f"dynamodb-wrapper Python/{platform.python_version()}"


class Transport:
    """The production ``Sender``: every operation to one DynamoDB endpoint over one pool.

    Holds the credentials provider, never frozen keys: each request asks it for current
    credentials, so refreshable credentials refresh as they do inside botocore.
    """

    __slots__ = ("_credentials", "_pool", "_region", "_signer", "endpoint_url")

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        credentials: Any,
        pool: ConnectionPool,
    ) -> None:
        self.endpoint_url = endpoint_url
        self._region = region
        self._credentials = credentials
        self._pool = pool
        # The Host header and canonical path botocore's signer would derive from the URL,
        # derived once by it; the Host header is sent as signed.
        blank = AWSRequest(method="POST", url=endpoint_url)
        botocore_signer = SigV4Auth(None, "dynamodb", region)
        host: str = botocore_signer.headers_to_sign(blank)["host"]
        path = botocore_signer.canonical_request(blank).split("\n")[1]
        self._signer = Signer(region=region, host=host, path=path, content_type=_CONTENT_TYPE)

    def __repr__(self) -> str:
        return f"<Transport dynamodb {self._region} {shown_url(self.endpoint_url)}>"

    async def send(
        self,
        operation: str,
        params: Mapping[str, Any],
        convert: Callable[[Response], Any] | None = None,
    ) -> Any:
        """Send one request; return the parsed response, or ``convert(response)``.

        Raises:
            botocore.exceptions.ClientError: DynamoDB answered with an error (the modeled
                subclass, with botocore's ``response`` dict).
            OSError: The connection failed (``HTTPConnectionError``; ``DamagedResponseError``
                if the response arrived damaged).
            asyncio.TimeoutError: Connecting or reading timed out.
        """
        for name in idempotent_members(operation):
            if name not in params:  # as botocore's generate_idempotent_uuid
                params = {**params, name: str(uuid.uuid4())}
        body = encode_request(params)
        headers = await self._signed_headers(operation, body)
        status, response_headers, raw = await self._pool.post(headers, body)
        return read_answer(operation, status, response_headers, raw, convert)

    async def _signed_headers(self, operation: str, body: bytes) -> dict[str, str]:
        credentials = self._credentials
        frozen = None if credentials is None else await credentials.get_frozen_credentials()
        if frozen is None:
            raise NoCredentialsError  # as botocore's signer raises
        headers = self._signer.headers(frozen, _TARGET_PREFIX + operation, body)
        headers["Accept-Encoding"] = "identity"  # the CRC32 covers the uncompressed body
        headers["User-Agent"] = _USER_AGENT
        return headers

    async def aclose(self) -> None:
        """Close the connections."""
        await self._pool.close()

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the parent's connections without closing them."""
        self._pool.forget_after_fork()


def _ssl_context(session: Any) -> ssl.SSLContext:
    """The TLS settings botocore's endpoint would use (``ca_bundle``, REQUESTS_CA_BUNDLE)."""
    bundle: str | None = session.get_config_variable("ca_bundle")
    if bundle is None:  # botocore's EndpointCreator._get_verify_value
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or None
    context: ssl.SSLContext = create_urllib3_context()
    context.load_verify_locations(get_cert_path(bundle or True))
    return context


async def open_transport(config: DynamoDBConfig, session: Any, client: Any) -> Transport:
    """Open a transport with ``client``'s endpoint, region and credentials.

    ``session`` is the aioboto3 session that made ``client``; its credential chain (keys,
    profile, environment, instance role, refreshable) is asked for credentials per request.
    ``client`` itself sends nothing, and is not needed once this returns.

    Raises:
        DynamoDBWrapperError: The endpoint is ``https://`` and its proxy too, on Python 3.10;
            or the endpoint or proxy URL is malformed (a proxy URL is not shown).
    """
    endpoint_url: str = client.meta.endpoint_url
    proxy = ProxyConfiguration(proxies=get_environ_proxies(endpoint_url)).proxy_url_for(
        endpoint_url
    )
    if endpoint_url.startswith("https:") and (proxy or "").startswith("https:") and not TLS_IN_TLS:
        msg = (
            f"the https endpoint {shown_url(endpoint_url)} through an https proxy needs Python"
            " 3.11 or "
            "later (TLS inside TLS); use an http:// proxy or a newer Python"
        )
        raise DynamoDBWrapperError(msg, operation="connect")
    https = endpoint_url.startswith("https:") or (proxy or "").startswith("https:")
    proxy_headers = ProxyConfiguration().proxy_headers_for(proxy) if proxy else None
    credentials = await session.get_credentials()
    try:
        pool = ConnectionPool(
            endpoint_url,
            limit=config.pool_size,
            ssl_context=_ssl_context(session._session) if https else None,  # botocore's session
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            keepalive=_KEEPALIVE_SECONDS,
            proxy=proxy,
            proxy_headers=proxy_headers,
            max_response_bytes=config.max_response_bytes,
        )
    except ValueError as error:  # a malformed endpoint or proxy URL, named without secrets
        raise DynamoDBWrapperError(str(error), operation="connect") from error
    return Transport(
        endpoint_url=endpoint_url,
        region=client.meta.region_name,
        credentials=credentials,
        pool=pool,
    )
