"""The full model a write stores is built without a second validation only where that is safe."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, field_validator

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    DynamoModel,
    PipelineConfig,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLog,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    TableConfig,
    TableConfigUpsert,
    WriteModel,
)
from dynamodb_wrapper_async.write._requests import _dto_validates_model

CONFIG = DynamoDBConfig(aws_access_key_id="testing", aws_secret_access_key="testing")
NOW = dt.datetime(2024, 3, 1, 12, 30, 45, 123456, tzinfo=dt.timezone.utc)


class Loose(DynamoModel):
    name: str = Field(min_length=3)
    created_at: dt.datetime

    class Meta:
        table_name = "loose"
        partition_key = "name"


class LooseUpsert(WriteModel):
    name: str  # lacks the model's min_length


class Checked(DynamoModel):
    name: str

    @field_validator("name")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    class Meta:
        table_name = "checked"
        partition_key = "name"


class CheckedUpsert(WriteModel):
    name: str


class Wider(WriteModel):
    name: str
    colour: str = "red"  # not a model field


@pytest.mark.parametrize(
    ("model", "dto", "safe"),
    [
        (PipelineConfig, PipelineConfigUpsert, True),  # DTO is stricter (min_length)
        (PipelineRunLog, PipelineRunLogUpsert, True),  # same ttl validator on both
        (TableConfig, TableConfigUpsert, False),  # model validator derives updated_month
        (Loose, LooseUpsert, False),  # the model's constraint is not checked by the DTO
        (Checked, CheckedUpsert, False),  # the model's validator would change the value
        (Checked, Wider, False),  # the DTO has a field the model has not
    ],
)
def test_second_validation_is_skipped_only_when_it_cannot_matter(
    model: type[DynamoModel], dto: type[WriteModel], safe: bool
) -> None:
    assert _dto_validates_model(model, dto) is safe


text = st.text(min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    name=text,
    description=st.none() | st.text(max_size=8),
    config=st.dictionaries(text, st.integers() | text | st.booleans(), max_size=3),
    tags=st.dictionaries(text, text, max_size=3),
    active=st.booleans(),
)
def test_fast_path_builds_exactly_what_validation_builds(
    name: str, description: str | None, config: dict[str, Any], tags: dict[str, str], active: bool
) -> None:
    dto = PipelineConfigUpsert(
        pipeline_id="p", pipeline_name=name, description=description, source_type="s3",
        destination_type="dl", source_config=config, tags=tags, is_active=active,
    )  # fmt: skip
    built = PipelineConfigWriteApi(CONFIG)._full_model(dto, NOW)
    validated = PipelineConfig.model_validate(
        dto.__dict__ | {"created_at": NOW, "updated_at": NOW, "version": 1}
    )
    assert built == validated
    assert built.model_dump() == validated.model_dump()


def test_run_log_fast_path_keeps_the_ttl_conversion() -> None:
    expires = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
    dto = PipelineRunLogUpsert(run_id="r", pipeline_id="p", ttl=expires)  # type: ignore[arg-type]
    built = PipelineRunLogsWriteApi(CONFIG)._full_model(dto, NOW)
    assert built.ttl == 4102444800
    assert built == PipelineRunLog.model_validate(
        dto.__dict__ | {"created_at": NOW, "updated_at": NOW, "version": 1}
    )
