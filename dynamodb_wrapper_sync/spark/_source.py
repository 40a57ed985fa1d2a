"""The ``dynamodb`` data source for pyspark's Python Data Source API (pyspark >= 4.0).

``spark.read.format("dynamodb")`` reads one parallel-scan segment per input partition (or a
Query, when the filters fix a partition key) and yields Arrow record batches, a page at a
time; ``df.write.format("dynamodb")`` streams each partition through the batch engine. The
reader and writer objects hold parsed options only (strings, numbers, ``SecretStr``s): they
pickle to the executors, where each Python worker builds its pooled client once.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    InputPartition,
    WriterCommitMessage,
)

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import BatchWriteError, ConsumedCapacity, ValidationError

from ._capacity import concurrent_tasks, task_config
from ._columns import Columns
from ._filters import ReadPlan, plan
from ._options import SourceOptions, api_classes

logger = logging.getLogger("dynamodb_wrapper")

#: How many keys an error message lists before it only counts the rest.
_SHOWN_KEYS = 20


class DynamoDBDataSource(DataSource):
    """``format("dynamodb")``: a DynamoModel's table as a DataFrame, and back.

    Register it with :func:`dynamodb_wrapper_sync.spark.register`. Options: ``model``
    (required), ``endpoint_url``, ``region_name``, ``table_prefix``, credentials, ``segments``,
    ``columns``, ``keep_managed_fields``, ``arrow``, ``timezone`` (see the README).
    """

    #: Filled in by ``register(spark)``: the session's time zone and default parallelism.
    session_defaults: ClassVar[dict[str, Any]] = {}

    @classmethod
    def name(cls) -> str:
        """The format name."""
        return "dynamodb"

    def _parsed(self) -> SourceOptions:
        zone = str(self.session_defaults.get("timezone") or "UTC")
        return SourceOptions.parse(self.options, session_zone=zone)

    def schema(self) -> Any:
        """The model's fields (or the ``columns`` chosen) as a StructType."""
        options = self._parsed()
        return Columns.of(options.model(), options.columns).schema()

    def reader(self, schema: Any) -> DynamoDBReader:
        """A reader of the columns of ``schema`` (the model's, or one the user gave)."""
        options = self._parsed()
        columns = Columns.of(options.model(), [f.name for f in schema.fields])
        if columns.schema() != schema:
            mine = {f.name: f.dataType.simpleString() for f in columns.schema().fields}
            theirs = {f.name: f.dataType.simpleString() for f in schema.fields}
            wrong = {n: t for n, t in theirs.items() if mine[n] != t}
            msg = f"schema does not match {columns.model_name}: {wrong}; the model gives {mine}"
            raise ValidationError(msg, operation="spark read")
        default = int(self.session_defaults.get("parallelism") or 1)
        segments = options.segments or default
        return DynamoDBReader(
            options, columns.names, segments, tasks=concurrent_tasks(segments, default)
        )

    def writer(self, schema: Any, overwrite: bool) -> DynamoDBWriter:  # noqa: FBT001 - Spark's API
        """A writer of DataFrames of ``schema``; only ``mode("append")`` is accepted."""
        if overwrite:
            msg = (
                'mode("overwrite") is not supported: DynamoDB has no truncate. Use '
                'mode("append"): an item with the same key is replaced.'
            )
            raise ValidationError(msg, operation="spark write")
        options = self._parsed()
        model = options.model()
        columns = Columns.of(model)
        columns.check_input(schema, required=model.table_schema().key_names)
        names = tuple(f.name for f in schema.fields)
        # Spark does not tell a writer how many partitions come: share by the cores.
        tasks = int(self.session_defaults.get("parallelism") or 1)
        return DynamoDBWriter(options, names, tasks=tasks)


class Segment(InputPartition):
    """One parallel-scan segment (``total`` 0 means: the single Query)."""

    def __init__(self, segment: int, total: int) -> None:
        super().__init__(segment)
        self.segment = segment
        self.total = total


