import datetime as dt
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from pydantic import Field

from dynamodb_wrapper_async._expressions import ExpressionBuilder
from dynamodb_wrapper_async.exceptions import ValidationError
from dynamodb_wrapper_async.models import (
    DynamoModel,
    PipelineConfig,
    PipelineRunLog,
    TableConfig,
)

UTC = dt.timezone.utc


class Reserved(DynamoModel):
    name: str
    data: dict[str, Any] = Field(default_factory=dict)
    ttl: int | None = None
    status: str = "new"

    class Meta:
        table_name = "reserved"
        partition_key = "name"


def builder(model: type[DynamoModel] = PipelineRunLog) -> ExpressionBuilder:
    return ExpressionBuilder(model.table_schema())


def test_condition_tree_renders_with_placeholders_only() -> None:
    b = builder()
    text = b.condition(Attr("status").eq("failed") & Attr("records_processed").gt(10))
    assert text == "(#n0 = :v0 AND #n1 > :v1)"
    assert b.params() == {
        "ExpressionAttributeNames": {"#n0": "status", "#n1": "records_processed"},
        "ExpressionAttributeValues": {":v0": {"S": "failed"}, ":v1": {"N": "10"}},
    }


def test_every_condition_kind() -> None:
    b = builder()
    cases = {
        "#n0 <> :v0": Attr("status").ne("x"),
        "#n1 BETWEEN :v1 AND :v2": Attr("records_failed").between(1, 5),
        "begins_with(#n2, :v3)": Attr("error_message").begins_with("disk"),
        "#n0 IN (:v4, :v5)": Attr("status").is_in(["failed", "cancelled"]),
        "attribute_exists(#n3)": Attr("end_time").exists(),
        "attribute_not_exists(#n3)": Attr("end_time").not_exists(),
        "contains(#n2, :v6)": Attr("error_message").contains("full"),
        "size(#n4) > :v7": Attr("metrics").size().gt(2),
        "attribute_type(#n4, :v8)": Attr("metrics").attribute_type("M"),
        "(NOT #n0 = :v9)": ~Attr("status").eq("running"),
        "(#n0 = :v10 OR #n0 = :v11)": Attr("status").eq("a") | Attr("status").eq("b"),
        "#n4.#n5[2] = :v12": Attr("metrics.rows[2]").eq(7),
    }
    for expected, condition in cases.items():
        assert b.condition(condition) == expected


def test_bool_gsi_field_compares_as_string_but_plain_bool_stays_bool() -> None:
    pipelines = builder(PipelineConfig)
    pipelines.filters({"is_active": True})
    pipelines.condition(Attr("is_active").eq(False))
    values = pipelines.params()["ExpressionAttributeValues"]
    assert values == {":v0": {"S": "true"}, ":v1": {"S": "false"}}

    tables = builder(TableConfig)
    tables.filters({"is_active": True})
    assert tables.params()["ExpressionAttributeValues"] == {":v0": {"BOOL": True}}


def test_datetimes_are_fixed_width_utc_strings() -> None:
    b = builder()
    plus_two = dt.timezone(dt.timedelta(hours=2))
    b.condition(Attr("created_at").gte(dt.datetime(2024, 1, 31, 11, 5, tzinfo=plus_two)))
    assert b.params()["ExpressionAttributeValues"] == {":v0": {"S": "2024-01-31T09:05:00.000000Z"}}
    with pytest.raises(ValidationError, match="naive"):
        b.condition(Attr("created_at").gte(dt.datetime(2024, 1, 1)))


def test_filters_dict_is_and_of_equalities_and_none_means_absent() -> None:
    b = builder()
    assert b.filters({"status": "failed", "error_message": None}) == (
        "#n0 = :v0 AND attribute_not_exists(#n1)"
    )
    assert builder().filters(None) is None
    assert builder().filters({}) is None
    with pytest.raises(ValidationError, match="dict or a boto3"):
        builder().filters("status = failed")


def test_unknown_and_odd_names_are_rejected() -> None:
    for name in ("nope", "status; DROP", "a b", "#x", ":v", "ünï", "metrics..x", ""):
        with pytest.raises(ValidationError):
            builder().condition(Attr(name).eq(1))
    with pytest.raises(ValidationError, match="no field 'nope'"):
        builder().filters({"nope": 1})


