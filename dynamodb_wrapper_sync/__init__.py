"""dynamodb-wrapper, blocking facade: the async core run on one loop thread per process.

Every class and method has the same name as in ``dynamodb_wrapper_async``; methods block and
``*_iter`` methods return a :class:`SyncItemStream` (a plain, closeable iterator). Models,
config and exceptions are the very same objects as the core's, so
``except dynamodb_wrapper_sync.ConflictError`` catches core errors. Safe from Jupyter (a
running loop in the calling thread), from many threads and in forked PySpark workers.
"""

from dynamodb_wrapper_async import Append as Append
from dynamodb_wrapper_async import BackfillCheckpoint as BackfillCheckpoint
from dynamodb_wrapper_async import BackfillResult as BackfillResult
from dynamodb_wrapper_async import BatchResult as BatchResult
from dynamodb_wrapper_async import CapacityBudget as CapacityBudget
from dynamodb_wrapper_async import CapacityUnits as CapacityUnits
from dynamodb_wrapper_async import ConsumedCapacity as ConsumedCapacity
from dynamodb_wrapper_async import Delete as Delete
from dynamodb_wrapper_async import FileCheckpoint as FileCheckpoint
from dynamodb_wrapper_async import Increment as Increment
from dynamodb_wrapper_async import Page as Page
from dynamodb_wrapper_async import TableCheckpoint as TableCheckpoint
from dynamodb_wrapper_async import TableInfo as TableInfo
from dynamodb_wrapper_async import TransactAction as TransactAction
from dynamodb_wrapper_async import TransactGet as TransactGet
from dynamodb_wrapper_async.config import DynamoDBConfig as DynamoDBConfig
from dynamodb_wrapper_async.exceptions import BatchWriteError as BatchWriteError
from dynamodb_wrapper_async.exceptions import CapacityError as CapacityError
from dynamodb_wrapper_async.exceptions import ConflictError as ConflictError
from dynamodb_wrapper_async.exceptions import ConnectionError as ConnectionError
from dynamodb_wrapper_async.exceptions import DynamoDBWrapperError as DynamoDBWrapperError
from dynamodb_wrapper_async.exceptions import ItemNotFoundError as ItemNotFoundError
from dynamodb_wrapper_async.exceptions import RetryableError as RetryableError
from dynamodb_wrapper_async.exceptions import TableNotFoundError as TableNotFoundError
from dynamodb_wrapper_async.exceptions import ValidationError as ValidationError
from dynamodb_wrapper_async.local import EmbeddedDynamoDB as EmbeddedDynamoDB
from dynamodb_wrapper_async.models import GSI as GSI
from dynamodb_wrapper_async.models import LSI as LSI
from dynamodb_wrapper_async.models import Capacity as Capacity
from dynamodb_wrapper_async.models import DynamoModel as DynamoModel
from dynamodb_wrapper_async.models import PipelineConfig as PipelineConfig
from dynamodb_wrapper_async.models import PipelineConfigUpsert as PipelineConfigUpsert
from dynamodb_wrapper_async.models import PipelineConfigView as PipelineConfigView
from dynamodb_wrapper_async.models import PipelineRunLog as PipelineRunLog
from dynamodb_wrapper_async.models import PipelineRunLogUpsert as PipelineRunLogUpsert
from dynamodb_wrapper_async.models import PipelineRunLogView as PipelineRunLogView
from dynamodb_wrapper_async.models import RunStatus as RunStatus
from dynamodb_wrapper_async.models import TableConfig as TableConfig
from dynamodb_wrapper_async.models import TableConfigUpsert as TableConfigUpsert
from dynamodb_wrapper_async.models import TableConfigView as TableConfigView
from dynamodb_wrapper_async.models import UtcDateTime as UtcDateTime
from dynamodb_wrapper_async.models import ViewModel as ViewModel
from dynamodb_wrapper_async.models import WriteModel as WriteModel

from ._bridge import SyncItemStream as SyncItemStream
from .backfill import backfill as backfill
from .generic import ReadApi as ReadApi
from .generic import WriteApi as WriteApi
from .read import PipelineConfigReadApi as PipelineConfigReadApi
from .read import PipelineRunLogsReadApi as PipelineRunLogsReadApi
from .read import TableConfigReadApi as TableConfigReadApi
from .tables import create_tables as create_tables
from .tables import delete_tables as delete_tables
from .write import PipelineConfigWriteApi as PipelineConfigWriteApi
from .write import PipelineRunLogsWriteApi as PipelineRunLogsWriteApi
from .write import TableConfigWriteApi as TableConfigWriteApi

__all__ = [
    "GSI",
    "LSI",
    "Append",
    "BackfillCheckpoint",
    "BackfillResult",
    "BatchResult",
    "BatchWriteError",
    "Capacity",
    "CapacityBudget",
    "CapacityError",
    "CapacityUnits",
    "ConflictError",
    "ConnectionError",
    "ConsumedCapacity",
    "Delete",
    "DynamoDBConfig",
    "DynamoDBWrapperError",
    "DynamoModel",
    "EmbeddedDynamoDB",
    "FileCheckpoint",
    "Increment",
    "ItemNotFoundError",
    "Page",
    "PipelineConfig",
    "PipelineConfigReadApi",
    "PipelineConfigUpsert",
    "PipelineConfigView",
    "PipelineConfigWriteApi",
    "PipelineRunLog",
    "PipelineRunLogUpsert",
    "PipelineRunLogView",
    "PipelineRunLogsReadApi",
    "PipelineRunLogsWriteApi",
    "ReadApi",
    "RetryableError",
    "RunStatus",
    "SyncItemStream",
    "TableCheckpoint",
    "TableConfig",
    "TableConfigReadApi",
    "TableConfigUpsert",
    "TableConfigView",
    "TableConfigWriteApi",
    "TableInfo",
    "TableNotFoundError",
    "TransactAction",
    "TransactGet",
    "UtcDateTime",
    "ValidationError",
    "ViewModel",
    "WriteApi",
    "WriteModel",
    "backfill",
    "create_tables",
    "delete_tables",
]
__version__ = "0.1.0"
