"""A Spark job's budget split across its concurrent tasks (pure: no Spark needed)."""

from __future__ import annotations

import pytest

from dynamodb_wrapper_async import CapacityBudget, DynamoDBConfig
from dynamodb_wrapper_sync.spark._capacity import (
    concurrent_tasks,
    job_budget,
    task_budget,
    task_config,
)
from dynamodb_wrapper_sync.spark._options import SourceOptions


@pytest.mark.parametrize(
    ("partitions", "parallelism", "tasks"), [(4, 8, 4), (8, 4, 4), (1, 4, 1), (0, 4, 1)]
)
def test_the_tasks_that_share_a_budget_are_those_that_run_at_once(
    partitions: int, parallelism: int, tasks: int
) -> None:
    assert concurrent_tasks(partitions, parallelism) == tasks


def test_each_task_gets_its_share_of_every_rate() -> None:
    share = task_budget(CapacityBudget(write_percent=50, read_units=100), 4)
    assert share == CapacityBudget(write_percent=12.5, read_units=25)
    assert task_budget(None, 4) is None


def test_the_job_budget_is_the_calls_else_the_configs() -> None:
    config = DynamoDBConfig(write_capacity_percent=40)
    assert job_budget(config, None) == CapacityBudget(write_percent=40)
    assert job_budget(config, CapacityBudget(read_units=5)) == CapacityBudget(read_units=5)
    assert job_budget(DynamoDBConfig(), None) is None


def test_a_task_config_carries_its_share_of_the_budget() -> None:
    config = DynamoDBConfig(max_write_units_per_second=100, read_capacity_percent=20)
    shared = task_config(config, 4)
    assert shared.max_write_units_per_second == 25
    assert shared.read_capacity_percent == 5
    assert task_config(DynamoDBConfig(), 4) == DynamoDBConfig()


def test_the_data_source_takes_budget_options() -> None:
    options = SourceOptions.parse(
        {"model": "dynamodb_wrapper_async:PipelineRunLog", "write_capacity_percent": "50"}
    )
    assert options.config().write_capacity_percent == 50