def test_map_keys_below_a_field_may_be_any_text() -> None:
    b = builder()
    rendered = b.condition(Attr("metrics.a b#:ünï😀.status[1]").eq(1))
    assert rendered == "#n0.#n1.#n2[1] = :v0"
    names = b.params()["ExpressionAttributeNames"]
    assert names == {"#n0": "metrics", "#n1": "a b#:ünï😀", "#n2": "status"}


def test_raw_string_conditions_are_refused() -> None:
    with pytest.raises(ValidationError, match="boto3 Attr"):
        builder().condition("attribute_exists(run_id)")


def test_reserved_words_go_through_placeholders() -> None:
    b = builder(Reserved)
    assert b.projection(["name", "data", "ttl", "status"]) == "#n0, #n1, #n2, #n3"
    assert b.params()["ExpressionAttributeNames"] == {
        "#n0": "name",
        "#n1": "data",
        "#n2": "ttl",
        "#n3": "status",
    }


def test_projection_validates_and_adds_keys_once() -> None:
    b = builder()
    assert b.projection(["status", "run_id"], always=["run_id", "pipeline_id"]) == ("#n0, #n1, #n2")
    with pytest.raises(ValidationError, match=r"unknown projection fields.*'bogus'"):
        builder().projection(["status", "bogus"])
    with pytest.raises(ValidationError, match="at least one"):
        builder().projection([])
    with pytest.raises(ValidationError, match="not a string"):
        builder().projection("status")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("eq", "#n0 = :v0 AND #n1 = :v1"),
        ("lt", "#n0 = :v0 AND #n1 < :v1"),
        ("lte", "#n0 = :v0 AND #n1 <= :v1"),
        ("gt", "#n0 = :v0 AND #n1 > :v1"),
        ("gte", "#n0 = :v0 AND #n1 >= :v1"),
        ("begins_with", "#n0 = :v0 AND begins_with(#n1, :v1)"),
    ],
)
def test_key_conditions(condition: str, expected: str) -> None:
    schema = PipelineRunLog.table_schema()
    index = schema.index("PipelineRunsIndex")
    b = ExpressionBuilder(schema)
    assert b.key_condition(index, "p", condition, "2024") == expected


def test_between_and_key_condition_errors() -> None:
    schema = PipelineRunLog.table_schema()
    index = schema.index("PipelineRunsIndex")
    b = ExpressionBuilder(schema)
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    end = dt.datetime(2024, 2, 1, tzinfo=UTC)
    assert b.key_condition(index, "p", "between", start, end) == (
        "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2"
    )
    assert b.params()["ExpressionAttributeValues"][":v2"] == {"S": "2024-02-01T00:00:00.000000Z"}
    with pytest.raises(ValidationError, match="sort_value2"):
        ExpressionBuilder(schema).key_condition(index, "p", "between", start)
    with pytest.raises(ValidationError, match="unknown sort_condition 'near'"):
        ExpressionBuilder(schema).key_condition(index, "p", "near", start)
    with pytest.raises(ValidationError, match="needs sort_value"):
        ExpressionBuilder(schema).key_condition(index, "p", "gt")
    with pytest.raises(ValidationError, match="non-empty"):
        ExpressionBuilder(schema).key_condition(index, "")
    no_sort = PipelineRunLog.table_schema().index("StatusRunsIndex")
    assert ExpressionBuilder(schema).key_condition(no_sort, "failed") == "#n0 = :v0"


def test_key_condition_on_bool_gsi_uses_string() -> None:
    schema = PipelineConfig.table_schema()
    b = ExpressionBuilder(schema)
    b.key_condition(schema.index("ActivePipelinesIndex"), True)
    assert b.params()["ExpressionAttributeValues"] == {":v0": {"S": "true"}}


def test_update_expression_sections() -> None:
    b = builder()
    now = dt.datetime(2024, 1, 1, tzinfo=UTC)
    text = b.update(
        {"status": "running"},
        remove=["error_message"],
        if_not_exists={"created_at": now},
        increment={"version": 1},
    )
    assert text == (
        "SET #n0 = :v0, #n1 = if_not_exists(#n1, :v1), #n2 = if_not_exists(#n2, :v2) + :v3 "
        "REMOVE #n3"
    )
    assert b.params()["ExpressionAttributeValues"][":v3"] == {"N": "1"}
    with pytest.raises(ValidationError, match="nothing to update"):
        builder().update({})


def test_key_condition_with_key_objects_is_not_needed_but_conditions_accept_key() -> None:
    b = builder()
    assert b.condition(Key("run_id").eq("r")) == "#n0 = :v0"
