"""Write APIs (the command side): the generic WriteApi and one class per domain."""

from ._base import Delete as Delete
from ._base import WriteApi as WriteApi
from ._transactions import TransactAction as TransactAction
from .pipeline_config import PipelineConfigWriteApi as PipelineConfigWriteApi
from .pipeline_run_logs import PipelineRunLogsWriteApi as PipelineRunLogsWriteApi
from .table_config import TableConfigWriteApi as TableConfigWriteApi

__all__ = [
    "Delete",
    "PipelineConfigWriteApi",
    "PipelineRunLogsWriteApi",
    "TableConfigWriteApi",
    "TransactAction",
    "WriteApi",
]
