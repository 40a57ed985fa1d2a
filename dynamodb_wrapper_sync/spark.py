"""PySpark helpers: write a DataFrame's partitions, read a table with a segment per partition.

pyspark is imported lazily (extra ``spark``); the functions that only run on executors never
import it. API objects hold configuration only, so the writer and reader pickle into Spark
closures; on each executor the first call builds one pooled client per Python worker, reused
by every later task of that worker (Spark reuses its Python workers by default).

A partition's writes are complete when the partition function returns: executors leave with
``os._exit``, so nothing waits for interpreter exit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from dynamodb_wrapper_async import DynamoModel, ViewModel, WriteModel, pool_stats

__all__ = [
    "PartitionWriter",
    "SegmentReader",
    "read_table",
    "spark_schema",
    "write_dataframe",
]

UpsertT = TypeVar("UpsertT", bound=WriteModel)
Transform = Callable[[dict[str, Any]], Any]


def _as_dict(row: Any) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return dict(row)
    as_dict = getattr(row, "asDict", None)  # pyspark.sql.Row
    if as_dict is not None:
        return dict(as_dict(recursive=True))
    msg = f"rows must be pyspark Rows or mappings, got {type(row).__name__}"
    raise TypeError(msg)


@dataclass
class PartitionWriter(Generic[UpsertT]):
    """A picklable partition function: rows (or dicts) -> DTOs -> ``batch_upsert``.

    Use with ``rdd.mapPartitions(writer)`` to get one stats dict per partition back, or
    ``df.foreachPartition(writer.consume)``. ``transform`` maps a row's dict to the DTO's
    fields (default: the dict as is); rows whose fields the DTO does not declare are refused
    by the DTO, as anywhere else.

    Attributes:
        write_api: A blocking write API (e.g. ``PipelineRunLogsWriteApi(config)``) or a
            :class:`dynamodb_wrapper_sync.WriteApi` twin of your own model's API.
        transform: Optional dict -> dict (or -> DTO) mapping applied to each row.
        accumulator: Optional Spark accumulator that receives the count written.
    """

    write_api: Any
    transform: Transform | None = None
    accumulator: Any = field(default=None)

    def _dtos(self, rows: Iterable[Any]) -> Iterator[Any]:
        model: type[WriteModel] = self.write_api.async_api.upsert_model
        for row in rows:
            values = _as_dict(row)
            shaped = self.transform(values) if self.transform is not None else values
            yield shaped if isinstance(shaped, model) else model(**shaped)

    def __call__(self, rows: Iterable[Any]) -> Iterator[dict[str, int]]:
        """Write the partition; yield one dict of counts and worker statistics."""
        result = self.write_api.batch_upsert(self._dtos(rows))
        if self.accumulator is not None:
            self.accumulator.add(result.processed)
        yield {
            "processed": result.processed,
            "duplicates": result.duplicates,
            "retries": result.retries,
            **pool_stats(),
        }

    def consume(self, rows: Iterable[Any]) -> None:
        """Write the partition and return nothing (for ``foreachPartition``)."""
        for _ in self(rows):
            pass


@dataclass
class SegmentReader:
    """A picklable partition function reading parallel-scan segments as dicts.

    The input partition holds segment numbers (``sc.parallelize(range(n), n)``); each yields
    the items of that segment, as plain dicts shaped by ``fields``.
    """

    read_api: Any
    total_segments: int
    fields: Sequence[str]
    filters: Any = None

    def __call__(self, segments: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Yield the items of each segment in this partition."""
        projection = list(self.fields)
        for segment in segments:
            stream = self.read_api.scan_iter(
                filters=self.filters,
                projection=projection,
                segments=self.total_segments,
                segment=segment,
            )
            with stream:
                for item in stream:
                    values = item.model_dump()
                    yield {name: _to_spark_value(values.get(name)) for name in projection}


def write_dataframe(
    dataframe: Any,
    write_api: Any,
    *,
    transform: Transform | None = None,
    accumulator: Any = None,
) -> list[dict[str, int]]:
    """Write every row of ``dataframe`` through ``write_api``; return per-partition stats.

    Each partition streams its rows through the batch engine on its executor; the returned
    list has one dict per partition (``processed``, ``duplicates``, ``retries``, ``pid``,
    ``clients_created``, ``open``).
    """
    writer: PartitionWriter[Any] = PartitionWriter(write_api, transform, accumulator)
    stats: list[dict[str, int]] = dataframe.rdd.mapPartitions(writer).collect()
    return stats


def read_table(
    spark: Any,
    read_api: Any,
    *,
    segments: int | None = None,
    projection: Sequence[str] | None = None,
    filters: Any = None,
) -> Any:
    """Load a table into a DataFrame: one parallel-scan segment per Spark partition.

    The schema comes from the read API's view model (``spark_schema``); ``projection`` picks
    columns. Maps become JSON strings.
    """
    view: type[ViewModel] = read_api.async_api.view
    fields = list(projection) if projection is not None else list(view.model_fields)
    total = segments or spark.sparkContext.defaultParallelism
    reader = SegmentReader(read_api, total, fields, filters)
    rdd = spark.sparkContext.parallelize(range(total), total).mapPartitions(reader)
    return spark.createDataFrame(rdd, schema=spark_schema(view, fields))


def spark_schema(
    model: type[DynamoModel] | type[ViewModel], fields: Sequence[str] | None = None
) -> Any:
    """Return the Spark StructType of a model's fields (all nullable)."""
    from pyspark.sql import types as T  # noqa: N812, PLC0415 - pyspark is an optional extra

    def spark_type(annotation: Any) -> Any:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is typing.Annotated:
            return spark_type(args[0])
        if origin in (typing.Union, _UnionType) and len(args) == 1:
            return spark_type(args[0])
        if origin in (list, tuple, set, frozenset, Sequence) and args:
            return T.ArrayType(spark_type(args[0]))
        simple = {
            bool: T.BooleanType(),
            int: T.LongType(),
            float: T.DoubleType(),
            decimal.Decimal: T.DoubleType(),
            str: T.StringType(),
            dt.datetime: T.TimestampType(),
            dt.date: T.DateType(),
            bytes: T.BinaryType(),
        }
        if isinstance(annotation, type):
            for base, kind in simple.items():
                if issubclass(annotation, base):
                    return kind
            if issubclass(annotation, enum.Enum):
                return T.StringType()
        return T.StringType()  # maps and anything nested: a JSON string

    names = list(fields) if fields is not None else list(model.model_fields)
    return T.StructType(
        [
            T.StructField(name, spark_type(model.model_fields[name].annotation), nullable=True)
            for name in names
        ]
    )


def _to_spark_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, sort_keys=True)
    return value


_UnionType = type(int | str)
