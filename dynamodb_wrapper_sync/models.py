"""Re-export of :mod:`dynamodb_wrapper_async.models` (the same classes)."""

from dynamodb_wrapper_async.models import GSI as GSI
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

__all__ = [
    "GSI",
    "DynamoModel",
    "PipelineConfig",
    "PipelineConfigUpsert",
    "PipelineConfigView",
    "PipelineRunLog",
    "PipelineRunLogUpsert",
    "PipelineRunLogView",
    "RunStatus",
    "TableConfig",
    "TableConfigUpsert",
    "TableConfigView",
    "UtcDateTime",
    "ViewModel",
    "WriteModel",
]
