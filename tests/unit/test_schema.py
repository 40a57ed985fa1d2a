import datetime as dt
from typing import Any

import pytest

from dynamodb_wrapper_async.exceptions import ValidationError
from dynamodb_wrapper_async.models import (
    GSI,
    LSI,
    Capacity,
    DynamoModel,
    PipelineConfig,
    PipelineConfigUpsert,
    PipelineConfigView,
    PipelineRunLog,
    PipelineRunLogUpsert,
    PipelineRunLogView,
    TableConfig,
    TableConfigUpsert,
    TableConfigView,
)

UTC = dt.timezone.utc


def test_domain_schemas_match_the_design() -> None:
    pipeline = PipelineConfig.table_schema()
    assert pipeline.table_name == "pipeline_config"
    assert pipeline.key_names == ("pipeline_id",)
    assert [(i.name, i.key_names) for i in pipeline.indexes] == [
        ("ActivePipelinesIndex", ("is_active", "updated_at"))
    ]
    assert pipeline.bool_string_fields == {"is_active"}

    tables = TableConfig.table_schema()
    assert [(i.name, i.key_names) for i in tables.indexes] == [
        ("PipelineTablesIndex", ("pipeline_id", "table_name")),
        ("RecentConfigsIndex", ("updated_month", "updated_at")),
    ]
    assert tables.bool_string_fields == frozenset()

    runs = PipelineRunLog.table_schema()
    assert runs.key_names == ("run_id", "pipeline_id")
    assert runs.ttl_attribute == "ttl"
    assert {a.name: a.type for a in runs.key_attributes()} == {
        "run_id": "S",
        "pipeline_id": "S",
        "created_at": "S",
        "status": "S",
    }


def test_find_index_by_attribute_names() -> None:
    schema = PipelineRunLog.table_schema()
    assert schema.find_index("pipeline_id", "created_at").name == "PipelineRunsIndex"
    assert schema.find_index("status").name == "StatusRunsIndex"
    assert schema.find_index("run_id", "pipeline_id").name is None
    with pytest.raises(ValidationError) as caught:
        schema.find_index("error_message", "created_at")
    message = str(caught.value)
    assert "table (run_id, pipeline_id)" in message
    assert "index StatusRunsIndex (status, created_at)" in message


def test_key_of_rejects_missing_and_empty_values() -> None:
    schema = PipelineRunLog.table_schema()
    assert schema.key_of({"run_id": "r", "pipeline_id": "p", "x": 1}) == {
        "run_id": "r",
        "pipeline_id": "p",
    }
    with pytest.raises(ValidationError, match="pipeline_id"):
        schema.key_of({"run_id": "r"})
    with pytest.raises(ValidationError, match="run_id"):
        schema.key_of({"run_id": "", "pipeline_id": "p"})


def test_unknown_key_field_fails_at_class_creation_naming_the_model() -> None:
    with pytest.raises(TypeError, match=r"Broken\.Meta\.partition_key.*'nope'"):

        class Broken(DynamoModel):
            item_id: str

            class Meta:
                table_name = "broken"
                partition_key = "nope"


def test_gsi_on_non_scalar_field_and_duplicate_index_fail() -> None:
    with pytest.raises(TypeError, match="not a scalar key type"):

        class MapKey(DynamoModel):
            item_id: str
            attrs: dict[str, Any]

            class Meta:
                table_name = "t"
                partition_key = "item_id"
                gsis = (GSI("ByAttrs", partition_key="attrs"),)

    with pytest.raises(TypeError, match="twice"):

        class Twice(DynamoModel):
            item_id: str
            owner: str

            class Meta:
                table_name = "t"
                partition_key = "item_id"
                gsis = (GSI("I", partition_key="owner"), GSI("I", partition_key="owner"))


def test_user_model_gets_a_schema() -> None:
    class Dataset(DynamoModel):
        dataset_id: str
        owner: str
        size: int
        shared: bool

        class Meta:
            table_name = "datasets"
            partition_key = "dataset_id"
            gsis = (GSI("OwnerIndex", partition_key="owner", sort_key="size"),
                    GSI("SharedIndex", partition_key="shared"))  # fmt: skip

    schema = Dataset.table_schema()
    assert {a.name: a.type for a in schema.key_attributes()} == {
        "dataset_id": "S",
        "owner": "S",
        "size": "N",
        "shared": "S",
    }
    assert schema.bool_string_fields == {"shared"}


