"""backfill on both backends: in place exactly once, changed items reported, dry runs, copies,
and (DynamoDB Local) a job killed again and again at random points that still finishes with
every item transformed exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import (
    BackfillCheckpoint,
    BackfillResult,
    CapacityBudget,
    DynamoDBConfig,
    FileCheckpoint,
    PipelineConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigView,
    PipelineConfigWriteApi,
    ReadApi,
    TableCheckpoint,
    ValidationError,
    WriteApi,
    WriteModel,
    backfill,
    create_tables,
    delete_tables,
)


class PipelineArchive(PipelineConfig):
    """Another table with the pipeline config's fields: the target of a copy."""

    class Meta:
        table_name = "pipeline_archive"
        partition_key = "pipeline_id"


class PipelineArchiveUpsert(WriteModel):
    pipeline_id: str
    pipeline_name: str
    source_type: str
    destination_type: str


class PipelineArchiveWriteApi(WriteApi[PipelineArchive, PipelineArchiveUpsert]):
    model = PipelineArchive
    upsert_model = PipelineArchiveUpsert


def pipelines(uid: str, count: int) -> list[PipelineConfigUpsert]:
    return [
        PipelineConfigUpsert(
            pipeline_id=f"{uid}-{n:04d}", pipeline_name="n", description="0", source_type="s3",
            destination_type="dw",
        )
        for n in range(count)
    ]  # fmt: skip


def bump(view: PipelineConfigView) -> dict[str, Any] | None:
    """The transform: description counts how often an item was transformed."""
    if view.description is None:
        return None
    return {"description": str(int(view.description) + 1)}


async def stored(config: DynamoDBConfig, uid: str) -> dict[str, tuple[str | None, int]]:
    views = [
        view async for view in PipelineConfigReadApi(config).scan_iter(segments=2)
        if (view.pipeline_id or "").startswith(uid)
    ]  # fmt: skip
    return {str(view.pipeline_id): (view.description, int(view.version or 0)) for view in views}


async def test_in_place_every_item_once_and_a_finished_checkpoint_does_nothing(
    own_tables: DynamoDBConfig, uid: str, tmp_path: Path
) -> None:
    config = own_tables
    writes = PipelineConfigWriteApi(config)
    await writes.batch_upsert(pipelines(uid, 300))
    await writes.batch_upsert(  # items the transform leaves alone
        [PipelineConfigUpsert(pipeline_id=f"{uid}-x{n}", pipeline_name="n", source_type="s3",
                              destination_type="dw") for n in range(7)]
    )  # fmt: skip
    seen: list[int] = []
    checkpoint = tmp_path / "backfill.json"
    reads = PipelineConfigReadApi(config)
    result = await backfill(
        reads, bump, writes, segments=4, page_size=25, checkpoint=str(checkpoint),
        progress=seen.append,
    )  # fmt: skip
    assert (result.read, result.transformed, result.unchanged, result.changed) == (307, 300, 7, 0)
    assert sum(seen) == 307
    after = await stored(config, uid)
    assert {after[f"{uid}-{n:04d}"] for n in range(300)} == {("1", 2)}
    assert {after[f"{uid}-x{n}"] for n in range(7)} == {(None, 1)}

    again = await backfill(reads, bump, writes, segments=4, page_size=25, checkpoint=checkpoint)
    assert (again.read, again.transformed) == (307, 300)  # the same job: done already
    assert await stored(config, uid) == after


class ChangesAnItemBeforeTheWrites(FileCheckpoint):
    """Saves like a file checkpoint; on the first save of pending writes, another writer
    (a raw boto3 client) changes one of those items, as a concurrent job would."""

    def __init__(self, path: Path, config: DynamoDBConfig, victim: str) -> None:
        super().__init__(path)
        self.victim = victim
        self.done = False
        self.client = boto3.client(
            "dynamodb", endpoint_url=config.endpoint_url, region_name=config.region_name,
            **config.credentials(),
        )  # fmt: skip
        self.table = config.table_name("pipeline_config")

    def save(self, state: dict[str, Any]) -> None:
        pending = [segment["pending"] for segment in state["segments"] if segment["pending"]]
        if not self.done and any(self.victim in json.dumps(p) for p in pending):
            self.done = True
            self.client.update_item(
                TableName=self.table,
                Key={"pipeline_id": {"S": self.victim}},
                UpdateExpression="SET description = :d, version = version + :one",
                ExpressionAttributeValues={":d": {"S": "theirs"}, ":one": {"N": "1"}},
            )
        super().save(state)


