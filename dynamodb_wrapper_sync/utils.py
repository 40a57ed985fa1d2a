"""Re-export of :mod:`dynamodb_wrapper_async.utils` (the same functions)."""

from dynamodb_wrapper_async.utils import to_user_timezone as to_user_timezone
from dynamodb_wrapper_async.utils import to_utc as to_utc
from dynamodb_wrapper_async.utils import utc_now as utc_now

__all__ = ["to_user_timezone", "to_utc", "utc_now"]
