"""transact_write: up to 100 actions across tables, all or nothing, safe to retry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._conflicts import cancelled_transaction
from .._engine import gateway as _gateway
from .._engine.retry import RetryBudget
from .._keys import check_many
from ..config import DynamoDBConfig
from ..exceptions import ConflictError, ValidationError

__all__ = ["MAX_ACTIONS", "TransactAction", "transact"]

#: DynamoDB's limit of actions in one TransactWriteItems.
MAX_ACTIONS = 100


@dataclass(frozen=True)
class TransactAction:
    """One action of a transaction; build it with a write API's ``*_action`` methods.

    Attributes:
        kind: ``Put``, ``Update``, ``Delete`` or ``ConditionCheck``.
        table: The physical table name.
        key: The key of the item the action touches.
        params: The action's request (validated and encoded already).
        model: For a create, the full model that will be stored.
    """

    kind: Literal["Put", "Update", "Delete", "ConditionCheck"]
    table: str
    key: Mapping[str, Any]
    params: Mapping[str, Any] = field(repr=False)
    model: Any = field(default=None, repr=False)


async def transact(
    config: DynamoDBConfig,
    actions: Iterable[TransactAction],
    *,
    client_request_token: str | None = None,
    operation: str = "transact_write",
) -> None:
    """Apply every action or none (TransactWriteItems).

    One ClientRequestToken is used for the call and all of its retries, so a retry after an
    answer was lost cannot apply the transaction twice (DynamoDB keeps tokens for 10 minutes).
    A transaction cancelled only because another one was changing the same items
    (``TransactionConflict``) was not applied: unless the caller chose the token, it is sent
    again under a new token, within the config's retry budget.

    Raises:
        ValidationError: No actions, more than 100, two on the same item, or a bad token.
        ConflictError: The transaction was cancelled; ``cancellation_reasons`` has one entry
            per action, in order, with its ``code``, ``message``, ``table`` and ``key``.
    """
    check_many(actions, "TransactAction objects")
    chosen: list[object] = list(actions)
    if not 1 <= len(chosen) <= MAX_ACTIONS:
        msg = f"a transaction takes 1 to {MAX_ACTIONS} actions, got {len(chosen)}"
        raise ValidationError(msg, operation=operation)
    checked: list[TransactAction] = []
    seen: set[tuple[str, str]] = set()
    for action in chosen:
        if not isinstance(action, TransactAction):
            msg = f"transactions take TransactAction objects, got {type(action).__name__}"
            raise ValidationError(msg, operation=operation)
        checked.append(action)
        identity = (action.table, repr(sorted(action.key.items())))
        if identity in seen:
            msg = f"two actions on the same item of {action.table}: {dict(action.key)}"
            raise ValidationError(msg, operation=operation, table=action.table)
        seen.add(identity)
    token = client_request_token or uuid.uuid4().hex
    if not 1 <= len(token) <= 36:
        msg = "client_request_token must have 1 to 36 characters"
        raise ValidationError(msg, operation=operation)
    request = {
        "TransactItems": [{action.kind: dict(action.params)} for action in checked],
        "ClientRequestToken": token,
    }
    budget = RetryBudget(_gateway.retry_policy(config))  # one deadline for the whole call
    while True:
        try:
            await _gateway.call(config, "TransactWriteItems", request, budget=budget)
        except ConflictError as error:
            if not error.cancellation_reasons:
                raise
            retry = client_request_token is None and _only_conflicts(error)
            delay = budget.next_delay() if retry else None
            if delay is None:
                targets = [(action.table, action.key) for action in checked]
                raise cancelled_transaction(error, operation, targets) from error
            # This token's transaction was refused, not applied: a new token may apply it.
            request["ClientRequestToken"] = uuid.uuid4().hex
            await asyncio.sleep(delay)
        else:
            return


def _only_conflicts(error: ConflictError) -> bool:
    """Say whether a cancellation was due only to concurrent transactions on the items."""
    codes = {reason.get("code") for reason in error.cancellation_reasons} - {None, "None"}
    return codes == {"TransactionConflict"}
