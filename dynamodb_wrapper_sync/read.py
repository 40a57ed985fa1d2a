"""Blocking read APIs: the same names as ``dynamodb_wrapper_async``, one line per method."""

from __future__ import annotations

import dynamodb_wrapper_async as core

from ._bridge import Facade, blocking, blocking_iter, passthrough

__all__ = ["PipelineConfigReadApi", "PipelineRunLogsReadApi", "TableConfigReadApi"]


class PipelineConfigReadApi(Facade[core.PipelineConfigReadApi]):
    """Blocking twin of :class:`dynamodb_wrapper_async.PipelineConfigReadApi`."""

    def __init__(self, config: core.DynamoDBConfig) -> None:
        self.async_api = core.PipelineConfigReadApi(config)

    get_by_id = blocking(core.PipelineConfigReadApi.get_by_id)
    batch_get = blocking(core.PipelineConfigReadApi.batch_get)
    get_action = passthrough(core.PipelineConfigReadApi.get_action)
    transact_get = blocking(core.PipelineConfigReadApi.transact_get)
    scan = blocking(core.PipelineConfigReadApi.scan)
    scan_iter = blocking_iter(core.PipelineConfigReadApi.scan_iter)
    query_by_composite_key_range = blocking(core.PipelineConfigReadApi.query_by_composite_key_range)
    query_by_composite_key_range_iter = blocking_iter(
        core.PipelineConfigReadApi.query_by_composite_key_range_iter
    )
    query_active_pipelines = blocking(core.PipelineConfigReadApi.query_active_pipelines)
    query_active_pipelines_iter = blocking_iter(
        core.PipelineConfigReadApi.query_active_pipelines_iter
    )


class TableConfigReadApi(Facade[core.TableConfigReadApi]):
    """Blocking twin of :class:`dynamodb_wrapper_async.TableConfigReadApi`."""

    def __init__(self, config: core.DynamoDBConfig) -> None:
        self.async_api = core.TableConfigReadApi(config)

    get_by_id = blocking(core.TableConfigReadApi.get_by_id)
    batch_get = blocking(core.TableConfigReadApi.batch_get)
    get_action = passthrough(core.TableConfigReadApi.get_action)
    transact_get = blocking(core.TableConfigReadApi.transact_get)
    scan = blocking(core.TableConfigReadApi.scan)
    scan_iter = blocking_iter(core.TableConfigReadApi.scan_iter)
    query_by_composite_key_range = blocking(core.TableConfigReadApi.query_by_composite_key_range)
    query_by_composite_key_range_iter = blocking_iter(
        core.TableConfigReadApi.query_by_composite_key_range_iter
    )
    query_by_pipeline = blocking(core.TableConfigReadApi.query_by_pipeline)
    query_by_pipeline_iter = blocking_iter(core.TableConfigReadApi.query_by_pipeline_iter)
    query_recent_configs = blocking(core.TableConfigReadApi.query_recent_configs)
    query_recent_configs_iter = blocking_iter(core.TableConfigReadApi.query_recent_configs_iter)


class PipelineRunLogsReadApi(Facade[core.PipelineRunLogsReadApi]):
    """Blocking twin of :class:`dynamodb_wrapper_async.PipelineRunLogsReadApi`."""

    def __init__(self, config: core.DynamoDBConfig) -> None:
        self.async_api = core.PipelineRunLogsReadApi(config)

    get_by_id = blocking(core.PipelineRunLogsReadApi.get_by_id)
    batch_get = blocking(core.PipelineRunLogsReadApi.batch_get)
    get_action = passthrough(core.PipelineRunLogsReadApi.get_action)
    transact_get = blocking(core.PipelineRunLogsReadApi.transact_get)
    scan = blocking(core.PipelineRunLogsReadApi.scan)
    scan_iter = blocking_iter(core.PipelineRunLogsReadApi.scan_iter)
    query_by_composite_key_range = blocking(
        core.PipelineRunLogsReadApi.query_by_composite_key_range
    )
    query_by_composite_key_range_iter = blocking_iter(
        core.PipelineRunLogsReadApi.query_by_composite_key_range_iter
    )
    scan_for_all_runs = blocking(core.PipelineRunLogsReadApi.scan_for_all_runs)
    scan_for_all_runs_iter = blocking_iter(core.PipelineRunLogsReadApi.scan_for_all_runs_iter)
    query_by_status = blocking(core.PipelineRunLogsReadApi.query_by_status)
    query_by_status_iter = blocking_iter(core.PipelineRunLogsReadApi.query_by_status_iter)
    query_runs_for_pipeline = blocking(core.PipelineRunLogsReadApi.query_runs_for_pipeline)
    query_runs_for_pipeline_iter = blocking_iter(
        core.PipelineRunLogsReadApi.query_runs_for_pipeline_iter
    )
