"""Data-source options: parsed once, credentials hidden, the model found by its import path."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pydantic import SecretStr

import dynamodb_wrapper_async as core
from dynamodb_wrapper_async import DynamoDBConfig, DynamoModel, ValidationError

#: Options that become DynamoDBConfig fields (aliases on the left where they differ).
_CONFIG_OPTIONS = {
    "endpoint": "endpoint_url",
    "endpoint_url": "endpoint_url",
    "region": "region_name",
    "region_name": "region_name",
    "table_prefix": "table_prefix",
    "profile_name": "profile_name",
    "aws_access_key_id": "aws_access_key_id",
    "aws_secret_access_key": "aws_secret_access_key",
    "aws_session_token": "aws_session_token",
    "max_concurrency": "max_concurrency",
    "max_retries": "max_retries",
    "retry_deadline": "retry_deadline",
    "connect_timeout": "connect_timeout",
    "read_timeout": "read_timeout",
    "read_capacity_percent": "read_capacity_percent",
    "write_capacity_percent": "write_capacity_percent",
    "max_read_units_per_second": "max_read_units_per_second",
    "max_write_units_per_second": "max_write_units_per_second",
}
_SECRETS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})
_OWN_OPTIONS = frozenset(
    {"model", "segments", "columns", "projection", "keep_managed_fields", "arrow", "timezone"}
)
_MANAGED = ("created_at", "updated_at", "version")


@dataclass(frozen=True)
class SourceOptions:
    """What a read or write was asked for. Secrets are ``SecretStr``; ``repr`` shows none."""

    model_path: str
    config_fields: Mapping[str, Any] = field(default_factory=dict, repr=False)
    segments: int | None = None
    columns: tuple[str, ...] | None = None
    keep_managed_fields: bool = False
    arrow: bool = True
    timezone: str = "UTC"

    @classmethod
    def parse(cls, options: Mapping[str, str], *, session_zone: str = "UTC") -> SourceOptions:
        """Check the options Spark passed (case-insensitive names) before any work starts.

        Raises:
            ValidationError: Unknown option or bad value; the message names the option and
                never echoes a credential.
        """
        given = {str(name).lower(): value for name, value in options.items()}
        unknown = sorted(set(given) - set(_CONFIG_OPTIONS) - _OWN_OPTIONS)
        if unknown:
            known = sorted(set(_CONFIG_OPTIONS) | _OWN_OPTIONS)
            msg = f"unknown dynamodb options {unknown}; known: {known}"
            raise ValidationError(msg)
        model_path = given.get("model")
        if not model_path:
            msg = 'option "model" is required: the import path of a DynamoModel, "pkg.mod:Model"'
            raise ValidationError(msg)
        config_fields: dict[str, Any] = {}
        for name, value in given.items():
            target = _CONFIG_OPTIONS.get(name)
            if target is not None:
                config_fields[target] = SecretStr(value) if target in _SECRETS else value
        parsed = cls(
            model_path=model_path,
            config_fields=config_fields,
            segments=_positive(given, "segments"),
            columns=_names(given.get("columns") or given.get("projection")),
            keep_managed_fields=_flag(given, "keep_managed_fields", default=False),
            arrow=_flag(given, "arrow", default=True),
            timezone=given.get("timezone") or session_zone,
        )
        parsed.model()  # fail here, on the driver, for a bad model path
        parsed.zone()
        return parsed

    def model(self) -> type[DynamoModel]:
        """Import the model named by the ``model`` option."""
        return import_model(self.model_path)

    def zone(self) -> dt.tzinfo:
        """The zone naive timestamps (``TimestampNTZType``) are taken in."""
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            msg = f'option "timezone": unknown IANA time zone {self.timezone!r}'
            raise ValidationError(msg) from None

    def config(self) -> DynamoDBConfig:
        """Build the config on the executor: its environment, then the options given."""
        fields: dict[str, Any] = {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in self.config_fields.items()
        }
        return DynamoDBConfig.from_env(None, **fields)


def _positive(options: Mapping[str, str], name: str) -> int | None:
    text = options.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1_000_000:
        msg = f'option "{name}" must be a positive integer, got {text!r}'
        raise ValidationError(msg)
    return value


def _flag(options: Mapping[str, str], name: str, *, default: bool) -> bool:
    text = options.get(name)
    if text is None:
        return default
    if text.strip().lower() in {"true", "1", "yes"}:
        return True
    if text.strip().lower() in {"false", "0", "no"}:
        return False
    msg = f'option "{name}" must be true or false, got {text!r}'
    raise ValidationError(msg)


def _names(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        msg = 'option "columns" names no field'
        raise ValidationError(msg)
    return names


@functools.lru_cache(maxsize=64)
def import_model(path: str) -> type[DynamoModel]:
    """Import ``pkg.module:Model`` (or ``pkg.module.Model``), a DynamoModel with a table."""
    module_name, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as error:
        msg = f'option "model": cannot import {path!r} ({type(error).__name__}: {error})'
        raise ValidationError(msg) from None
    if not (isinstance(found, type) and issubclass(found, DynamoModel)):
        msg = f'option "model": {path!r} is not a DynamoModel class'
        raise ValidationError(msg)
    found.table_schema()  # a model without Meta has no table: TypeError naming it
    return found


# ---------------------------------------------------------------- the APIs of a model

_DOMAIN: dict[type[DynamoModel], tuple[type[Any], type[Any]]] = {
    core.PipelineConfig: (core.PipelineConfigReadApi, core.PipelineConfigWriteApi),
    core.TableConfig: (core.TableConfigReadApi, core.TableConfigWriteApi),
    core.PipelineRunLog: (core.PipelineRunLogsReadApi, core.PipelineRunLogsWriteApi),
}


@functools.lru_cache(maxsize=64)
def api_classes(model: type[DynamoModel]) -> tuple[type[core.ReadApi[Any, Any]], type[Any]]:
    """Return (ReadApi, WriteApi) classes of ``model``: the domain's own, or generic ones.

    A model of your own gets a view (every field optional) and a write DTO (its fields but
    ``created_at``, ``updated_at`` and ``version``, constraints kept) derived from it; the
    full model is validated again on write whenever it checks more than the DTO.
    """
    if model in _DOMAIN:
        return _DOMAIN[model]
    fields = model.model_fields
    view: Any = pydantic.create_model(  # type: ignore[call-overload]
        f"{model.__name__}View",
        __base__=core.ViewModel,
        **{name: (typing.Optional[info.annotation], None) for name, info in fields.items()},  # noqa: UP045
    )
    upsert: Any = pydantic.create_model(  # type: ignore[call-overload]
        f"{model.__name__}Upsert",
        __base__=core.WriteModel,
        **{name: (info.annotation, info) for name, info in fields.items() if name not in _MANAGED},
    )
    read = type(f"{model.__name__}ReadApi", (core.ReadApi,), {"model": model, "view": view})
    write = type(
        f"{model.__name__}WriteApi", (core.WriteApi,), {"model": model, "upsert_model": upsert}
    )
    return read, write