class DynamoDBReader(DataSourceReader):
    """Reads a table into Spark: one segment per partition, Arrow batches per page."""

    def __init__(
        self, options: SourceOptions, names: Sequence[str], segments: int, *, tasks: int = 1
    ) -> None:
        self.options = options
        self.names = tuple(names)
        self.segments = segments
        #: Tasks reading at once: each takes this share of the budget (``_capacity``).
        self.tasks = tasks
        self.read_plan = ReadPlan()

    def __repr__(self) -> str:
        return f"DynamoDBReader({self.options.model_path}, pushed: {self.read_plan.describe()})"

    def pushFilters(self, filters: list[Any]) -> Iterator[Any]:  # noqa: N802 - Spark's name
        """Keep the filters DynamoDB evaluates exactly; give the rest back to Spark."""
        model = self.options.model()
        self.read_plan, rest = plan(filters, Columns.of(model), model.table_schema())
        ours = set(map(id, rest))
        return (f for f in filters if id(f) in ours)

    def partitions(self) -> Sequence[Segment]:
        """One partition per scan segment, or one for a Query."""
        if self.read_plan.is_query:
            return [Segment(0, 0)]
        return [Segment(n, self.segments) for n in range(self.segments)]

    def read(self, partition: InputPartition) -> Iterator[Any]:
        """Yield the partition's items a page at a time (Arrow batches, or tuples)."""
        assert isinstance(partition, Segment)  # noqa: S101 - Spark hands back our partitions
        model = self.options.model()
        columns = Columns.of(model, self.names)
        config = task_config(self.options.config(), self.tasks)
        core_api = api_classes(model)[0](config)
        if self.options.arrow and importlib.util.find_spec("pyarrow") is not None:
            from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415 - needs pyarrow

            from ._arrow import ArrowPages  # noqa: PLC0415 - pyarrow is optional

            schema = to_arrow_schema(columns.schema(), timezone="UTC")
            batches = ArrowPages(columns, core_api.view, schema)
            with self._stream(sync.ReadApi(core_api.with_page_codec(batches)), partition) as stream:
                for page in stream.pages():
                    yield from page
            return
        with self._stream(sync.ReadApi(core_api), partition) as stream:
            for page in stream.pages():
                yield from columns.rows(page)

    def _stream(self, read_api: Any, partition: Segment) -> Any:
        read = self.read_plan
        projection = list(self.names)
        if read.partition is None:
            return read_api.scan_iter(
                filters=read.condition(),
                projection=projection,
                segments=partition.total,
                segment=partition.segment,
            )
        sort = read.sort
        return read_api.query_by_composite_key_range_iter(
            read.partition.name,
            read.partition.value,
            None if sort is None else sort.name,
            None if sort is None else _SORT_CONDITION[sort.op],
            None if sort is None else sort.value,
            filters=read.condition(),
            projection=projection,
        )


_SORT_CONDITION = {
    "EqualTo": "eq",
    "GreaterThan": "gt",
    "GreaterThanOrEqual": "gte",
    "LessThan": "lt",
    "LessThanOrEqual": "lte",
    "StringStartsWith": "begins_with",
}


@dataclass
class WriteCounts(WriterCommitMessage):
    """The commit message of one written partition."""

    partition: int
    attempt: int
    rows: int
    processed: int
    duplicates: int
    retries: int
    #: The capacity units DynamoDB reported for this partition's writes.
    consumed_capacity: ConsumedCapacity = field(default_factory=ConsumedCapacity)


