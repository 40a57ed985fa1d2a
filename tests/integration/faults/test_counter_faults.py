"""Counters through the FaultProxy: an increment whose answer is lost applies exactly once.

"ambiguous_*" faults let DynamoDB Local apply the write, then answer 500 or reset the
connection; "server_error"/"reset" ones never reach it. The client cannot tell them apart.
``update_run_log``'s resend is stamp-guarded (conditioned on this call's own
``updated_at``): it fails if the first attempt was applied, and the call then returns the
item it wrote (exact for one writer of the item). ``add_run_progress`` and ``transact_write``
send a TransactWriteItems whose retries keep the call's ClientRequestToken, exact with any
number of concurrent writers. Every test uses the default config (only the endpoint goes
through the proxy). What is stored is read directly from DynamoDB Local with boto3.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest
from integration._counter_workers import add_progress
from integration.faults._fault_proxy import FaultProxy, plan

from dynamodb_wrapper_async import (
    Append,
    DynamoDBConfig,
    Increment,
    PipelineRunLogsWriteApi,
)

MakeConfig = Callable[..., DynamoDBConfig]
LOST = ["ambiguous_error", "ambiguous_reset", "server_error", "reset"]


def stored_run(raw: Any, config: DynamoDBConfig, run_id: str, pipeline_id: str) -> Any:
    item = raw.get_item(
        TableName=config.table_name("pipeline_run_logs"),
        Key={"run_id": {"S": run_id}, "pipeline_id": {"S": pipeline_id}},
        ConsistentRead=True,
    ).get("Item")
    assert item is not None
    return item


@pytest.mark.parametrize("how", LOST)
async def test_a_lost_progress_answer_applies_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    run_id = f"run-{uid}"
    await PipelineRunLogsWriteApi(config).start_run(run_id, uid)
    proxy.schedule(plan(operations={"UpdateItem"}, requests=1, **{how: 1.0}))

    run = await PipelineRunLogsWriteApi(via_proxy(config)).update_run_log(
        run_id,
        uid,
        {
            "records_processed": Increment(500),
            "metrics.rows": Increment(500),
            "metrics.warnings": Append(["late file"]),
        },
    )

    stats = proxy.stats()
    assert stats.faults[how] == 1
    assert stats.requests["UpdateItem"] == 2
    assert stats.forwarded["UpdateItem"] == (2 if how.startswith("ambiguous") else 1)
    assert run.version == 2
    assert run.records_processed == 500
    assert run.metrics == {"rows": 500, "warnings": ["late file"]}
    stored = stored_run(raw_client, config, run_id, uid)
    assert stored["records_processed"] == {"N": "500"}
    assert stored["metrics"]["M"]["warnings"]["L"] == [{"S": "late file"}]
    assert stored["version"] == {"N": "2"}


@pytest.mark.parametrize("how", LOST)
async def test_a_lost_add_run_progress_answer_applies_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    """add_run_progress is a one-action transaction: its retry reuses the token."""
    run_id = f"run-{uid}"
    await PipelineRunLogsWriteApi(config).start_run(run_id, uid)
    proxy.schedule(plan(operations={"TransactWriteItems"}, requests=1, **{how: 1.0}))

    await PipelineRunLogsWriteApi(via_proxy(config)).add_run_progress(
        run_id, uid, records_processed=500, metrics={"rows": 500}
    )

    stats = proxy.stats()
    assert stats.faults[how] == 1
    assert stats.requests["TransactWriteItems"] == 2
    assert stats.forwarded["TransactWriteItems"] == (2 if how.startswith("ambiguous") else 1)
    assert stats.requests["UpdateItem"] == 0
    stored = stored_run(raw_client, config, run_id, uid)
    assert stored["records_processed"] == {"N": "500"}
    assert stored["metrics"]["M"]["rows"] == {"N": "500"}
    assert stored["version"] == {"N": "2"}


@pytest.mark.timeout(240)
async def test_200_increments_under_ambiguous_faults_each_apply_exactly_once(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, raw_client: Any, uid: str
) -> None:
    """A third of the writes lose their answer (half of those after being applied): with
    the default config the counts end exact and the version is up once per call."""
    calls, step = 200, 3
    run_id = f"run-{uid}"
    await PipelineRunLogsWriteApi(config).start_run(run_id, uid)
    writes = PipelineRunLogsWriteApi(via_proxy(config))  # the default retries and deadline
    proxy.configure(
        operations={"UpdateItem", "TransactWriteItems"},
        ambiguous_error=0.10,
        ambiguous_reset=0.10,
        server_error=0.05,
        reset=0.05,
    )

    versions = []
    for n in range(calls):
        if n % 2:
            await writes.add_run_progress(
                run_id, uid, records_processed=step, records_failed=1, metrics={"rows": step}
            )
        else:
            run = await writes.update_run_log(
                run_id,
                uid,
                {
                    "records_processed": Increment(step),
                    "records_failed": Increment(1),
                    "metrics.rows": Increment(step),
                },
            )
            versions.append(run.version)

    stats = proxy.stats()
    applied_then_lost = stats.faults["ambiguous_error"] + stats.faults["ambiguous_reset"]
    assert applied_then_lost >= 20  # ~40 expected: the resend path was really taken
    assert stats.faults["server_error"] + stats.faults["reset"] >= 5
    assert stats.requests["TransactWriteItems"] > calls // 2  # some were retried
    stored = stored_run(raw_client, config, run_id, uid)
    assert stored["records_processed"] == {"N": str(calls * step)}
    assert stored["records_failed"] == {"N": str(calls)}
    assert stored["metrics"]["M"]["rows"] == {"N": str(calls * step)}
    assert stored["version"] == {"N": str(calls + 1)}
    assert versions == list(range(2, calls + 2, 2))  # each update_run_log returned its own


WRITERS, CALLS = 4, 50


@pytest.mark.timeout(300)
@pytest.mark.parametrize("transaction", [False, True], ids=["add_run_progress", "transact_write"])
async def test_concurrent_writers_under_ambiguous_faults_apply_each_increment_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    transaction: bool,
) -> None:
    """4 spawned processes x 50 increments of one run log at once (by add_run_progress, or
    by transact_write of an update_action), 30% of the answers lost after the write was
    applied: each resend reuses its call's token, so nothing applies twice (the default
    config; only the endpoint goes through the proxy)."""
    run_id = f"run-{uid}"
    await PipelineRunLogsWriteApi(config).start_run(run_id, uid)
    faulty = via_proxy(config)
    proxy.configure(operations={"TransactWriteItems"}, ambiguous_error=0.15, ambiguous_reset=0.15)

    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        results = [
            pool.apply_async(add_progress, (faulty, run_id, uid, CALLS, transaction))
            for _ in range(WRITERS)
        ]
        for result in results:
            result.get(timeout=240)

    stats = proxy.stats()
    applied_then_lost = stats.faults["ambiguous_error"] + stats.faults["ambiguous_reset"]
    assert applied_then_lost >= 30  # ~60 expected: many resends really happened
    assert stats.requests["UpdateItem"] == 0
    stored = stored_run(raw_client, config, run_id, uid)
    assert stored["records_processed"] == {"N": str(WRITERS * CALLS)}
    assert stored["version"] == {"N": str(WRITERS * CALLS + 1)}
