"""Read APIs (the query side): the generic ReadApi and one class per domain."""

from ._base import Filters as Filters
from ._base import ReadApi as ReadApi
from ._transactions import TransactGet as TransactGet
from .pipeline_config import PipelineConfigReadApi as PipelineConfigReadApi
from .pipeline_run_logs import PipelineRunLogsReadApi as PipelineRunLogsReadApi
from .table_config import TableConfigReadApi as TableConfigReadApi

__all__ = [
    "Filters",
    "PipelineConfigReadApi",
    "PipelineRunLogsReadApi",
    "ReadApi",
    "TableConfigReadApi",
    "TransactGet",
]