class DynamoDBWriter(DataSourceArrowWriter):
    """Writes each partition's Arrow batches through ``batch_upsert`` on its executor."""

    def __init__(self, options: SourceOptions, names: Sequence[str], *, tasks: int = 1) -> None:
        self.options = options
        self.names = tuple(names)
        #: Tasks writing at once: each takes this share of the budget (``_capacity``).
        self.tasks = tasks

    def __repr__(self) -> str:
        return f"DynamoDBWriter({self.options.model_path})"

    def write(self, iterator: Iterator[Any]) -> WriteCounts:
        """Write every row of this partition; return its counts (raise: nothing is done)."""
        from pyspark import TaskContext  # noqa: PLC0415

        context = TaskContext.get()
        model = self.options.model()
        config = task_config(self.options.config(), self.tasks)
        write_api = sync.WriteApi(api_classes(model)[1](config))
        keep = self.options.keep_managed_fields
        target = model if keep else write_api.async_api.upsert_model
        reader = Columns.of(model).reader_of(self.names, self.options.zone())
        # stamped anew unless kept: managed and derived columns are ignored
        accepted = None if keep else frozenset(target.model_fields)
        stopped: list[tuple[int, ValidationError]] = []  # the first bad row ends the stream
        rows = 0

        def items() -> Iterator[Any]:
            nonlocal rows
            for batch in iterator:
                columns = [column.to_pylist() for column in batch.columns]
                try:  # a whole batch at once; if any row is bad, row by row to find it
                    built = target.validate_many(reader.records(columns, accepted))
                except ValidationError:
                    yield from one_by_one(columns)
                    if stopped:
                        return
                    continue
                for item in built:
                    rows += 1
                    yield item

        def one_by_one(columns: list[list[Any]]) -> Iterator[Any]:
            nonlocal rows
            for row in zip(*columns, strict=True):
                try:
                    values = reader.values(row)
                    if accepted is not None:
                        values = {k: v for k, v in values.items() if k in accepted}
                    item = target.model_validate(values)
                except ValidationError as bad:
                    stopped.append((rows, bad))
                    return
                rows += 1
                yield item

        try:
            result = write_api.batch_upsert(items(), keep_managed_fields=keep)
        except BatchWriteError as error:
            raise _not_written(error, rows) from None
        if stopped:
            position, bad = stopped[0]
            msg = (
                f"row {position + 1} of this partition: {bad.message}; the {position} rows "
                "before it were written, it and the rows after it were not"
            )
            raise ValidationError(
                msg, operation="spark write", table=write_api.async_api.table_name
            )
        return WriteCounts(
            partition=context.partitionId() if context else 0,
            attempt=context.attemptNumber() if context else 0,
            rows=rows,
            processed=result.processed,
            duplicates=result.duplicates,
            retries=result.retries,
            consumed_capacity=result.consumed_capacity,
        )

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        """Log the job's totals (every partition succeeded)."""
        done = [m for m in messages if isinstance(m, WriteCounts)]
        logger.info(
            "dynamodb write of %s committed: %d rows, %d items written from %d partitions, "
            "%.1f write capacity units consumed",
            self.options.model_path,
            sum(m.rows for m in done),
            sum(m.processed for m in done),
            len(done),
            sum(m.consumed_capacity.write_units for m in done),
        )

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:
        """Log what the partitions that did succeed wrote (those items stay written)."""
        done = [m for m in messages if isinstance(m, WriteCounts)]
        logger.error(
            "dynamodb write of %s aborted: %d of %d partitions had finished, %d items; "
            "rerunning the job rewrites them (puts are idempotent)",
            self.options.model_path,
            len(done),
            len(messages),
            sum(m.processed for m in done),
        )


def _not_written(error: BatchWriteError, rows: int) -> BatchWriteError:
    keys = error.unprocessed_keys
    shown = ", ".join(repr(key) for key in keys[:_SHOWN_KEYS])
    more = f" and {len(keys) - _SHOWN_KEYS} more" if len(keys) > _SHOWN_KEYS else ""
    msg = f"{len(keys)} of this partition's {rows} rows were not written: {shown}{more}"
    return BatchWriteError(
        msg,
        operation="spark write",
        table=error.table,
        aws_code=error.aws_code,
        retries=error.retries,
        unprocessed_items=error.unprocessed_items,
        unprocessed_keys=keys,
    )
