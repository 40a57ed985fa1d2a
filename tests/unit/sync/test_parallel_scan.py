"""A facade parallel scan: each page is pulled by a new task on the loop thread, so the
segments' task group lives in a task of its own; closing the stream early leaves no task."""

from __future__ import annotations

import asyncio
import datetime as dt

from _memory_table import MemoryTable

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import DynamoDBConfig, TableConfig
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender
from dynamodb_wrapper_sync._runner import run

CONFIG = DynamoDBConfig(table_prefix="mem_facade_", max_retries=2, retry_deadline=5)
WHEN = dt.datetime(2024, 1, 10, tzinfo=dt.timezone.utc)


def test_a_facade_parallel_scan_reads_every_segment_and_closes_cleanly() -> None:
    memory = MemoryTable(TableConfig, "mem_facade_table_config", page_size=2)
    for n in range(30):
        memory.put(
            TableConfig(
                table_id=f"t{n:03d}",
                pipeline_id="p",
                table_name=f"n{n}",
                table_type="s",
                created_at=WHEN,
                updated_at=WHEN,
            )
        )

    async def install() -> None:
        install_sender(CONFIG, memory.sender)

    async def other_tasks() -> int:
        await asyncio.sleep(0)
        return len(asyncio.all_tasks() - {asyncio.current_task()})

    run(install())
    before = run(other_tasks())
    try:
        api = sync.TableConfigReadApi(CONFIG)
        seen = sorted(view.table_id or "" for view in api.scan_iter(segments=3))
        assert seen == [f"t{n:03d}" for n in range(30)]
        with api.scan_iter(segments=3) as stream:
            assert next(stream).table_id is not None
        assert run(other_tasks()) == before
    finally:
        run(close_clients(CONFIG))
