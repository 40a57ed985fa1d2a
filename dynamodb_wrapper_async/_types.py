"""Shared aliases and the narrow Protocol of the client surface we use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
Response = dict[str, Any]
ClientCall = Callable[..., Awaitable[Response]]


class DynamoDBClient(Protocol):
    """The client methods the gateway calls (all keyword-only).

    The pooled ``TransportClient`` sends the data operations through ``_transport`` and
    delegates the table-management ones to the aiobotocore client; tests install fakes.
    """

    get_item: ClientCall
    put_item: ClientCall
    update_item: ClientCall
    delete_item: ClientCall
    query: ClientCall
    scan: ClientCall
    batch_get_item: ClientCall
    batch_write_item: ClientCall
    transact_write_items: ClientCall
    transact_get_items: ClientCall
    create_table: ClientCall
    delete_table: ClientCall
    describe_table: ClientCall
    update_time_to_live: ClientCall
    describe_time_to_live: ClientCall
    list_tables: ClientCall
