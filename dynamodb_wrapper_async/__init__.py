"""dynamodb-wrapper, asyncio core: CQRS read and write APIs over DynamoDB.

Every API method is a coroutine (``await api.get_by_id(...)``); every ``*_iter`` method
returns an :class:`ItemStream` for ``async for``. The blocking twin of each class, with the
same names, lives in ``dynamodb_wrapper_sync``.
"""

from ._backfill import AsyncCheckpointStore as AsyncCheckpointStore
from ._backfill import BackfillCheckpoint as BackfillCheckpoint
from ._backfill import BackfillResult as BackfillResult
from ._backfill import CheckpointStore as CheckpointStore
from ._backfill import FileCheckpoint as FileCheckpoint
from ._backfill import TableCheckpoint as TableCheckpoint
from ._backfill import Transform as Transform
from ._backfill import backfill as backfill
from ._capacity import CapacityBudget as CapacityBudget
from ._capacity import CapacityUnits as CapacityUnits
from ._capacity import ConsumedCapacity as ConsumedCapacity
from ._capacity import Page as Page
from ._codec import decode_item as decode_item
from ._engine.batch import BatchResult as BatchResult
from ._engine.progress import ProgressCallback as ProgressCallback
from ._markers import Append as Append
from ._markers import Increment as Increment
from ._schema import TableSchema as TableSchema
from ._stream import ItemStream as ItemStream
from ._wire.pool import close_clients as close_clients
from ._wire.pool import pool_stats as pool_stats
from .config import DynamoDBConfig as DynamoDBConfig
from .exceptions import BatchWriteError as BatchWriteError
from .exceptions import CapacityError as CapacityError
from .exceptions import ConflictError as ConflictError
from .exceptions import ConnectionError as ConnectionError
from .exceptions import DynamoDBWrapperError as DynamoDBWrapperError
from .exceptions import ItemNotFoundError as ItemNotFoundError
from .exceptions import RetryableError as RetryableError
from .exceptions import TableNotFoundError as TableNotFoundError
from .exceptions import ValidationError as ValidationError
from .local import EmbeddedDynamoDB as EmbeddedDynamoDB
from .models import GSI as GSI
from .models import LSI as LSI
from .models import Capacity as Capacity
from .models import DynamoModel as DynamoModel
from .models import PipelineConfig as PipelineConfig
from .models import PipelineConfigUpsert as PipelineConfigUpsert
from .models import PipelineConfigView as PipelineConfigView
from .models import PipelineRunLog as PipelineRunLog
from .models import PipelineRunLogUpsert as PipelineRunLogUpsert
from .models import PipelineRunLogView as PipelineRunLogView
from .models import RunStatus as RunStatus
from .models import TableConfig as TableConfig
from .models import TableConfigUpsert as TableConfigUpsert
from .models import TableConfigView as TableConfigView
from .models import UtcDateTime as UtcDateTime
from .models import ViewModel as ViewModel
from .models import WriteModel as WriteModel
from .read import PipelineConfigReadApi as PipelineConfigReadApi
from .read import PipelineRunLogsReadApi as PipelineRunLogsReadApi
from .read import ReadApi as ReadApi
from .read import TableConfigReadApi as TableConfigReadApi
from .read import TransactGet as TransactGet
from .tables import TableInfo as TableInfo
from .tables import create_tables as create_tables
from .tables import delete_tables as delete_tables
from .write import Delete as Delete
from .write import PipelineConfigWriteApi as PipelineConfigWriteApi
from .write import PipelineRunLogsWriteApi as PipelineRunLogsWriteApi
from .write import TableConfigWriteApi as TableConfigWriteApi
from .write import TransactAction as TransactAction
from .write import WriteApi as WriteApi

__all__ = [
    "GSI",
    "LSI",
    "Append",
    "AsyncCheckpointStore",
    "BackfillCheckpoint",
    "BackfillResult",
    "BatchResult",
    "BatchWriteError",
    "Capacity",
    "CapacityBudget",
    "CapacityError",
    "CapacityUnits",
    "CheckpointStore",
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
    "ItemStream",
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
    "ProgressCallback",
    "ReadApi",
    "RetryableError",
    "RunStatus",
    "TableCheckpoint",
    "TableConfig",
    "TableConfigReadApi",
    "TableConfigUpsert",
    "TableConfigView",
    "TableConfigWriteApi",
    "TableInfo",
    "TableNotFoundError",
    "TableSchema",
    "TransactAction",
    "TransactGet",
    "Transform",
    "UtcDateTime",
    "ValidationError",
    "ViewModel",
    "WriteApi",
    "WriteModel",
    "backfill",
    "close_clients",
    "create_tables",
    "decode_item",
    "delete_tables",
    "pool_stats",
]
__version__ = "0.1.0"