async def test_an_item_changed_after_it_was_read_is_reported_not_overwritten(
    own_tables: DynamoDBConfig, uid: str, tmp_path: Path
) -> None:
    config = own_tables
    writes = PipelineConfigWriteApi(config)
    await writes.batch_upsert(pipelines(uid, 40))
    victim = f"{uid}-0007"
    store = ChangesAnItemBeforeTheWrites(tmp_path / "c.json", config, victim)
    result = await backfill(
        PipelineConfigReadApi(config), bump, writes, segments=2, page_size=10, checkpoint=store
    )
    assert store.done
    assert (result.transformed, result.changed) == (39, 1)
    assert result.changed_keys == [{"pipeline_id": victim}]
    after = await stored(config, uid)
    assert after.pop(victim) == ("theirs", 2)  # their write stands
    assert set(after.values()) == {("1", 2)}


async def test_a_dry_run_writes_nothing_and_shows_what_would_change(
    own_tables: DynamoDBConfig, uid: str, tmp_path: Path
) -> None:
    config = own_tables
    writes = PipelineConfigWriteApi(config)
    await writes.batch_upsert(pipelines(uid, 30))
    checkpoint = tmp_path / "dry.json"
    result = await backfill(
        PipelineConfigReadApi(config), bump, writes, page_size=7, checkpoint=checkpoint,
        dry_run=True,
    )  # fmt: skip
    assert result.dry_run
    assert (result.read, result.would_change, result.transformed) == (30, 30, 0)
    assert len(result.sample) == 20
    key, updates = result.sample[0]
    assert str(key["pipeline_id"]).startswith(uid)
    assert updates == {"description": "1"}
    assert not checkpoint.exists()
    assert set((await stored(config, uid)).values()) == {("0", 1)}


async def test_a_copy_keeps_each_items_own_stamps_and_version(
    own_tables: DynamoDBConfig, uid: str
) -> None:
    config = own_tables
    await create_tables(config, [PipelineArchive])
    writes = PipelineConfigWriteApi(config)
    await writes.batch_upsert(pipelines(uid, 50))
    await writes.update(f"{uid}-0003", {"description": "edited"})  # version 2 now
    archive = PipelineArchiveWriteApi(config)

    def to_archive(view: PipelineConfigView) -> PipelineArchive | None:
        if not str(view.pipeline_id).startswith(uid):
            return None
        return PipelineArchive.model_validate(view.model_dump(exclude_none=True))

    result = sync.backfill(PipelineConfigReadApi(config), to_archive, archive, segments=3)
    assert isinstance(result, BackfillResult)
    assert result.transformed == 50
    ids = [f"{uid}-{n:04d}" for n in range(50)]
    source = await PipelineConfigReadApi(config).batch_get(ids)
    copies = await archive_views(config, ids)
    await delete_tables(config, [PipelineArchive])
    assert {str(v.pipeline_id): v.model_dump() for v in source} == copies
    assert copies[f"{uid}-0003"]["version"] == 2


class ArchiveReadApi(ReadApi[PipelineArchive, PipelineConfigView]):
    model = PipelineArchive
    view = PipelineConfigView


async def archive_views(config: DynamoDBConfig, ids: list[str]) -> dict[str, dict[str, Any]]:
    views = await ArchiveReadApi(config).batch_get(ids)
    return {str(v.pipeline_id): v.model_dump() for v in views}


# ------------------------------------------------------------------ killed and restarted
JOB = """
import sys
from dynamodb_wrapper_async import DynamoDBConfig
import dynamodb_wrapper_sync as sync

def bump(view):
    return {"description": str(int(view.description) + 1)}

config = DynamoDBConfig.from_env()
reads, writes = sync.PipelineConfigReadApi(config), sync.PipelineConfigWriteApi(config)
where = sys.argv[1]
if where.startswith("table:"):
    checkpoint = sync.TableCheckpoint(config, where.removeprefix("table:"))
else:
    checkpoint = where
result = sync.backfill(reads, bump, writes, segments=4, page_size=20, checkpoint=checkpoint)
print(result.transformed, result.read)
"""


