"""Connection and behaviour settings: :class:`DynamoDBConfig`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, SecretStr, field_validator, model_validator
from typing_extensions import Self

from ._validated import ValidatedModel

__all__ = ["DynamoDBConfig"]

_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.-]*")

#: Environment variable -> field, in the order from_env reads them.
_ENV_FIELDS: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
    "AWS_SESSION_TOKEN": "aws_session_token",
    "AWS_REGION": "region_name",
    "AWS_PROFILE": "profile_name",
    "DYNAMODB_ENDPOINT_URL": "endpoint_url",
    "DYNAMODB_TABLE_PREFIX": "table_prefix",
    "DYNAMODB_USER_TIMEZONE": "user_timezone",
    "DYNAMODB_MAX_CONCURRENCY": "max_concurrency",
    "DYNAMODB_MAX_POOL_CONNECTIONS": "max_pool_connections",
    "DYNAMODB_CONNECT_TIMEOUT": "connect_timeout",
    "DYNAMODB_READ_TIMEOUT": "read_timeout",
    "DYNAMODB_MAX_RESPONSE_BYTES": "max_response_bytes",
    "DYNAMODB_MAX_RETRIES": "max_retries",
    "DYNAMODB_RETRY_DEADLINE": "retry_deadline",
    "DYNAMODB_READ_CAPACITY_PERCENT": "read_capacity_percent",
    "DYNAMODB_WRITE_CAPACITY_PERCENT": "write_capacity_percent",
    "DYNAMODB_MAX_READ_UNITS_PER_SECOND": "max_read_units_per_second",
    "DYNAMODB_MAX_WRITE_UNITS_PER_SECOND": "max_write_units_per_second",
}


def _hide(value: SecretStr | str | None) -> SecretStr | None:
    return SecretStr(value) if isinstance(value, str) else value


_SECRET_FIELDS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})

#: A credential: given as ``str`` (or ``SecretStr``), always held as ``SecretStr``.
_Secret = Annotated[SecretStr | str | None, AfterValidator(_hide)]


class DynamoDBConfig(ValidatedModel):
    """Immutable settings shared by every API object built from them.

    Equal configs share one pooled client per event loop. Secrets are ``SecretStr`` and never
    appear in ``repr``, ``str``, logs or exception messages. With no keys given, the standard
    AWS credential chain applies (environment, profile, instance role).

    Attributes:
        region_name: AWS region.
        aws_access_key_id: Access key id; give it together with the secret key.
        aws_secret_access_key: Secret access key.
        aws_session_token: Session token for temporary credentials.
        profile_name: Named profile from the shared AWS config files.
        endpoint_url: Endpoint override, e.g. ``http://127.0.0.1:8000`` for a local server.
        table_prefix: Prepended to every table name (``dev_`` -> ``dev_pipeline_config``).
        user_timezone: IANA zone used by ``to_user_timezone`` when none is given.
        max_concurrency: Requests in flight per process and event loop.
        max_pool_connections: HTTP connections per client (default: ``max_concurrency``).
        connect_timeout: Seconds to establish a connection.
        read_timeout: Seconds to wait for a response before the attempt counts as failed.
        max_response_bytes: A larger HTTP response is refused (its connection closed) instead
            of buffered; the default is well above DynamoDB's largest answer.
        max_retries: Consecutive retries without progress (throttled, 5xx or broken requests,
            batch answers that processed nothing) before a call gives up; an answer that
            got part of a batch chunk through starts the count again.
        retry_deadline: Seconds one call (one batch chunk) may spend, retries included;
            a batch call ends once none of its chunks got anything through for as long.
        read_capacity_percent: Share of each table's read capacity every data operation of
            this process may take together (see ``CapacityBudget``); None: no limit.
        write_capacity_percent: Share of each table's own write capacity, likewise.
        max_read_units_per_second: Absolute read budget per table (wins over the percent).
        max_write_units_per_second: Absolute write budget per table (wins over the percent).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
    _hide_cause: ClassVar[bool] = True

    region_name: str = "us-east-1"
    aws_access_key_id: _Secret = None
    aws_secret_access_key: _Secret = None
    aws_session_token: _Secret = None
    profile_name: str | None = None
    endpoint_url: str | None = None
    table_prefix: str = ""
    user_timezone: str = "UTC"
    max_concurrency: int = Field(default=32, ge=1, le=1024)
    max_pool_connections: int | None = Field(default=None, ge=1, le=4096)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    max_response_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    max_retries: int = Field(default=40, ge=0, le=100)
    retry_deadline: float = Field(default=60.0, gt=0)
    read_capacity_percent: float | None = Field(default=None, gt=0, le=100)
    write_capacity_percent: float | None = Field(default=None, gt=0, le=100)
    max_read_units_per_second: float | None = Field(default=None, gt=0)
    max_write_units_per_second: float | None = Field(default=None, gt=0)

    @field_validator("region_name")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+|local", value):
            msg = f"not an AWS region name: {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            shown = "(not shown: it may hold credentials)" if "@" in value else repr(value)
            msg = f"must be an http:// or https:// URL, got {shown}"
            raise ValueError(msg)
        return value

    @field_validator("table_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not _PREFIX_PATTERN.fullmatch(value):
            msg = "may hold only letters, digits, '_', '-' and '.'"
            raise ValueError(msg)
        return value

    @field_validator("user_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown IANA time zone {value!r}"
            raise ValueError(msg) from None
        return value

    @model_validator(mode="after")
    def _check_key_pair(self) -> DynamoDBConfig:
        if (self.aws_access_key_id is None) != (self.aws_secret_access_key is None):
            msg = "aws_access_key_id and aws_secret_access_key must be given together"
            raise ValueError(msg)
        if self.aws_session_token is not None and self.aws_access_key_id is None:
            msg = "aws_session_token needs aws_access_key_id and aws_secret_access_key"
            raise ValueError(msg)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Return a copy with ``update`` applied, validated like a new config."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
        return self.validate_named({**data, **(update or {})}, operation="model_copy")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name in _SECRET_FIELDS and value is not None:
                yield name, SecretStr("hidden")
            elif name == "endpoint_url" and value is not None and "@" in value:
                yield name, "<not shown: it may hold credentials>"  # user info
            else:
                yield name, value

    def credentials(self) -> dict[str, str | None]:
        """Return the keys as plain strings, for building clients. Never log the result."""

        def reveal(value: SecretStr | str | None) -> str | None:
            return value.get_secret_value() if isinstance(value, SecretStr) else value

        return {
            "aws_access_key_id": reveal(self.aws_access_key_id),
            "aws_secret_access_key": reveal(self.aws_secret_access_key),
            "aws_session_token": reveal(self.aws_session_token),
        }

    @property
    def pool_size(self) -> int:
        """HTTP connections per pooled client."""
        return self.max_pool_connections or self.max_concurrency

    def table_name(self, base_name: str) -> str:
        """Return the physical table name: ``table_prefix`` + ``base_name``."""
        return f"{self.table_prefix}{base_name}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> DynamoDBConfig:
        """Build a config from environment variables, then apply ``overrides``.

        Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (or
        AWS_DEFAULT_REGION), AWS_PROFILE, DYNAMODB_ENDPOINT_URL, DYNAMODB_TABLE_PREFIX,
        DYNAMODB_USER_TIMEZONE and the tuning variables DYNAMODB_MAX_CONCURRENCY,
        DYNAMODB_MAX_POOL_CONNECTIONS, DYNAMODB_CONNECT_TIMEOUT, DYNAMODB_READ_TIMEOUT,
        DYNAMODB_MAX_RETRIES, DYNAMODB_RETRY_DEADLINE, and the capacity budget's
        DYNAMODB_READ_CAPACITY_PERCENT, DYNAMODB_WRITE_CAPACITY_PERCENT,
        DYNAMODB_MAX_READ_UNITS_PER_SECOND and DYNAMODB_MAX_WRITE_UNITS_PER_SECOND.
        Empty variables count as unset.

        Raises:
            ValidationError: A variable holds a bad value; the message names the variable.
        """
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        origin: dict[str, str] = {}
        region_var = "AWS_REGION" if env.get("AWS_REGION") else "AWS_DEFAULT_REGION"
        for variable, field in _ENV_FIELDS.items():
            name = region_var if field == "region_name" else variable
            value = env.get(name, "")
            if value != "":
                data[field] = value
                origin[field] = name
        data.update(overrides)
        origin.update({field: field for field in overrides})
        return cls.validate_named(data, names=origin, operation="from_env")