@pytest.mark.parametrize(
    ("full", "view", "upsert"),
    [
        (PipelineConfig, PipelineConfigView, PipelineConfigUpsert),
        (TableConfig, TableConfigView, TableConfigUpsert),
        (PipelineRunLog, PipelineRunLogView, PipelineRunLogUpsert),
    ],
)
def test_view_and_upsert_fields_cannot_drift(
    full: type[DynamoModel], view: type[Any], upsert: type[Any]
) -> None:
    managed = {"created_at", "updated_at", "version", "updated_month"}
    assert set(view.model_fields) == set(full.model_fields)
    assert set(upsert.model_fields) == set(full.model_fields) - managed
    assert all(not info.is_required() for info in view.model_fields.values())


def test_upsert_refuses_server_managed_fields_and_naive_datetimes() -> None:
    with pytest.raises(ValidationError, match="created_at"):
        PipelineConfigUpsert(
            pipeline_id="p",
            pipeline_name="n",
            source_type="s3",
            destination_type="warehouse",
            created_at=dt.datetime.now(UTC),  # type: ignore[call-arg]
        )
    with pytest.raises(ValidationError, match="naive datetime"):
        PipelineRunLogUpsert(run_id="r", pipeline_id="p", start_time=dt.datetime(2024, 1, 1))


def test_views_accept_projections_and_stored_strings() -> None:
    view = PipelineConfigView.model_validate(
        {"is_active": "false", "updated_at": "2024-01-31T09:05:00.000000Z", "unknown": 1}
    )
    assert view.is_active is False
    assert view.updated_at == dt.datetime(2024, 1, 31, 9, 5, tzinfo=UTC)
    assert view.pipeline_name is None


def test_aware_datetimes_are_converted_to_utc_and_month_is_derived() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    config = TableConfig(
        table_id="t",
        pipeline_id="p",
        table_name="orders",
        table_type="source",
        created_at=dt.datetime(2024, 3, 1, 1, 0, tzinfo=plus_two),
        updated_at=dt.datetime(2024, 3, 1, 1, 0, tzinfo=plus_two),
    )
    assert config.updated_at.tzinfo == UTC
    assert config.updated_at.hour == 23
    assert config.updated_month == "2024-02"


def test_run_log_ttl_accepts_aware_datetime() -> None:
    expiry = dt.datetime(2030, 1, 1, tzinfo=UTC)
    run = PipelineRunLogUpsert(run_id="r", pipeline_id="p", ttl=expiry)  # type: ignore[arg-type]
    assert run.ttl == int(expiry.timestamp())


def _declare(meta: dict[str, Any]) -> type[DynamoModel]:
    namespace: dict[str, Any] = {"table_name": "t", "partition_key": "a", **meta}
    nested = {"__module__": __name__, "__qualname__": "Declared.Meta"}
    body = {"__module__": __name__, "__qualname__": "Declared"}
    fields = {"__annotations__": {"a": str, "b": str}}
    meta_class = type("Meta", (), {**namespace, **nested})
    return type("Declared", (DynamoModel,), {**body, **fields, "Meta": meta_class})


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"lsis": (LSI("L", sort_key="b"),)}, "a local index needs a table with a sort key"),
        ({"gsis": (GSI("G", partition_key="b", projection=("nope",)),)}, "unknown fields"),
        ({"gsis": (GSI("G", partition_key="b", projection="SOME"),)}, "projection must be"),  # type: ignore[arg-type]
        ({"capacity": (5, 5)}, "capacity must be Capacity"),
        ({"gsis": (GSI("G", partition_key="b"),), "lsis": (LSI("G", sort_key="b"),),
          "sort_key": "b"}, "declares index 'G' twice"),
    ],
)  # fmt: skip
def test_bad_table_definitions_fail_when_the_model_is_declared(
    meta: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        _declare(meta)


def test_index_projections_say_what_an_index_holds() -> None:
    schema = _declare(
        {"sort_key": "b", "gsis": (GSI("K", partition_key="b", projection="KEYS_ONLY"),),
         "lsis": (LSI("L", sort_key="b", projection=("b",)),), "capacity": Capacity(3, 4)}
    ).table_schema()  # fmt: skip
    keys_only, local = schema.index("K"), schema.index("L")
    assert (keys_only.kind, keys_only.holds, keys_only.capacity) == (
        "gsi", frozenset({"a", "b"}), Capacity(3, 4),
    )  # fmt: skip
    assert (local.kind, local.partition_key.name, local.capacity) == ("lsi", "a", None)
    assert schema.index(None).holds is None
    keys_only.check_projection(["a"])
    with pytest.raises(ValidationError, match="cannot return"):
        keys_only.check_projection(["a", "c"])
    with pytest.raises(TypeError, match="positive integer"):
        Capacity(read=0, write=1)
