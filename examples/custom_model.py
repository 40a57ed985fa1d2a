"""A fourth table of your own: declare a model with Meta, get async and sync APIs for free.

Run: python examples/custom_model.py   (embedded local DynamoDB unless DYNAMODB_ENDPOINT_URL)
"""

from __future__ import annotations

import asyncio

from _common import example_backend

from dynamodb_wrapper_async import (
    GSI,
    DynamoDBConfig,
    DynamoModel,
    ReadApi,
    UtcDateTime,
    ViewModel,
    WriteApi,
    WriteModel,
    close_clients,
)
from dynamodb_wrapper_async import create_tables as acreate_tables
from dynamodb_wrapper_sync import ReadApi as SyncReadApi


class Dataset(DynamoModel):
    dataset_id: str
    owner: str
    rows: int = 0
    shared: bool = False
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int = 1

    class Meta:
        table_name = "datasets"
        partition_key = "dataset_id"
        gsis = (GSI("OwnerIndex", partition_key="owner", sort_key="rows"),)


class DatasetView(ViewModel):
    dataset_id: str | None = None
    owner: str | None = None
    rows: int | None = None
    shared: bool | None = None
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    version: int | None = None


class DatasetUpsert(WriteModel):
    dataset_id: str
    owner: str
    rows: int = 0
    shared: bool = False


class DatasetReadApi(ReadApi[Dataset, DatasetView]):
    model = Dataset
    view = DatasetView


class DatasetWriteApi(WriteApi[Dataset, DatasetUpsert]):
    model = Dataset
    upsert_model = DatasetUpsert


async def load(config: DynamoDBConfig) -> None:
    await acreate_tables(config, [Dataset])
    writes = DatasetWriteApi(config)
    for n, owner in enumerate(["ana", "ana", "bo"]):
        await writes.upsert(DatasetUpsert(dataset_id=f"ds-{n}", owner=owner, rows=100 * (n + 1)))
    updated = await writes.update("ds-0", {"shared": True}, expected_version=1)
    print(f"async: ds-0 shared={updated.shared} version={updated.version}")
    await close_clients()  # this event loop ends here: close the clients pooled on it


def main() -> None:
    with example_backend() as config:
        asyncio.run(load(config))
        datasets = SyncReadApi(DatasetReadApi(config))  # the blocking twin, no new plumbing
        big, _ = datasets.query_by_composite_key_range("owner", "ana", "rows", "gte", 150)
        print(f"sync: ana's datasets with >= 150 rows: {[d.dataset_id for d in big]}")
        print(f"sync: ds-2 belongs to {datasets.get_by_id('ds-2').owner}")


if __name__ == "__main__":
    main()
