"""ReadApi[Model, View]: get, batch get, paged queries and scans for any DynamoModel."""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, TypeAlias, TypeVar

from boto3.dynamodb.conditions import ConditionBase

from .. import _telemetry
from .._capacity import CapacityBudget
from .._capacity import Page as Page
from .._codec import decode_item
from .._engine.batch import batch_get_items
from .._engine.capacity import charge_for
from .._expressions import ExpressionBuilder
from .._schema import IndexSchema
from .._stream import ItemStream
from .._table_api import KeyInput, ModelT, TableApi
from .._tokens import query_scope
from ..exceptions import ItemNotFoundError, ValidationError
from ..models import ViewModel
from ._paging import PageRequest, collect_page, iterate_pages, parallel_pages
from ._paging.request import Convert, RawConvert
from ._transactions import TransactGet, transact_get

ViewT = TypeVar("ViewT", bound=ViewModel)

#: A filter: a dict of field -> value (equality) or a boto3 ``Attr`` condition.
Filters: TypeAlias = "Mapping[str, Any] | ConditionBase"


class ReadApi(TableApi[ModelT], Generic[ModelT, ViewT]):
    """Reads for one model's table; results are validated view models.

    Subclasses name the model and its view::

        class DatasetReadApi(ReadApi[Dataset, DatasetView]):
            model = Dataset
            view = DatasetView

    The object holds only its config, so it is cheap to build and pickles into Spark closures.
    """

    view: type[ViewT]
    #: Builds streamed pages from raw wire items instead of views (``with_page_codec``).
    _page_codec: RawConvert[Any] | None = None

    def with_page_codec(self, convert: RawConvert[Any]) -> ReadApi[ModelT, Any]:
        """Return a copy of this API whose streams yield ``convert``'s results instead of views.

        For consumers that build their own columns from DynamoDB's wire items (the Spark
        source builds Arrow batches): ``scan_iter``, ``query_by_composite_key_range_iter``
        and the domain streams built on them then yield, for each DynamoDB page, what
        ``convert`` returns for its undecoded items (the key attributes fetched only for
        paging included). Gets, single pages and fan-out streams still return views.
        """
        clone = copy.copy(self)
        clone._page_codec = convert
        return clone

    def _streamed(self, request: PageRequest) -> tuple[PageRequest, Convert[Any]]:
        """Return ``request`` and the converter of its streamed pages."""
        if self._page_codec is None:
            return request, self.view.validate_many
        return dataclasses.replace(request, raw=True), self._page_codec

    # ------------------------------------------------------------------ single items
    @_telemetry.traced
    async def get_by_id(
        self,
        key: Any,
        sort_key: Any = None,
        *,
        projection: Sequence[str] | None = None,
        consistent_read: bool = False,
    ) -> ViewT:
        """Return one item as a view, or raise ItemNotFoundError.

        Args:
            key: The partition key value.
            sort_key: The sort key value, for tables that have one.
            projection: Field names to fetch (validated against the model).
            consistent_read: Read with strong consistency.
        """
        wire_key, plain_key = self._key(key, sort_key)
        builder = ExpressionBuilder(self.schema)
        extra: dict[str, Any] = {}
        if projection is not None:
            extra["ProjectionExpression"] = builder.projection(projection)
        extra.update(builder.params())
        item = await self._get_item(
            wire_key, plain_key, consistent_read=consistent_read, extra=extra
        )
        if item is None:
            msg = f"{self.schema.model_name} not found"
            raise ItemNotFoundError(
                msg,
                operation="get_by_id",
                table=self.table_name,
                key=plain_key,
            )
        return self.view.model_validate(decode_item(item))

    @_telemetry.traced
    async def batch_get(
        self,
        keys: Iterable[Any],
        *,
        projection: Sequence[str] | None = None,
        consistent_read: bool = False,
        capacity: CapacityBudget | None = None,
    ) -> list[ViewT]:
        """Return the items that exist among ``keys``, in no particular order.

        Each key is a partition key value, a ``(partition, sort)`` tuple or a mapping of the
        key fields. Duplicates are fetched once; missing items are left out. ``capacity``
        limits the read units per second (else the config's budget applies).
        """
        wire_keys = self._unique_keys(keys)
        builder = ExpressionBuilder(self.schema)
        extra: dict[str, Any] = {"ConsistentRead": consistent_read}
        if projection is not None:
            extra["ProjectionExpression"] = builder.projection(projection)
        extra.update(builder.params())
        view = self.view
        return await batch_get_items(
            self.config,
            self.table_name,
            wire_keys,
            self.schema.key_names,
            extra,
            lambda page: view.validate_many(map(decode_item, page)),
            charge_for(self.config, self.table_name, "read", capacity, meter=False),
        )

    # ------------------------------------------------------------------ transactional reads
    def get_action(self, key: KeyInput, *, projection: Sequence[str] | None = None) -> TransactGet:
        """Return one read of a transactional read (see :meth:`transact_get`).

        ``key`` is a partition key value, a ``(partition, sort)`` tuple or a mapping of the
        key fields; ``projection`` names the fields to fetch (validated against the model;
        the key fields come too).
        """
        wire_key, plain_key = self._key_from(key)
        builder = ExpressionBuilder(self.schema)
        params: dict[str, Any] = {"TableName": self.table_name, "Key": wire_key}
        if projection is not None:  # with the key, so each view says which item it is
            params["ProjectionExpression"] = builder.projection(
                projection, always=self.schema.key_names
            )
        params.update(builder.params())
        return TransactGet(self.table_name, plain_key, params, self.view)

    @_telemetry.traced
    async def transact_get(self, gets: Iterable[TransactGet]) -> list[ViewModel | None]:
        """Read up to 100 items (from any read APIs, any tables) as one consistent snapshot.

        Returns one view per get, in order (each as its own API's view model), ``None``
        where the item does not exist.

        Raises:
            ConflictError: Cancelled (e.g. a transaction was writing one of the items);
                ``cancellation_reasons`` says why, per get.
            ValidationError: Bad gets, before any request.
        """
        return await transact_get(self.config, gets)

    # ------------------------------------------------------------------ queries
    @_telemetry.traced
    async def query_by_composite_key_range(
        self,
        partition_key: str,
        partition_value: Any,
        sort_key: str | None = None,
        sort_condition: str | None = None,
        sort_value: Any = None,
        sort_value2: Any = None,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        limit: int = 100,
        last_key: str | None = None,
        scan_forward: bool = True,
        capacity: CapacityBudget | None = None,
    ) -> Page[ViewT]:
        """Query the table or the GSI whose keys are ``partition_key`` (+ ``sort_key``).

        ``sort_condition`` is one of eq, lt, lte, gt, gte, between (with ``sort_value2``) and
        begins_with. Returns ``(items, next_key)``; pass ``next_key`` as ``last_key`` to go on.
        ``capacity`` limits the read units per second (else the config's budget applies).
        """
        request = self._range_request(
            partition_key, partition_value, sort_key, sort_condition, sort_value, sort_value2,
            filters, projection, scan_forward=scan_forward,
        )  # fmt: skip
        return await self._page(request, limit, last_key, capacity)

    @_telemetry.traced_stream
    def query_by_composite_key_range_iter(
        self,
        partition_key: str,
        partition_value: Any,
        sort_key: str | None = None,
        sort_condition: str | None = None,
        sort_value: Any = None,
        sort_value2: Any = None,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        last_key: str | None = None,
        scan_forward: bool = True,
        capacity: CapacityBudget | None = None,
    ) -> ItemStream[ViewT]:
        """Stream every item of :meth:`query_by_composite_key_range`, page by page."""
        request = self._range_request(
            partition_key, partition_value, sort_key, sort_condition, sort_value, sort_value2,
            filters, projection, scan_forward=scan_forward,
        )  # fmt: skip
        return self._stream(request, last_key, capacity)

    # ------------------------------------------------------------------ scans
    @_telemetry.traced
    async def scan(
        self,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        limit: int = 100,
        last_key: str | None = None,
        capacity: CapacityBudget | None = None,
    ) -> Page[ViewT]:
        """Scan the table: up to ``limit`` matching items and the token to go on.

        ``capacity`` limits the read units per second (else the config's budget applies).
        """
        request = self._scan_request(filters, projection)
        return await self._page(request, limit, last_key, capacity)

    @_telemetry.traced_stream
    def scan_iter(
        self,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        last_key: str | None = None,
        segments: int = 1,
        segment: int | None = None,
        capacity: CapacityBudget | None = None,
    ) -> ItemStream[ViewT]:
        """Stream the whole table; ``segments`` > 1 runs a parallel scan, merged as it comes.

        With ``segment`` set, stream only that one of the ``segments`` parallel-scan segments
        (0-based): how Spark reads a table with one segment per partition. ``last_key`` (a
        ``next_key`` of :meth:`scan`) resumes a whole-table scan, so it goes with
        ``segments=1`` only. ``capacity`` limits the read units per second of all segments
        together (else the config's budget applies); the stream's ``consumed_capacity``
        reports what was read.
        """
        request = self._scan_request(filters, projection)
        given: object = segments
        if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= 1_000_000:
            msg = f"segments must be a positive integer, got {segments!r}"
            raise ValidationError(msg)
        if last_key is not None and (segments > 1 or segment is not None):
            msg = "last_key resumes a whole-table scan: use it with segments=1 and no segment"
            raise ValidationError(msg)
        if segment is not None:
            chosen: object = segment
            if isinstance(chosen, bool) or not isinstance(chosen, int) or not 0 <= chosen < given:
                msg = f"segment must be in 0..{given - 1}, got {segment!r}"
                raise ValidationError(msg)
            return self._stream(request.for_segment(chosen, given), None, capacity)
        if segments == 1:
            return self._stream(request, last_key, capacity)
        charge = charge_for(self.config, self.table_name, "read", capacity)
        request, convert = self._streamed(request)
        request = dataclasses.replace(request, capacity=charge)  # one bucket and meter for all
        parts = [request.for_segment(n, segments) for n in range(segments)]
        return ItemStream(
            functools.partial(parallel_pages, self.config, parts, convert),
            charge.meter if charge is not None else None,
        )

    # ------------------------------------------------------------------ building blocks
    def _request_for(
        self,
        index: IndexSchema,
        partition_value: Any,
        sort_condition: str | None = None,
        sort_value: Any = None,
        sort_value2: Any = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        *,
        scan_forward: bool = True,
    ) -> PageRequest:
        """Build the paged Query of ``index`` (the table key or a GSI)."""
        builder = ExpressionBuilder(self.schema)
        key_condition = builder.key_condition(
            index, partition_value, sort_condition, sort_value, sort_value2
        )
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": key_condition,
            "ScanIndexForward": scan_forward,
        }
        if index.name is not None:
            params["IndexName"] = index.name
        scope = query_scope(self.table_name, index.name, key_condition, builder.params())
        return self._finish(params, builder, index, filters, projection, "Query", scope)

    def _range_request(
        self,
        partition_key: str,
        partition_value: Any,
        sort_key: str | None,
        sort_condition: str | None,
        sort_value: Any,
        sort_value2: Any,
        filters: Filters | None,
        projection: Sequence[str] | None,
        *,
        scan_forward: bool,
    ) -> PageRequest:
        if sort_condition is not None and sort_key is None:
            msg = "sort_condition needs sort_key"
            raise ValidationError(msg)
        index = self.schema.find_index(partition_key, sort_key)
        return self._request_for(
            index, partition_value, sort_condition, sort_value, sort_value2, filters, projection,
            scan_forward=scan_forward,
        )  # fmt: skip

    def _scan_request(
        self, filters: Filters | None, projection: Sequence[str] | None
    ) -> PageRequest:
        builder = ExpressionBuilder(self.schema)
        params: dict[str, Any] = {"TableName": self.table_name}
        scope = query_scope(self.table_name, None, None, {})
        return self._finish(
            params, builder, self.schema.primary, filters, projection, "Scan", scope
        )

    def _finish(
        self,
        params: dict[str, Any],
        builder: ExpressionBuilder,
        index: IndexSchema,
        filters: Filters | None,
        projection: Sequence[str] | None,
        operation: Any,
        scope: str,
    ) -> PageRequest:
        key_names = tuple(dict.fromkeys((*self.schema.key_names, *index.key_names)))
        strip: frozenset[str] = frozenset()
        if projection is not None and not isinstance(projection, str):
            index.check_projection(projection)  # a KEYS_ONLY or INCLUDE index holds only some
        if projection is not None:
            params["ProjectionExpression"] = builder.projection(projection, always=key_names)
            strip = frozenset(key_names) - frozenset(projection)
        filter_expression = builder.filters(filters)
        if filter_expression is not None:
            params["FilterExpression"] = filter_expression
        params.update(builder.params())
        return PageRequest(
            operation, self.table_name, params, scope, key_names, strip,
            filtered=filter_expression is not None,
        )  # fmt: skip

    async def _page(
        self,
        request: PageRequest,
        limit: int,
        last_key: str | None,
        capacity: CapacityBudget | None = None,
    ) -> Page[ViewT]:
        charge = charge_for(
            self.config, self.table_name, "read", capacity, index=request.params.get("IndexName")
        )
        return await collect_page(
            self.config, dataclasses.replace(request, capacity=charge), self.view.validate_many,
            limit=limit, last_key=last_key,
        )  # fmt: skip

    def _stream(
        self, request: PageRequest, last_key: str | None, capacity: CapacityBudget | None = None
    ) -> ItemStream[ViewT]:
        """Return the stream of every page of ``request``, from right after ``last_key``."""
        start = request.start_key(last_key)  # a bad token fails here, before any request
        charge = charge_for(
            self.config, self.table_name, "read", capacity, index=request.params.get("IndexName")
        )
        streamed, convert = self._streamed(request)
        metered = dataclasses.replace(streamed, capacity=charge)
        return ItemStream(
            functools.partial(iterate_pages, self.config, metered, convert, start=start),
            charge.meter if charge is not None else None,
        )


def time_window(since: Any, until: Any) -> tuple[str | None, Any, Any]:
    """Return ``(sort_condition, value, value2)`` for an optional ``[since, until]`` window."""
    if since is not None and until is not None:
        return "between", since, until
    if since is not None:
        return "gte", since, None
    if until is not None:
        return "lte", until, None
    return None, None, None
