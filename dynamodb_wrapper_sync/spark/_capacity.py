"""A Spark job's capacity budget, split across the tasks that run at once.

Every task is its own Python worker with its own token buckets, so a job whose tasks each
took the whole budget would take it as many times as tasks run together. Each task gets

    task budget = job budget / min(number of partitions, spark default parallelism)

(default parallelism: the cluster's total executor cores, the most tasks that run at once).
The job as a whole then stays within its budget; with more partitions than cores, later
tasks take the place of finished ones and the share still holds.
"""

from __future__ import annotations

from dataclasses import fields, replace

from dynamodb_wrapper_async import CapacityBudget, DynamoDBConfig

_CONFIG_FIELDS = (
    "read_capacity_percent",
    "write_capacity_percent",
    "max_read_units_per_second",
    "max_write_units_per_second",
)


def concurrent_tasks(partitions: int, parallelism: int) -> int:
    """How many tasks share the budget: ``min(partitions, parallelism)``, at least 1."""
    return max(1, min(partitions, parallelism))


def task_budget(budget: CapacityBudget | None, tasks: int) -> CapacityBudget | None:
    """One task's share of a job's ``budget`` (each rate divided by ``tasks``)."""
    if budget is None or tasks <= 1:
        return budget
    shares = {
        f.name: value / tasks
        for f in fields(budget)
        if (value := getattr(budget, f.name)) is not None
    }
    return replace(budget, **shares)


def job_budget(config: DynamoDBConfig, capacity: CapacityBudget | None) -> CapacityBudget | None:
    """The job's budget: ``capacity`` if given, else the one ``config`` sets (or None)."""
    if capacity is not None:
        return capacity
    values = [getattr(config, name) for name in _CONFIG_FIELDS]
    if all(value is None for value in values):
        return None
    read_percent, write_percent, read_units, write_units = values
    return CapacityBudget(read_percent, write_percent, read_units, write_units)


def task_config(config: DynamoDBConfig, tasks: int) -> DynamoDBConfig:
    """``config`` with its budget divided by ``tasks`` (as is without a budget)."""
    shares = {
        name: value / tasks
        for name in _CONFIG_FIELDS
        if (value := getattr(config, name)) is not None
    }
    if not shares or tasks <= 1:
        return config
    return config.model_copy(update=shares)
