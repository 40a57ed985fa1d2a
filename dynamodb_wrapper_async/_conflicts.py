"""ConflictErrors restated for the caller's operation; cancelled transactions explained."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .exceptions import ConflictError

__all__ = ["cancelled_transaction", "restate_conflict"]


def restate_conflict(
    error: ConflictError,
    message: str,
    *,
    operation: str,
    table: str | None = None,
    key: Mapping[str, Any] | None = None,
    cancellation_reasons: Sequence[Mapping[str, Any]] | None = None,
) -> ConflictError:
    """Return DynamoDB's ``error`` restated for the caller's operation, keeping its context.

    The AWS code, request id, retry count and stored item (or the given
    ``cancellation_reasons``) stay; raise the result ``from error``.
    """
    reasons = error.cancellation_reasons if cancellation_reasons is None else cancellation_reasons
    return ConflictError(
        message, operation=operation, table=table, key=key, aws_code=error.aws_code,
        request_id=error.request_id, retries=error.retries, item=error.item,
        cancellation_reasons=reasons,
    )  # fmt: skip


def cancelled_transaction(
    error: ConflictError,
    operation: str,
    targets: Sequence[tuple[str, Mapping[str, Any]]],
) -> ConflictError:
    """Restate a cancelled transaction: each reason gains its part's ``table`` and ``key``
    (``targets``, in request order), and the message names the parts that failed."""
    reasons = [
        {**reason, "table": table, "key": dict(key)}
        for reason, (table, key) in zip(error.cancellation_reasons or (), targets, strict=False)
    ]
    failed = [
        f"#{n} {r['code']} on {r['table']}"
        for n, r in enumerate(reasons)
        if r.get("code") not in (None, "None")
    ]
    message = f"transaction cancelled: {', '.join(failed) or 'no reason given'}"
    return restate_conflict(error, message, operation=operation, cancellation_reasons=reasons)
