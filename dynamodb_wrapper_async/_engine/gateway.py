"""The only caller of the wire: one request through the pooled ``Sender``, translated, retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio

from .. import _telemetry
from .._types import Response
from .._wire.errors import error_code, is_retryable, may_have_been_applied, translate
from .._wire.pool import close_clients, get_sender
from ..config import DynamoDBConfig
from .retry import RetryBudget, RetryPolicy

if TYPE_CHECKING:
    from .capacity import Charge, Reservation

logger = logging.getLogger("dynamodb_wrapper")

R = TypeVar("R")

__all__ = ["call", "call_converted", "close_clients", "retry_policy"]


def retry_policy(config: DynamoDBConfig) -> RetryPolicy:
    """Return the retry policy a config asks for."""
    return RetryPolicy(max_retries=config.max_retries, deadline=config.retry_deadline)


async def call(
    config: DynamoDBConfig,
    operation: str,
    params: Mapping[str, Any],
    *,
    table: str | None = None,
    key: Mapping[str, Any] | None = None,
    retry: bool = True,
    retry_params: Mapping[str, Any] | None = None,
    budget: RetryBudget | None = None,
    capacity: Charge | None = None,
    reserved: Reservation | None = None,
) -> Response:
    """Send one DynamoDB request; retry throttling, 5xx and broken connections.

    Retries use exponential backoff with full jitter, bounded by ``config.max_retries``
    (retries in a row) and ``config.retry_deadline`` (the whole call, from its start, on the
    event loop's clock). Every failure leaves as one of our exceptions, raised from the
    botocore error. Each attempt is a ``DynamoDB.<Operation>`` span when OpenTelemetry is
    configured (``_telemetry``).

    ``retry_params`` is the request to send instead once an attempt has failed in a way that
    may have been applied on the server (a 5xx or a broken connection): a write that is not
    idempotent passes a variant whose condition fails if its earlier attempt was applied, so
    it never applies twice and can recognise its own write.

    ``budget`` lets a caller that retries too (the batch engine, on unprocessed items) share
    one count of retries and one deadline with these retries. An attempt that could outlast
    the deadline is cut off at it, so the call ends within ``retry_deadline``.

    ``capacity`` charges every attempt to a capacity budget: it waits for the charge's
    estimate of its units before it is sent, a wait the deadline does not count, and is
    corrected with the ConsumedCapacity DynamoDB reports. ``reserved``: the caller waited
    for the first attempt's units already (and later attempts take as many).
    """
    response: Response = await _call(
        config, operation, params, None, table=table, key=key, retry=retry,
        retry_params=retry_params, budget=budget,
        capacity=capacity, reserved=reserved,
    )  # fmt: skip
    return response


async def call_converted(
    config: DynamoDBConfig,
    operation: str,
    params: Mapping[str, Any],
    convert: Callable[[Response], R],
    *,
    table: str | None = None,
    budget: RetryBudget | None = None,
    capacity: Charge | None = None,
) -> R:
    """As :func:`call`, but return ``convert(response)``, computed as the body is parsed
    with the garbage collector paused (see ``_gc_pause``): for pages of items."""
    return cast(
        R,
        await _call(
            config, operation, params, convert, table=table, budget=budget,
            capacity=capacity,
        ),
    )  # fmt: skip


async def _call(  # noqa: PLR0912 - one loop: capacity, telemetry and retries
    config: DynamoDBConfig,
    operation: str,
    params: Mapping[str, Any],
    convert: Callable[[Response], Any] | None,
    *,
    table: str | None = None,
    key: Mapping[str, Any] | None = None,
    retry: bool = True,
    retry_params: Mapping[str, Any] | None = None,
    budget: RetryBudget | None = None,
    capacity: Charge | None = None,
    reserved: Reservation | None = None,
) -> Any:
    budget = budget or RetryBudget(retry_policy(config))  # the deadline counts from here
    pooled = await get_sender(config)
    sender = pooled.sender
    estimate = 0.0
    if capacity is not None:
        params, retry_params, convert = _metered(params, retry_params, convert)
        estimate = reserved.units if reserved else capacity.estimate(operation, params)
    probe = _telemetry.request(config, operation, params, table)  # None: OTel not in use
    send = convert
    slowest_attempt = config.connect_timeout + config.read_timeout
    while True:
        if capacity is not None and reserved is None:
            reserved = await capacity.acquire(estimate)
            budget.waited(reserved.waited)
        try:
            async with pooled.limit:
                if probe is not None:
                    send = probe.attempt(budget.attempts, params, convert)
                remaining = budget.remaining
                if remaining > slowest_attempt:
                    response = await sender.send(operation, params, send)
                else:  # cut off at the deadline: raises TimeoutError, retried like one
                    with anyio.fail_after(max(remaining, 0.001)):
                        response = await sender.send(operation, params, send)
        except Exception as exc:
            if capacity is not None and reserved is not None:
                capacity.settle(None, reserved)  # nothing reported: nothing charged
                reserved = None
            delay = budget.next_delay() if retry and is_retryable(exc) else None
            if probe is not None:
                probe.failed(exc, error_code(exc), retried=delay is not None)
            if delay is not None and retry_params is not None and may_have_been_applied(exc):
                params = retry_params
            if delay is None:
                raise translate(
                    exc, operation=operation, table=table, key=key, retries=budget.attempts
                ) from exc
            logger.debug(
                "retrying %s on %s after %s (retry %d, sleeping %.3fs)",
                operation,
                table,
                error_code(exc) or type(exc).__name__,
                budget.attempts,
                delay,
            )
            await asyncio.sleep(delay)
        except BaseException:  # cancelled: the attempt's span ends too
            if probe is not None:
                probe.cancelled()
            raise
        else:
            if probe is not None:
                probe.succeeded()
            if capacity is None or reserved is None:
                return response
            return _settle(capacity, response, reserved, converted=convert is not None)


def _settle(capacity: Charge, response: Any, reserved: Reservation, *, converted: bool) -> Any:
    """Charge what the answer reports consumed; return the answer (or its conversion)."""
    if not converted:
        capacity.settle(response, reserved)
        return response
    result, consumed = response
    capacity.settle(consumed, reserved)
    return result


def _charged_part(response: Response) -> dict[str, Any]:
    """What a capacity charge reads of an answer (the rest is converted and dropped)."""
    return {name: response.get(name) for name in ("ConsumedCapacity", "ScannedCount")}


def _metered(
    params: Mapping[str, Any],
    retry_params: Mapping[str, Any] | None,
    convert: Callable[[Response], Any] | None,
) -> tuple[Mapping[str, Any], Mapping[str, Any] | None, Callable[[Response], Any] | None]:
    """Ask for ConsumedCapacity; a converted answer keeps it next to the conversion."""
    ask = {"ReturnConsumedCapacity": "INDEXES"}
    metered = None
    if convert is not None:
        inner = convert

        def metered(response: Response) -> tuple[Any, Any]:
            return inner(response), _charged_part(response)

    return (
        {**params, **ask},
        None if retry_params is None else {**retry_params, **ask},
        metered,
    )
