r"""Spark: a ``dynamodb`` data source (pyspark >= 4.0) and RDD helpers (extra ``spark``).

Example:
    >>> from dynamodb_wrapper_sync.spark import register
    >>> register(spark)
    >>> runs = (spark.read.format("dynamodb")
    ...         .option("model", "dynamodb_wrapper_async:PipelineRunLog").load())
    >>> runs.write.format("dynamodb").option("model", "my_pkg.models:RunCopy") \\
    ...     .option("keep_managed_fields", "true").mode("append").save()

pyspark is imported only by :func:`register` and the functions that need it, never at import.
"""

from __future__ import annotations

from typing import Any

from ._rdd import PartitionWriter, SegmentReader, read_table, spark_schema, write_dataframe

__all__ = [
    "PartitionWriter",
    "SegmentReader",
    "read_table",
    "register",
    "spark_schema",
    "write_dataframe",
]


def register(spark: Any) -> None:
    """Register ``format("dynamodb")`` with a SparkSession (pyspark >= 4.0).

    The session's time zone (``spark.sql.session.timeZone``, for naive timestamps) and its
    default parallelism (the default number of scan segments) are taken now; the options
    ``timezone`` and ``segments`` override them per read or write. It also turns on
    ``spark.sql.python.filterPushdown.enabled`` (off by default in pyspark 4), without which
    Spark refuses a Python source that pushes filters down.
    """
    from ._source import DynamoDBDataSource  # noqa: PLC0415 - needs pyspark >= 4.0

    defaults: dict[str, Any] = {"timezone": spark.conf.get("spark.sql.session.timeZone")}
    try:
        defaults["parallelism"] = spark.sparkContext.defaultParallelism
    except Exception:  # noqa: BLE001 - Spark Connect sessions have no SparkContext
        defaults["parallelism"] = 1
    source = type(
        "DynamoDBDataSource",
        (DynamoDBDataSource,),
        {
            "session_defaults": defaults,
            "__module__": __name__,
            "__doc__": DynamoDBDataSource.__doc__,
        },
    )
    spark.conf.set("spark.sql.python.filterPushdown.enabled", "true")
    spark.dataSource.register(source)
