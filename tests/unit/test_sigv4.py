"""Our SigV4 signer gives exactly the headers botocore's SigV4Auth gives, for any request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamodb_wrapper_async._wire.sigv4 import Signer

CONTENT_TYPE = "application/x-amz-json-1.0"


def botocore_headers(
    url: str,
    region: str,
    credentials: Credentials,
    target: str,
    body: bytes,
    when: dt.datetime,
) -> tuple[dict[str, str], str, str]:
    blank = AWSRequest(method="POST", url=url)
    signer = SigV4Auth(credentials.get_frozen_credentials(), "dynamodb", region)
    host = signer.headers_to_sign(blank)["host"]
    path = signer.canonical_request(blank).split("\n")[1]
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"host": host, "X-Amz-Target": target, "Content-Type": CONTENT_TYPE},
    )
    with pytest.MonkeyPatch.context() as patch:  # botocore's clock, to sign at ``when``
        patch.setattr("botocore.auth.get_current_datetime", lambda: when)
        signer.add_auth(request)
    return dict(request.headers.items()), host, path


@settings(max_examples=120, deadline=None)
@given(
    url=st.sampled_from(
        [
            "http://127.0.0.1:8000",
            "https://dynamodb.eu-west-1.amazonaws.com",
            "http://localhost:4566/some/path",
        ]
    ),
    region=st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]),
    access_key=st.from_regex(r"AKIA[A-Z0-9]{16}", fullmatch=True),
    secret_key=st.text(alphabet="abcdefABCDEF0123456789+/", min_size=40, max_size=40),
    token=st.none() | st.text(alphabet="abcXYZ0189+/=", min_size=1, max_size=60),
    target=st.sampled_from(["DynamoDB_20120810.BatchWriteItem", "DynamoDB_20120810.GetItem"]),
    body=st.binary(max_size=300),
    when=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)),
)
def test_headers_equal_botocores(
    url: str,
    region: str,
    access_key: str,
    secret_key: str,
    token: str | None,
    target: str,
    body: bytes,
    when: dt.datetime,
) -> None:
    when = when.replace(microsecond=0)
    credentials = Credentials(access_key, secret_key, token)
    theirs, host, path = botocore_headers(url, region, credentials, target, body, when)
    signer = Signer(region=region, host=host, path=path, content_type=CONTENT_TYPE)
    timestamp = when.replace(tzinfo=dt.timezone.utc).timestamp()
    frozen = credentials.get_frozen_credentials()
    assert signer.headers(frozen, target, body, timestamp=timestamp) == theirs
    # again, from the cached signing key
    assert signer.headers(frozen, target, body, timestamp=timestamp) == theirs


def test_the_signing_key_follows_the_day_and_the_secret() -> None:
    url, region, target, body = (
        "http://127.0.0.1:8000",
        "us-east-1",
        "DynamoDB_20120810.Scan",
        b"{}",
    )
    signer: Signer | None = None
    for when, secret in [
        (dt.datetime(2026, 12, 1, 23, 59, 59), "first"),
        (dt.datetime(2026, 12, 2, 0, 0, 0), "first"),  # a new day: a new key
        (dt.datetime(2026, 12, 2, 0, 0, 1), "rotated"),  # refreshed credentials: a new key
    ]:
        credentials = Credentials("AKIDEXAMPLE", secret, None)
        theirs, host, path = botocore_headers(url, region, credentials, target, body, when)
        signer = signer or Signer(region=region, host=host, path=path, content_type=CONTENT_TYPE)
        timestamp = when.replace(tzinfo=dt.timezone.utc).timestamp()
        ours = signer.headers(
            credentials.get_frozen_credentials(), target, body, timestamp=timestamp
        )
        assert ours == theirs


def test_the_secret_never_shows() -> None:
    signer = Signer(region="r", host="h", path="/", content_type=CONTENT_TYPE)
    frozen: Any = Credentials("AKIDEXAMPLE", "the-secret", None).get_frozen_credentials()
    signer.headers(frozen, "t", b"")
    assert "the-secret" not in repr(signer)
