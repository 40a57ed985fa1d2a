"""PySpark: the `dynamodb` data source writes and reads run logs; the RDD helpers do too.

Run: python examples/pyspark_usage.py   (needs the `spark` extra and Java 17; embedded local
DynamoDB unless DYNAMODB_ENDPOINT_URL is set)
"""

from __future__ import annotations

import os
import sys

from _common import example_backend
from boto3.dynamodb.conditions import Attr
from pyspark.sql import SparkSession

from dynamodb_wrapper_sync import (
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    create_tables,
)
from dynamodb_wrapper_sync.spark import read_table, register, write_dataframe
from dynamodb_wrapper_sync.utils import utc_now


def main() -> None:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers use this interpreter

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("dynamodb-wrapper-example")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    register(spark)  # format("dynamodb")
    try:
        with example_backend() as config:
            create_tables(config)
            batch = f"{utc_now():%Y%m%d%H%M%S}"
            source = {
                "model": "dynamodb_wrapper_async:PipelineRunLog",
                "endpoint_url": str(config.endpoint_url),
                "region_name": config.region_name,
                "table_prefix": config.table_prefix,
                **{k: v for k, v in config.credentials().items() if v is not None},
            }
            started = spark.range(1_000, numPartitions=2).selectExpr(
                f"concat('ds-{batch}-', cast(id as string)) as run_id",
                "'pipeline-ds' as pipeline_id",
                "'running' as status",
                "current_timestamp() as start_time",  # a Spark timestamp: stored in UTC
                "id as records_processed",
            )
            started.write.format("dynamodb").options(**source).mode("append").save()
            running = (
                spark.read.format("dynamodb")
                .options(**source)
                .load()
                .filter(f"run_id LIKE 'ds-{batch}-%' AND records_processed >= 900")  # pushed down
            )
            print(f"Data source: {running.count()} of 1000 runs have >= 900 records")

            runs = spark.range(5_000, numPartitions=4).selectExpr(
                f"concat('run-{batch}-', cast(id as string)) as run_id",
                "concat('pipeline-', cast(id % 3 as string)) as pipeline_id",
                "case when id % 10 = 0 then 'failed' else 'success' end as status",
                "cast(id * 7 % 1000 as bigint) as records_processed",
                "cast(id % 50 as double) as duration_seconds",
            )
            # Each partition streams its rows through the batch engine on its executor.
            stats = write_dataframe(runs, PipelineRunLogsWriteApi(config))
            written = sum(s["processed"] for s in stats)
            workers = sorted({s["pid"] for s in stats})
            print(f"Wrote {written} runs from {len(stats)} partitions on workers {workers}")

            # One parallel-scan segment per Spark partition.
            logs = read_table(
                spark,
                PipelineRunLogsReadApi(config),
                segments=4,
                projection=["run_id", "pipeline_id", "status", "duration_seconds"],
                filters=Attr("run_id").begins_with(f"run-{batch}-") & Attr("status").eq("failed"),
            )
            print(f"Failed runs read back: {logs.count()}")
            summary = logs.groupBy("pipeline_id").agg(
                {"duration_seconds": "avg", "run_id": "count"}
            )
            for row in summary.orderBy("pipeline_id").collect():
                print(
                    f"  {row['pipeline_id']}: {row['count(run_id)']} failed runs, "
                    f"avg duration {row['avg(duration_seconds)']:.1f}s"
                )
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
