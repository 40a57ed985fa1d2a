"""Blocking write APIs: the same names as ``dynamodb_wrapper_async``, one line per method."""

from __future__ import annotations

import dynamodb_wrapper_async as core

from ._bridge import Facade, blocking, passthrough

__all__ = ["PipelineConfigWriteApi", "PipelineRunLogsWriteApi", "TableConfigWriteApi"]


class PipelineConfigWriteApi(Facade[core.PipelineConfigWriteApi]):
    """Blocking twin of :class:`dynamodb_wrapper_async.PipelineConfigWriteApi`."""

    def __init__(self, config: core.DynamoDBConfig) -> None:
        self.async_api = core.PipelineConfigWriteApi(config)

    create = blocking(core.PipelineConfigWriteApi.create)
    upsert = blocking(core.PipelineConfigWriteApi.upsert)
    update = blocking(core.PipelineConfigWriteApi.update)
    delete = blocking(core.PipelineConfigWriteApi.delete)
    batch_upsert = blocking(core.PipelineConfigWriteApi.batch_upsert)
    batch_delete = blocking(core.PipelineConfigWriteApi.batch_delete)
    batch_write = blocking(core.PipelineConfigWriteApi.batch_write)
    transact_write = blocking(core.PipelineConfigWriteApi.transact_write)
    create_action = passthrough(core.PipelineConfigWriteApi.create_action)
    update_action = passthrough(core.PipelineConfigWriteApi.update_action)
    delete_action = passthrough(core.PipelineConfigWriteApi.delete_action)
    condition_check_action = passthrough(core.PipelineConfigWriteApi.condition_check_action)
    create_pipeline = blocking(core.PipelineConfigWriteApi.create_pipeline)
    upsert_pipeline = blocking(core.PipelineConfigWriteApi.upsert_pipeline)
    update_pipeline = blocking(core.PipelineConfigWriteApi.update_pipeline)
    delete_pipeline = blocking(core.PipelineConfigWriteApi.delete_pipeline)
    create_pipeline_with_tables = blocking(core.PipelineConfigWriteApi.create_pipeline_with_tables)


class TableConfigWriteApi(Facade[core.TableConfigWriteApi]):
    """Blocking twin of :class:`dynamodb_wrapper_async.TableConfigWriteApi`."""

    def __init__(self, config: core.DynamoDBConfig) -> None:
        self.async_api = core.TableConfigWriteApi(config)

    create = blocking(core.TableConfigWriteApi.create)
    upsert = blocking(core.TableConfigWriteApi.upsert)
    update = blocking(core.TableConfigWriteApi.update)
    delete = blocking(core.TableConfigWriteApi.delete)
    batch_upsert = blocking(core.TableConfigWriteApi.batch_upsert)
    batch_delete = blocking(core.TableConfigWriteApi.batch_delete)
    batch_write = blocking(core.TableConfigWriteApi.batch_write)
    transact_write = blocking(core.TableConfigWriteApi.transact_write)
    create_action = passthrough(core.TableConfigWriteApi.create_action)
    update_action = passthrough(core.TableConfigWriteApi.update_action)
    delete_action = passthrough(core.TableConfigWriteApi.delete_action)
    condition_check_action = passthrough(core.TableConfigWriteApi.condition_check_action)
    create_table_config = blocking(core.TableConfigWriteApi.create_table_config)
    upsert_table_config = blocking(core.TableConfigWriteApi.upsert_table_config)
    update_table_config = blocking(core.TableConfigWriteApi.update_table_config)
    delete_table_config = blocking(core.TableConfigWriteApi.delete_table_config)


class PipelineRunLogsWriteApi(Facade[core.PipelineRunLogsWriteApi]):
    """Blocking twin of :class:`dynamodb_wrapper_async.PipelineRunLogsWriteApi`."""

    def __init__(self, config: core.DynamoDBConfig) -> None:
        self.async_api = core.PipelineRunLogsWriteApi(config)

    create = blocking(core.PipelineRunLogsWriteApi.create)
    upsert = blocking(core.PipelineRunLogsWriteApi.upsert)
    update = blocking(core.PipelineRunLogsWriteApi.update)
    delete = blocking(core.PipelineRunLogsWriteApi.delete)
    batch_upsert = blocking(core.PipelineRunLogsWriteApi.batch_upsert)
    batch_delete = blocking(core.PipelineRunLogsWriteApi.batch_delete)
    batch_write = blocking(core.PipelineRunLogsWriteApi.batch_write)
    transact_write = blocking(core.PipelineRunLogsWriteApi.transact_write)
    create_action = passthrough(core.PipelineRunLogsWriteApi.create_action)
    update_action = passthrough(core.PipelineRunLogsWriteApi.update_action)
    delete_action = passthrough(core.PipelineRunLogsWriteApi.delete_action)
    condition_check_action = passthrough(core.PipelineRunLogsWriteApi.condition_check_action)
    create_run_log = blocking(core.PipelineRunLogsWriteApi.create_run_log)
    upsert_run_log = blocking(core.PipelineRunLogsWriteApi.upsert_run_log)
    update_run_log = blocking(core.PipelineRunLogsWriteApi.update_run_log)
    delete_run_log = blocking(core.PipelineRunLogsWriteApi.delete_run_log)
    start_run = blocking(core.PipelineRunLogsWriteApi.start_run)
    complete_run = blocking(core.PipelineRunLogsWriteApi.complete_run)
    add_run_progress = blocking(core.PipelineRunLogsWriteApi.add_run_progress)
