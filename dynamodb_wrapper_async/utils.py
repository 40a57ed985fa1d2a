"""Time helpers: store in UTC, show in the user's time zone (IANA names via zoneinfo)."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import DynamoDBConfig
from .exceptions import ValidationError

__all__ = ["to_user_timezone", "to_utc", "utc_now"]


def utc_now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.timezone.utc)


def to_utc(moment: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC.

    Raises:
        ValidationError: ``moment`` is naive (its zone would be a guess).
    """
    given: object = moment
    if not isinstance(given, dt.datetime):
        msg = f"expected a datetime, got {type(moment).__name__}"
        raise ValidationError(msg)
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = "naive datetime: give a timezone, e.g. datetime(..., tzinfo=timezone.utc)"
        raise ValidationError(msg)
    try:
        return moment.astimezone(dt.timezone.utc)
    except OverflowError:
        msg = "datetime is out of range once converted to UTC"
        raise ValidationError(msg) from None


def to_user_timezone(
    moment: dt.datetime, tz_name: str | DynamoDBConfig | None = None
) -> dt.datetime:
    """Convert an aware datetime to the user's time zone for display.

    Args:
        moment: An aware datetime (naive ones are rejected).
        tz_name: An IANA zone name such as ``"America/New_York"``, or a config whose
            ``user_timezone`` applies. Default: ``$DYNAMODB_USER_TIMEZONE``, else UTC.

    Raises:
        ValidationError: ``moment`` is naive or the zone is unknown.
    """
    if isinstance(tz_name, DynamoDBConfig):
        tz_name = tz_name.user_timezone
    name = tz_name or os.environ.get("DYNAMODB_USER_TIMEZONE") or "UTC"
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown IANA time zone {name!r}"
        raise ValidationError(msg) from None
    return to_utc(moment).astimezone(zone)
