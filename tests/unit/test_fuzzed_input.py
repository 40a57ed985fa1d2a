"""Fuzzed bad input: every public call either works or raises our ValidationError.

Whatever a caller passes (DTO fields, update dicts, filters, projections, sort conditions, page
tokens, keys, odd attribute names), the outcome is success or a ValidationError; never a raw
pydantic/botocore error or a crash. Requests that do go out are recorded by a stand-in for the
AWS client, and their expressions must consist of placeholders, operators and DynamoDB's own
function names only: user input never reaches an expression string.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, ConditionBase
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dynamodb_wrapper_async import (
    Append,
    DynamoDBConfig,
    Increment,
    ItemNotFoundError,
    PipelineConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLog,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    TableConfigReadApi,
    TableConfigWriteApi,
    ValidationError,
)
from dynamodb_wrapper_async._codec import encode_item
from dynamodb_wrapper_async._wire.mock import MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender
from dynamodb_wrapper_async.exceptions import DynamoDBWrapperError

CONFIG = DynamoDBConfig(
    endpoint_url="http://127.0.0.1:9",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    max_retries=0,
)
NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
STORED = encode_item(
    PipelineConfig(
        pipeline_id="p", pipeline_name="n", source_type="s3", destination_type="warehouse",
        created_at=NOW, updated_at=NOW,
    ).__dict__,
    bool_string_fields=frozenset({"is_active"}),
)  # fmt: skip
EXPRESSION_KEYS = (
    "KeyConditionExpression",
    "FilterExpression",
    "ProjectionExpression",
    "UpdateExpression",
    "ConditionExpression",
)
#: What an expression may contain: placeholders, DynamoDB's keywords and functions, operators.
SAFE_TOKEN = re.compile(
    r"#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|\[\d+\]|<>|<=|>=|[=<>(),.+\-]|\s+"
    r"|\b(?:AND|OR|NOT|BETWEEN|IN|SET|REMOVE|ADD|DELETE|attribute_exists|attribute_not_exists"
    r"|attribute_type|begins_with|contains|size|if_not_exists|list_append)\b"
)


async def empty_table(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """Answers like an empty table (the ``MockSender`` records every request)."""
    if operation == "UpdateItem":
        return {"Attributes": STORED}
    if operation in ("Query", "Scan"):
        return {"Items": [], "Count": 0, "ScannedCount": 0}
    if operation == "BatchGetItem":
        return {"Responses": {}, "UnprocessedKeys": {}}
    if operation == "BatchWriteItem":
        return {"UnprocessedItems": {}}
    return {}


def outcome(call: Callable[[], Awaitable[Any]]) -> list[dict[str, Any]]:
    """Run ``call`` on a recording client; success or ValidationError, else the test fails."""

    async def run() -> list[dict[str, Any]]:
        sender = MockSender(empty_table)
        install_sender(CONFIG, sender)
        refusal = "no refusal"
        try:
            await call()
        except ValidationError as error:
            refusal = error.message
        finally:
            await close_clients(CONFIG)
        assert refusal  # a refusal says what is wrong
        return [request for _, request in sender.requests]

    requests = asyncio.run(run())
    for request in requests:
        assert_placeholders_only(request)
    return requests


def assert_placeholders_only(request: dict[str, Any]) -> None:
    for key in EXPRESSION_KEYS:
        expression = request.get(key)
        if expression is None:
            continue
        leftover = SAFE_TOKEN.sub("", expression)
        assert leftover == "", f"{key} holds raw text {leftover!r}: {expression!r}"
    assert all(name.startswith("#") for name in request.get("ExpressionAttributeNames", {}))
    assert all(name.startswith(":") for name in request.get("ExpressionAttributeValues", {}))


# ---------------------------------------------------------------- strategies
odd_text = st.text(
    alphabet=st.sampled_from(list("ab #:.[]$%'\"\\-_ 0é中😀\x00\n")) | st.characters(),
    max_size=12,
)
field_names = (
    st.sampled_from(sorted(PipelineConfig.model_fields))
    | odd_text
    | st.sampled_from(["status", "name", "data", "ttl", "size", "AND", "#n0", ":v0", "a.b", "x[0]"])
)


def _cyclic(kind: str) -> Any:
    container: Any = {} if kind == "dict" else []
    if kind == "dict":
        container["self"] = container
    else:
        container.append(container)
    return container


def _deep(depth: int) -> Any:
    value: Any = "x"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


#: Values DynamoDB refuses or that once raised raw Python errors (issue 13.4).
hostile = (
    st.builds(_cyclic, st.sampled_from(["dict", "list"]))
    | st.builds(_deep, st.integers(30, 40))
    | st.just({"": 1})
    | st.just({"ok": {"": "x"}})
    | st.builds(lambda n, c: c * n, st.integers(1000, 2100), st.sampled_from(["x", "\u00e9"]))
    | st.builds(lambda n: b"x" * n, st.integers(1020, 2100))
    | st.just(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))))
    | st.just(dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    | st.datetimes(
        timezones=st.sampled_from([dt.timezone(dt.timedelta(hours=h)) for h in (-12, 14)])
    )
)
scalars = (
    hostile
    | st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | odd_text
    | st.binary(max_size=8)
    | st.datetimes()
    | st.datetimes(timezones=st.just(dt.timezone.utc))
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(odd_text, inner, max_size=3)
        | st.frozensets(st.text(max_size=4) | st.integers(), max_size=3)
    ),
    max_leaves=8,
)
fields = st.dictionaries(field_names, values, max_size=6)
conditions = st.builds(
    lambda name, op, value: getattr(Attr(name), op)(value),
    field_names | st.builds(lambda f, sub: f"{f}.{sub}", st.just("source_config"), odd_text),
    st.sampled_from(["eq", "ne", "lt", "gte", "begins_with", "contains"]),
    values,
)
fuzz = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- tests
@fuzz
@given(fields)
@example({"description": "d #:v0 AND", "source_config": {"a b": 1.5, "#x": [1, "ü"]}})
def test_create_and_upsert_with_any_fields(given_fields: dict[str, Any]) -> None:
    base = {
        "pipeline_id": "p",
        "pipeline_name": "n",
        "source_type": "s3",
        "destination_type": "warehouse",
    }

    async def call() -> None:
        dto = PipelineConfigUpsert(**(base | given_fields))
        api = PipelineConfigWriteApi(CONFIG)
        await api.create_pipeline(dto)
        await api.upsert_pipeline(dto)

    outcome(call)


@fuzz
@given(fields, st.none() | st.integers())
@example({"pipeline_name": "x", "tags": None, "source_config": {":v": {"#": 1}}}, 3)
def test_update_with_any_dict(updates: dict[str, Any], version: int | None) -> None:
    sent = outcome(
        lambda: PipelineConfigWriteApi(CONFIG).update_pipeline(
            "p", updates, expected_version=version
        )
    )
    assert len(sent) <= 1


@fuzz
@given(st.dictionaries(field_names, values, max_size=3) | conditions, st.lists(field_names))
@example({"is_active": True, "pipeline_name": "a) OR (b"}, ["pipeline_name", "tags"])
@example(Attr("source_config.my key:#1").begins_with("x"), [])
def test_scan_with_any_filters_and_projection(
    filters: dict[str, Any] | ConditionBase, projection: list[str]
) -> None:
    outcome(lambda: PipelineConfigReadApi(CONFIG).scan(filters=filters, projection=projection))


@fuzz
@given(field_names, values, st.none() | field_names, st.none() | odd_text, values, values)
@example("pipeline_id", "p) OR (x", "created_at", "between", NOW, NOW)
def test_range_query_with_any_arguments(
    partition_key: str,
    partition_value: Any,
    sort_key: str | None,
    sort_condition: str | None,
    sort_value: Any,
    sort_value2: Any,
) -> None:
    outcome(
        lambda: PipelineRunLogsReadApi(CONFIG).query_by_composite_key_range(
            partition_key, partition_value, sort_key, sort_condition, sort_value, sort_value2
        )
    )


@fuzz
@given(odd_text | st.text(alphabet="ABCDEFabcdef0123456789-_=", min_size=1, max_size=200))
def test_any_page_token_is_refused(token: str) -> None:
    async def call() -> None:
        await PipelineConfigReadApi(CONFIG).query_active_pipelines(last_key=token)

    assert outcome(call) == []  # refused before any request: no token here is one of ours


@fuzz
@given(values, values, st.lists(values, max_size=3))
@example("0", "0", ["p", ("p",), {"pipeline_id": "p"}])  # valid keys: not found, read once
def test_any_keys(key: Any, sort_key: Any, keys: list[Any]) -> None:
    async def call() -> None:
        with contextlib.suppress(ItemNotFoundError):  # a valid key: the empty table's answer
            await PipelineRunLogsReadApi(CONFIG).get_by_id(key, sort_key)

    async def batch() -> None:
        await PipelineConfigReadApi(CONFIG).batch_get(keys)

    outcome(call)
    outcome(batch)


#: Whatever might be passed where an iterable of keys or items is expected.
sources = (
    odd_text
    | st.binary(max_size=8)
    | values
    | st.lists(values, max_size=4)
    | st.lists(st.text(min_size=1, max_size=3), max_size=4).map(tuple)
    | st.builds(lambda: PipelineConfigUpsert(
        pipeline_id="p", pipeline_name="n", source_type="s3", destination_type="warehouse"))
)  # fmt: skip


@fuzz
@given(sources, sources)
@example("abc", b"abc")
@example(["ok", "x" * 2049], [{"pipeline_id": "é" * 1025}])
def test_any_batch_source(keys: Any, items: Any) -> None:
    outcome(lambda: PipelineConfigReadApi(CONFIG).batch_get(keys))
    outcome(lambda: PipelineConfigWriteApi(CONFIG).batch_delete(keys))
    outcome(lambda: PipelineConfigWriteApi(CONFIG).batch_upsert(items))


@fuzz
@given(values, st.none() | values, st.none() | values)
@example(123, None, None)
@example(["a"], None, None)
@example("p", dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))), None)
def test_domain_queries_with_any_values(value: Any, since: Any, until: Any) -> None:
    outcome(lambda: TableConfigReadApi(CONFIG).query_by_pipeline(value))
    outcome(
        lambda: PipelineRunLogsReadApi(CONFIG).query_runs_for_pipeline(
            value, since=since, until=until
        )
    )
    outcome(lambda: PipelineRunLogsReadApi(CONFIG).query_by_status(value, since=since))


@fuzz
@given(st.dictionaries(st.sampled_from(sorted(PipelineRunLog.model_fields)), values, max_size=5))
def test_run_log_updates_and_dtos_with_any_values(given_fields: dict[str, Any]) -> None:
    async def call() -> None:
        api = PipelineRunLogsWriteApi(CONFIG)
        await api.update_run_log("r", "p", given_fields)

    async def create() -> None:
        run = PipelineRunLogUpsert(**({"run_id": "r", "pipeline_id": "p"} | given_fields))
        await PipelineRunLogsWriteApi(CONFIG).batch_upsert([run])

    outcome(call)
    outcome(create)


API_CLASSES = (
    PipelineConfigReadApi,
    PipelineConfigWriteApi,
    TableConfigReadApi,
    TableConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
)
#: (API class, public method name, its parameters but self)
METHODS = [
    (cls, name, list(inspect.signature(fn).parameters.values())[1:])
    for cls in API_CLASSES
    for name, fn in inspect.getmembers(cls, inspect.isfunction)
    if not name.startswith("_") and name != "aclose"
]


def _self_holding() -> dict[str, Any]:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    return looped


#: One of each kind of thing a caller might pass by mistake.
ODD_ARGUMENTS: list[Any] = [
    None, 0, -1, True, 1.5, float("nan"), 10**400, "", "abc", b"x", ["a"], ("a", "b"),
    {"a": 1}, {1, 2}, _self_holding(), object(), dt.datetime(2024, 1, 1),
    dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
]  # fmt: skip


def _call_with(cls: Any, name: str, arguments: dict[str, Any]) -> None:
    async def call() -> str:
        sender = MockSender(empty_table)
        install_sender(CONFIG, sender)
        try:
            result = getattr(cls(CONFIG), name)(**arguments)
            if inspect.isawaitable(result):
                await result
            elif hasattr(result, "__aiter__"):
                await anext(aiter(result), None)  # a stream: its first page
        except DynamoDBWrapperError as error:  # ours: a refusal, or the empty table's answer
            return error.message
        finally:
            await close_clients(CONFIG)
        return "done"

    assert asyncio.run(call())  # anything but our errors fails the test on its own


def _arguments(params: list[inspect.Parameter], odd: inspect.Parameter, value: Any) -> Any:
    """``value`` for ``odd``, a plausible "p" for every other required parameter."""
    return {
        p.name: value if p is odd else "p"
        for p in params
        if p is odd or p.default is inspect.Parameter.empty
    }


@pytest.mark.parametrize("method", METHODS, ids=[f"{c.__name__}.{n}" for c, n, _ in METHODS])
def test_every_public_method_with_every_odd_argument(method: Any) -> None:
    """Each parameter in turn gets each odd value: success or a domain error, nothing else."""
    cls, name, params = method
    for odd in params:
        for value in ODD_ARGUMENTS:
            _call_with(cls, name, _arguments(params, odd, value))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(METHODS), st.data())
def test_every_public_method_with_any_arguments(method: Any, data: st.DataObject) -> None:
    """One argument anything at all, the others plausible: success or a domain error."""
    cls, name, params = method
    odd = data.draw(st.sampled_from(params), label="odd parameter")
    _call_with(cls, name, _arguments(params, odd, data.draw(sources, label=odd.name)))


@pytest.mark.parametrize(
    "call",
    [
        lambda: PipelineConfigReadApi(CONFIG).scan(
            filters=Attr("source_config.a b#:").eq(decimal.Decimal("1.5")),
            projection=["pipeline_name", "tags"],
        ),
        lambda: PipelineConfigReadApi(CONFIG).scan(filters={"pipeline_name": "a) OR (b"}),
        lambda: PipelineRunLogsReadApi(CONFIG).query_by_composite_key_range(
            "pipeline_id", "p) OR (x", "created_at", "between", NOW, NOW
        ),
        lambda: PipelineConfigWriteApi(CONFIG).update_pipeline(
            "p", {"source_config": {":v": {"#": 1}}, "tags": None}, expected_version=3
        ),
        lambda: PipelineConfigWriteApi(CONFIG).upsert_pipeline(
            PipelineConfigUpsert(
                pipeline_id="p) OR (x",
                pipeline_name="#n0",
                source_type=":v0",
                destination_type="AND",
            )
        ),
    ],
)
def test_odd_but_valid_input_is_sent_through_placeholders(
    call: Callable[[], Awaitable[Any]],
) -> None:
    """The harness is live: these calls are valid, so they are sent and their text checked."""
    assert len(outcome(call)) == 1


def test_the_expression_check_catches_raw_names() -> None:
    with pytest.raises(AssertionError, match="raw text"):
        assert_placeholders_only({"FilterExpression": "#n0 = :v0 OR name = :v1"})


marker_paths = field_names | st.builds(
    lambda field, key: f"{field}.{key}",
    st.sampled_from(["source_config", "tags", "pipeline_name", "is_active"]),
    odd_text,
)
markers = st.builds(Increment, values) | st.builds(Append, values) | values


@fuzz
@given(st.dictionaries(marker_paths, markers, min_size=1, max_size=4))
@example({"source_config.rows": Increment(float("nan"))})
@example({"source_config.rows": Increment(10**40), "tags.a": Append([1])})
@example({"source_config.rows": Append([float("inf")])})
@example({"source_config": Increment(1), "source_config.x": Increment(1)})
def test_updates_with_any_markers(updates: dict[str, Any]) -> None:
    """Increment/Append of any value at any path: success or a ValidationError."""
    sent = outcome(lambda: PipelineConfigWriteApi(CONFIG).update_pipeline("p", updates))
    assert len(sent) <= 1
