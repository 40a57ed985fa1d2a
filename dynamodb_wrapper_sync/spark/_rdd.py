"""RDD helpers (pyspark 3.5 and later): write a DataFrame's partitions, read a table's segments.

They convert values with the same mapping as the data source (``_types``). API objects hold
configuration only, so the writer and reader pickle into Spark closures; on each executor the
first call builds one pooled client per Python worker, reused by its later tasks. A
partition's writes are complete when the partition function returns: executors leave with
``os._exit``, so nothing waits for interpreter exit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from dynamodb_wrapper_async import CapacityBudget, DynamoModel, ViewModel, WriteModel, pool_stats

from ._capacity import concurrent_tasks, job_budget, task_budget
from ._columns import Columns

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
    fields (default: the dict as is); the result's values are then converted from Spark's
    types as the model's annotations say (naive timestamps are the worker's local time, as
    pyspark makes them; JSON strings become dicts), and fields the DTO does not declare are
    refused by the DTO, as anywhere else.

    Attributes:
        write_api: A blocking write API (e.g. ``PipelineRunLogsWriteApi(config)``) or a
            :class:`dynamodb_wrapper_sync.WriteApi` twin of your own model's API.
        transform: Optional dict -> dict (or -> DTO) mapping applied to each row.
        accumulator: Optional Spark accumulator that receives the count written.
        capacity: This task's capacity budget (``write_dataframe`` gives each task its
            share of the job's budget).
    """

    write_api: Any
    transform: Transform | None = None
    accumulator: Any = field(default=None)
    capacity: CapacityBudget | None = None

    def _dtos(self, rows: Iterable[Any]) -> Iterator[Any]:
        core = self.write_api.async_api
        dto: type[WriteModel] = core.upsert_model
        columns = Columns.of(core.model)
        reader = columns.reader_of(columns.names, None)
        for row in rows:
            values = _as_dict(row)
            shaped = self.transform(values) if self.transform is not None else values
            yield shaped if isinstance(shaped, dto) else dto(**reader.mapping(shaped))

    def __call__(self, rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """Write the partition; yield one dict of counts, capacity and worker statistics."""
        result = self.write_api.batch_upsert(self._dtos(rows), capacity=self.capacity)
        if self.accumulator is not None:
            self.accumulator.add(result.processed)
        yield {
            "processed": result.processed,
            "duplicates": result.duplicates,
            "retries": result.retries,
            "write_units": result.consumed_capacity.write_units,
            "consumed_capacity": result.consumed_capacity,
            **pool_stats(),
        }

    def consume(self, rows: Iterable[Any]) -> None:
        """Write the partition and return nothing (for ``foreachPartition``)."""
        for _ in self(rows):
            pass


@dataclass
class SegmentReader:
    """A picklable partition function reading parallel-scan segments as Spark tuples.

    The input partition holds segment numbers (``sc.parallelize(range(n), n)``); each yields
    the items of that segment as tuples of Spark values in the order of ``fields``.
    """

    read_api: Any
    total_segments: int
    fields: Sequence[str]
    filters: Any = None
    #: This task's capacity budget (``read_table`` gives each task its share of the job's).
    capacity: CapacityBudget | None = None

    def __call__(self, segments: Iterable[int]) -> Iterator[tuple[Any, ...]]:
        """Yield the items of each segment in this partition."""
        columns = Columns.of(self.read_api.async_api.model, list(self.fields))
        for segment in segments:
            stream = self.read_api.scan_iter(
                filters=self.filters,
                projection=list(self.fields),
                segments=self.total_segments,
                segment=segment,
                capacity=self.capacity,
            )
            with stream:
                for page in stream.pages():
                    yield from columns.rows(page)


def write_dataframe(
    dataframe: Any,
    write_api: Any,
    *,
    transform: Transform | None = None,
    accumulator: Any = None,
    capacity: CapacityBudget | None = None,
) -> list[dict[str, Any]]:
    """Write every row of ``dataframe`` through ``write_api``; return per-partition stats.

    Each partition streams its rows through the batch engine on its executor; the returned
    list has one dict per partition (``processed``, ``duplicates``, ``retries``,
    ``write_units``, ``consumed_capacity``, ``pid``, ``clients_created``, ``open``).
    ``capacity`` (else the config's budget) is the whole job's: each task gets
    ``1 / min(partitions, default parallelism)`` of it.
    """
    rdd = dataframe.rdd
    tasks = concurrent_tasks(rdd.getNumPartitions(), rdd.context.defaultParallelism)
    share = task_budget(job_budget(write_api.async_api.config, capacity), tasks)
    writer: PartitionWriter[Any] = PartitionWriter(write_api, transform, accumulator, share)
    stats: list[dict[str, Any]] = rdd.mapPartitions(writer).collect()
    return stats


def read_table(
    spark: Any,
    read_api: Any,
    *,
    segments: int | None = None,
    projection: Sequence[str] | None = None,
    filters: Any = None,
    capacity: CapacityBudget | None = None,
) -> Any:
    """Load a table into a DataFrame: one parallel-scan segment per Spark partition.

    The schema comes from the model (``spark_schema``); ``projection`` picks columns.
    ``capacity`` (else the config's budget) is the whole job's: each task gets
    ``1 / min(segments, default parallelism)`` of it.
    """
    model: type[DynamoModel] = read_api.async_api.model
    fields = list(projection) if projection is not None else list(model.model_fields)
    parallelism = spark.sparkContext.defaultParallelism
    total = segments or parallelism
    tasks = concurrent_tasks(total, parallelism)
    share = task_budget(job_budget(read_api.async_api.config, capacity), tasks)
    reader = SegmentReader(read_api, total, fields, filters, share)
    rdd = spark.sparkContext.parallelize(range(total), total).mapPartitions(reader)
    return spark.createDataFrame(rdd, schema=spark_schema(model, fields))


def spark_schema(
    model: type[DynamoModel] | type[ViewModel], fields: Sequence[str] | None = None
) -> Any:
    """Return the Spark StructType of a model's fields (all nullable).

    The types are the data source's (see the README's types table).
    """
    return Columns.of(model, fields).schema()