def last_save(config: DynamoDBConfig, where: str) -> object:
    """What changes with every save of the checkpoint: a file's mtime, an item's state."""
    if not where.startswith("table:"):
        path = Path(where)
        return path.stat().st_mtime_ns if path.exists() else None
    client = boto3.client(
        "dynamodb", endpoint_url=config.endpoint_url, region_name=config.region_name,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    item = client.get_item(
        TableName=config.table_name("backfill_checkpoints"),
        Key={"checkpoint_id": {"S": where.removeprefix("table:")}},
        ConsistentRead=True,
    ).get("Item")
    return None if item is None else item["state"]["S"]  # the counts change on every save


@pytest.mark.parametrize("kind", ["file", "table"])
async def test_a_job_killed_at_random_points_finishes_with_every_item_once(
    own_tables: DynamoDBConfig, uid: str, tmp_path: Path, kind: str
) -> None:
    """With its checkpoint in a file, or in an item of the backfill_checkpoints table."""
    config = own_tables
    if config.table_prefix.startswith("t_moto_"):
        pytest.skip("one backend is enough for this slow test: DynamoDB Local")
    count = 400
    await PipelineConfigWriteApi(config).batch_upsert(pipelines(uid, count))
    if kind == "table":
        await create_tables(config, [BackfillCheckpoint])
    where = f"table:{uid}" if kind == "table" else str(tmp_path / "killed.json")
    script = tmp_path / "job.py"
    script.write_text(JOB)
    environment = {
        **os.environ,
        "DYNAMODB_ENDPOINT_URL": str(config.endpoint_url),
        "DYNAMODB_TABLE_PREFIX": config.table_prefix,
        "AWS_REGION": config.region_name,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    rng = random.Random(uid)
    kills = 0
    for _ in range(60):
        before = last_save(config, where)
        job = subprocess.Popen(  # noqa: ASYNC220 - the test waits on it on purpose
            [sys.executable, str(script), where], env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        # kill it once it has saved progress (so every round makes some), at a random moment
        while job.poll() is None and last_save(config, where) in (None, before):
            time.sleep(0.005)  # noqa: ASYNC251 - polling a child process
        if job.poll() is None:
            time.sleep(rng.uniform(0, 0.25))  # noqa: ASYNC251
        if job.poll() is None:
            job.send_signal(signal.SIGKILL)
            job.communicate()
            kills += 1
            continue
        out, err = job.communicate()
        assert job.returncode == 0, err.decode()
        break
    else:
        pytest.fail("the job never finished")
    assert kills >= 2, "the job finished before it could be killed twice: make it longer"
    after = await stored(config, uid)
    assert len(after) == count
    assert set(after.values()) == {("1", 2)}, {k: v for k, v in after.items() if v != ("1", 2)}
    transformed, read = map(int, out.split())
    assert (transformed, read) == (count, count)  # counted once each, over every run


async def test_a_table_checkpoint_saves_loads_and_refuses_what_is_not_one(
    own_tables: DynamoDBConfig, uid: str, raw_client: Any
) -> None:
    config = own_tables
    await create_tables(config, [BackfillCheckpoint])
    store = TableCheckpoint(config, uid)
    assert await store.load() is None
    await store.save({"segments": [{"token": "abc", "read": 3}], "n": 1})
    assert await store.load() == {"segments": [{"token": "abc", "read": 3}], "n": 1}
    await store.save({"n": 2})  # replaced, not merged
    assert await store.load() == {"n": 2}
    raw_client.put_item(
        TableName=config.table_name("backfill_checkpoints"),
        Item={"checkpoint_id": {"S": f"{uid}-bad"}, "state": {"S": "[1, 2]"}},
    )
    with pytest.raises(ValidationError, match="does not hold a backfill checkpoint"):
        await TableCheckpoint(config, f"{uid}-bad").load()
    with pytest.raises(ValidationError, match="checkpoint_id"):
        TableCheckpoint(config, "")


async def test_a_backfill_resumes_from_a_table_checkpoint_and_a_finished_one_does_nothing(
    own_tables: DynamoDBConfig, uid: str
) -> None:
    config = own_tables
    await create_tables(config, [BackfillCheckpoint])
    await PipelineConfigWriteApi(config).batch_upsert(pipelines(uid, 60))
    reads, writes = PipelineConfigReadApi(config), PipelineConfigWriteApi(config)
    store = TableCheckpoint(config, uid)
    first = await backfill(reads, bump, writes, segments=2, page_size=10, checkpoint=store)
    assert (first.read, first.transformed) == (60, 60)
    again = await backfill(reads, bump, writes, segments=2, page_size=10, checkpoint=store)
    assert (again.read, again.transformed) == (60, 60)  # the totals of the finished job
    assert set((await stored(config, uid)).values()) == {("1", 2)}


async def test_a_backfill_keeps_within_its_capacity_budget(
    own_tables: DynamoDBConfig, uid: str
) -> None:
    """60 one-unit writes at 20 write units per second, from an empty bucket: at least 3 s
    (a busy machine can only make it slower); every item still transformed once."""
    config = own_tables
    if config.table_prefix.startswith("t_moto_"):
        pytest.skip("moto reports no real consumed capacity; DynamoDB Local does")
    await PipelineConfigWriteApi(config).batch_upsert(pipelines(uid, 60))
    reads, writes = PipelineConfigReadApi(config), PipelineConfigWriteApi(config)
    budget = CapacityBudget(write_units=20)
    started = asyncio.get_running_loop().time()
    result = await backfill(reads, bump, writes, segments=2, page_size=10, capacity=budget)
    elapsed = asyncio.get_running_loop().time() - started
    assert (result.read, result.transformed) == (60, 60)
    assert elapsed >= 60 / 20 - 1 / 20  # the last write may start as its unit arrives
    assert set((await stored(config, uid)).values()) == {("1", 2)}
