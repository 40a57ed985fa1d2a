"""AWS Signature Version 4 for the transport's JSON POSTs, cheaper than botocore's signer.

botocore's ``SigV4Auth`` builds an ``AWSRequest``, parses its URL and derives the signing key
afresh for every request: measured here, ~50 µs per request against ~5 µs for this signer
(hashing the body adds ~0.6 µs per KB to both). Every request we sign has the same shape
(POST to the endpoint's path, no query string, the same four or five headers), so the
canonical request is a format string and the signing key is derived once a day. Unit tests
check the result against ``SigV4Auth`` header for header.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

_ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


class Signer:
    """Signs DynamoDB JSON requests for one endpoint and region.

    Keeps the last derived signing key (a secret) in a slot that nothing prints.
    """

    __slots__ = ("_content_type", "_host", "_key", "_path", "_region", "_service")

    def __init__(self, *, region: str, host: str, path: str, content_type: str) -> None:
        self._region = region
        self._host = host
        self._path = path
        self._content_type = content_type
        self._service = "dynamodb"
        self._key: tuple[str, str, bytes] | None = None  # (secret key, day, signing key)

    def __repr__(self) -> str:
        return f"<Signer dynamodb {self._region} {self._host}>"

    def headers(
        self, credentials: Any, target: str, body: bytes, *, timestamp: float | None = None
    ) -> dict[str, str]:
        """Return the request's headers, signed: Host, X-Amz-Date, X-Amz-Target,
        Content-Type, X-Amz-Security-Token (with temporary credentials) and Authorization.

        ``credentials`` are botocore's frozen credentials (``access_key``, ``secret_key``,
        ``token``).
        """
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(timestamp))
        day = amz_date[:8]
        token: str | None = credentials.token
        if token:
            signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
            token_line = f"x-amz-security-token:{' '.join(token.split())}\n"
        else:
            signed = "content-type;host;x-amz-date;x-amz-target"
            token_line = ""
        canonical = (
            f"POST\n{self._path}\n\n"
            f"content-type:{self._content_type}\nhost:{self._host}\nx-amz-date:{amz_date}\n"
            f"{token_line}x-amz-target:{target}\n\n"
            f"{signed}\n{hashlib.sha256(body).hexdigest()}"
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = (
            f"{_ALGORITHM}\n{amz_date}\n{scope}\n"
            f"{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
        )
        signature = hmac.new(
            self._signing_key(credentials.secret_key, day), to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        headers = {
            "host": self._host,
            "X-Amz-Target": target,
            "Content-Type": self._content_type,
            "X-Amz-Date": amz_date,
        }
        if token:
            headers["X-Amz-Security-Token"] = token
        headers["Authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        return headers

    def _signing_key(self, secret_key: str, day: str) -> bytes:
        cached = self._key
        if cached is not None and cached[0] == secret_key and cached[1] == day:
            return cached[2]
        key = _hmac(f"AWS4{secret_key}".encode(), day)
        for part in (self._region, self._service, "aws4_request"):
            key = _hmac(key, part)
        self._key = (secret_key, day, key)
        return key
