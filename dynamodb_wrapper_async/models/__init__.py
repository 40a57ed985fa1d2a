"""Data models: full models (stored), views (read, any projection) and upsert DTOs (write)."""

from ._base import GSI as GSI
from ._base import LSI as LSI
from ._base import Capacity as Capacity
from ._base import DynamoModel as DynamoModel
from ._base import UtcDateTime as UtcDateTime
from ._base import ViewModel as ViewModel
from ._base import WriteModel as WriteModel
from .pipeline_config import PipelineConfig as PipelineConfig
from .pipeline_config import PipelineConfigUpsert as PipelineConfigUpsert
from .pipeline_config import PipelineConfigView as PipelineConfigView
from .pipeline_run_log import PipelineRunLog as PipelineRunLog
from .pipeline_run_log import PipelineRunLogUpsert as PipelineRunLogUpsert
from .pipeline_run_log import PipelineRunLogView as PipelineRunLogView
from .pipeline_run_log import RunStatus as RunStatus
from .table_config import TableConfig as TableConfig
from .table_config import TableConfigUpsert as TableConfigUpsert
from .table_config import TableConfigView as TableConfigView

__all__ = [
    "GSI",
    "LSI",
    "Capacity",
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
