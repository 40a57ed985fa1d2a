"""transact_get: up to 100 items across tables, read as one consistent snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._codec import decode_item
from .._conflicts import cancelled_transaction
from .._engine import gateway as _gateway
from ..config import DynamoDBConfig
from ..exceptions import ConflictError, ValidationError
from ..models import ViewModel

__all__ = ["MAX_GETS", "TransactGet", "transact_get"]

#: DynamoDB's limit of items in one TransactGetItems.
MAX_GETS = 100


@dataclass(frozen=True)
class TransactGet:
    """One read of a transactional read; build it with a read API's ``get_action``.

    Attributes:
        table: The physical table name.
        key: The key of the item to read.
        params: The ``Get`` request (key encoded, projection rendered).
        view: The view model the item is returned as.
    """

    table: str
    key: Mapping[str, Any]
    params: Mapping[str, Any] = field(repr=False)
    view: type[ViewModel] = field(repr=False)


async def transact_get(
    config: DynamoDBConfig, gets: Iterable[TransactGet]
) -> list[ViewModel | None]:
    """Read every item at once (TransactGetItems): one snapshot, no write half-seen.

    Returns one view per get, in order; ``None`` where the item does not exist.

    Raises:
        ValidationError: No gets, more than 100, two of the same item, or not ``TransactGet``s.
        ConflictError: DynamoDB cancelled the read (e.g. a transaction was writing an item);
            ``cancellation_reasons`` has one entry per get, with its ``table`` and ``key``.
    """
    if isinstance(gets, (str, bytes, Mapping)):
        msg = f"transact_get takes an iterable of TransactGet, got {type(gets).__name__}"
        raise ValidationError(msg, operation="transact_get")
    chosen: list[object] = list(gets)
    if not 1 <= len(chosen) <= MAX_GETS:
        msg = f"a transactional read takes 1 to {MAX_GETS} gets, got {len(chosen)}"
        raise ValidationError(msg, operation="transact_get")
    checked: list[TransactGet] = []
    seen: set[tuple[str, str]] = set()
    for position, get in enumerate(chosen):
        if not isinstance(get, TransactGet):
            msg = f"get #{position}: transact_get takes TransactGet objects (a read API's "
            msg += f"get_action), got {type(get).__name__}"
            raise ValidationError(msg, operation="transact_get")
        identity = (get.table, repr(sorted(get.key.items())))
        if identity in seen:  # DynamoDB refuses two operations on one item
            msg = f"get #{position}: the same item of {get.table} twice: {dict(get.key)}"
            raise ValidationError(msg, operation="transact_get", table=get.table, key=get.key)
        seen.add(identity)
        checked.append(get)
    request = {"TransactItems": [{"Get": dict(get.params)} for get in checked]}
    try:
        response = await _gateway.call(config, "TransactGetItems", request)
    except ConflictError as error:
        if not error.cancellation_reasons:
            raise
        targets = [(get.table, get.key) for get in checked]
        raise cancelled_transaction(error, "transact_get", targets) from error
    answers = response.get("Responses") or [{} for _ in checked]
    return [
        get.view.model_validate(decode_item(answer["Item"])) if answer.get("Item") else None
        for get, answer in zip(checked, answers, strict=True)
    ]
