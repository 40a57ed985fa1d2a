"""WriteApi[Model, Upsert]: create, upsert, update, delete and batch writes for any model."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sized
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import ConditionBase

from .. import _telemetry
from .._capacity import CapacityBudget
from .._codec import decode_item
from .._conflicts import restate_conflict
from .._engine import gateway as _gateway
from .._engine.batch import BatchResult, WriteRequest, batch_write
from .._engine.capacity import Charge, charge_for
from .._engine.progress import Progress, progress_reporter
from .._json import encode_part
from .._keys import check_many
from .._table_api import KeyInput, ModelT
from ..exceptions import ConflictError, ValidationError
from ..utils import utc_now
from ._requests import UpsertT, WriteRequests
from ._transactions import TransactAction, transact


@dataclass(frozen=True)
class Delete:
    """A delete in a mixed stream given to :meth:`WriteApi.batch_write`: ``Delete(key)``."""

    key: KeyInput


class WriteApi(WriteRequests[ModelT, UpsertT]):
    """Writes for one model's table; inputs are validated before any request is sent.

    Subclasses name the model and its write DTO::

        class DatasetWriteApi(WriteApi[Dataset, DatasetUpsert]):
            model = Dataset
            upsert_model = DatasetUpsert

    The server-managed fields (``MANAGED_FIELDS``: ``created_at``, ``updated_at``,
    ``version``) are set here when the model has them.
    """

    # ------------------------------------------------------------------ single items
    @_telemetry.traced
    async def create(self, item: UpsertT) -> ModelT:
        """Store a new item; raise ConflictError if one with its key exists.

        Sets ``created_at`` = ``updated_at`` = now (UTC) and ``version`` = 1.
        """
        params, key, full = self._create_request(item)
        wire = params["Item"]
        try:
            await _gateway.call(
                self.config, "PutItem", params, table=self.table_name, key=key,
                capacity=self._single_write(),
            )  # fmt: skip
        except ConflictError as error:
            if error.retries and error.item and decode_item(error.item) == decode_item(wire):
                return full  # our own earlier attempt was applied; its answer was lost
            msg = f"{self.schema.model_name} already exists"
            raise restate_conflict(
                error, msg, operation="create", table=self.table_name, key=key
            ) from error
        return full

    @_telemetry.traced
    async def upsert(self, item: UpsertT) -> ModelT:
        """Create or replace an item in one UpdateItem, keeping its ``created_at``.

        Fields left None in the DTO are removed; ``updated_at`` becomes now and ``version``
        goes up by one (starting at 1).
        """
        now = utc_now()
        params, key = self._upsert_request(item, now)
        return await self._stamped_update(params, key, now)

    @_telemetry.traced
    async def update(
        self,
        key: KeyInput,
        updates: Mapping[str, Any],
        *,
        condition_expression: ConditionBase | None = None,
        expected_version: int | None = None,
    ) -> ModelT:
        """Change some fields of an existing item and return it as stored.

        ``updates`` maps field names to new values (validated against the model); None
        removes an optional field. ``Increment(n)`` and ``Append(values)`` change the stored
        number or list in place (a missing one starts at 0 or empty), on a field or a dotted
        path into a map field (``"metrics.rows"``). ``condition_expression`` is a boto3
        ``Attr`` condition; ``expected_version`` makes the update conditional on the stored
        ``version``. A resend after a lost answer is guarded by this call's ``updated_at``
        stamp: exact for one writer of the item; with concurrent writers of one item use
        ``transact_write([update_action(...)])`` (or ``add_run_progress`` for run logs).

        Raises:
            ItemNotFoundError: No item has this key.
            ConflictError: The condition or the version check failed.
            ValidationError: Unknown field, wrong type, key or server-managed field; an
                Increment of a non-number, an Append to a non-list, overlapping paths.
        """
        return await self._update_at(
            key, updates, utc_now(), condition_expression, expected_version
        )

    async def _update_at(
        self,
        key: KeyInput,
        updates: Mapping[str, Any],
        now: dt.datetime,
        condition_expression: ConditionBase | None = None,
        expected_version: int | None = None,
        capacity: CapacityBudget | None = None,
    ) -> ModelT:
        """:meth:`update`, stamping ``updated_at = now`` (a backfill chooses its stamp, to
        recognise its own writes after a restart) and charged to ``capacity`` if given."""
        params, plain_key = self._update_request(
            key, updates, condition_expression, expected_version, now
        )
        params["ReturnValues"] = "ALL_NEW"
        return await self._stamped_update(
            params,
            plain_key,
            now,
            lambda error: self._update_conflict(error, plain_key, expected_version),
            charge_for(self.config, self.table_name, "write", capacity, meter=False),
        )

    async def _stamped_update(
        self,
        params: dict[str, Any],
        key: dict[str, Any],
        now: dt.datetime,
        conflict: Callable[[ConflictError], Exception] | None = None,
        charge: Charge | None = None,
    ) -> ModelT:
        """Send an UpdateItem stamped ``updated_at = now``; return the item as stored.

        ``charge`` is the write's charge (default: the config's write budget, if any).

        A resend after a lost answer cannot apply twice (see ``_guarded_retry``); if it
        finds our own stamp, our earlier attempt was applied and its item is returned.
        Any other failed condition raises ``conflict(error)`` (or the error as it is).
        """
        try:
            response = await _gateway.call(
                self.config,
                "UpdateItem",
                params,
                table=self.table_name,
                key=key,
                retry_params=self._guarded_retry(params, now),
                capacity=charge or self._single_write(),
            )
        except ConflictError as error:
            own = self._own_write(error, now)
            if own is not None:
                return own
            if conflict is None:
                raise
            raise conflict(error) from error
        return self.model.from_stored(decode_item(response["Attributes"]))

    @_telemetry.traced
    async def delete(self, key: KeyInput, *, condition: ConditionBase | None = None) -> None:
        """Delete an existing item; ``condition`` (a boto3 ``Attr`` condition) must hold.

        Raises:
            ItemNotFoundError: No item has this key.
            ConflictError: The condition failed.
        """
        params, plain_key = self._delete_request(key, condition)
        try:
            await _gateway.call(
                self.config,
                "DeleteItem",
                params,
                table=self.table_name,
                key=plain_key,
                retry_params=self._delete_retry(params, condition),
                capacity=self._single_write(),
            )
        except ConflictError as error:
            if error.item is None:
                raise self._not_found(plain_key, "delete") from error
            msg = "delete condition failed"
            raise restate_conflict(
                error, msg, operation="delete", table=self.table_name, key=plain_key
            ) from error

    # ------------------------------------------------------------------ transactions
    def create_action(self, item: UpsertT) -> TransactAction:
        """Return a transaction action that creates ``item`` (fails if its key exists)."""
        params, key, full = self._create_request(item)
        return TransactAction("Put", self.table_name, key, params, full)

    def update_action(
        self,
        key: KeyInput,
        updates: Mapping[str, Any],
        *,
        condition_expression: ConditionBase | None = None,
        expected_version: int | None = None,
    ) -> TransactAction:
        """Return a transaction action that updates an existing item (see :meth:`update`)."""
        params, plain_key = self._update_request(
            key, updates, condition_expression, expected_version, utc_now()
        )
        return TransactAction("Update", self.table_name, plain_key, params)

    def delete_action(
        self, key: KeyInput, *, condition: ConditionBase | None = None
    ) -> TransactAction:
        """Return a transaction action that deletes an existing item."""
        params, plain_key = self._delete_request(key, condition)
        return TransactAction("Delete", self.table_name, plain_key, params)

    def condition_check_action(self, key: KeyInput, condition: ConditionBase) -> TransactAction:
        """Return a transaction action that only requires ``condition`` to hold on an item."""
        params, plain_key = self._check_request(key, condition)
        return TransactAction("ConditionCheck", self.table_name, plain_key, params)

    @_telemetry.traced
    async def transact_write(
        self, actions: Iterable[TransactAction], *, client_request_token: str | None = None
    ) -> None:
        """Apply up to 100 actions (from any write APIs, any tables) all together or not at all.

        Raises:
            ConflictError: Cancelled; ``cancellation_reasons`` says why, per action.
            ValidationError: Bad actions, before any request.
        """
        await transact(self.config, actions, client_request_token=client_request_token)

    # ------------------------------------------------------------------ batches
    @_telemetry.traced
    async def batch_upsert(
        self,
        items: Iterable[UpsertT]
        | AsyncIterable[UpsertT]
        | Iterable[ModelT]
        | AsyncIterable[ModelT],
        *,
        progress: Progress = None,
        keep_managed_fields: bool = False,
        capacity: CapacityBudget | None = None,
    ) -> BatchResult:
        """Write many items with BatchWriteItem, 25 per request, many requests at once.

        Accepts any iterable or async iterable (a generator of millions streams with bounded
        memory). BatchWriteItem replaces whole items, so each gets ``created_at`` =
        ``updated_at`` = now and ``version`` = 1; use :meth:`upsert` to keep an item's history.
        With ``keep_managed_fields=True`` the items are full models (``model``, not the
        DTO) written with their own ``created_at``, ``updated_at`` and ``version``, as when
        copying or restoring a table; each must carry valid values for those fields.
        A key's writes are applied in the order given, whatever the concurrency and the
        retries: when a key repeats, the last item wins, and the earlier ones not yet written
        are dropped and counted in ``duplicates``. ``progress`` is a callback given each
        chunk's item count, or True for a tqdm bar (when tqdm is installed). ``capacity``
        limits the write units per second (else the config's budget applies); the result
        reports what was consumed.

        Raises:
            BatchWriteError: Items that were not written after every retry, exactly.
            ValidationError: An item is not a valid DTO (or, keeping managed fields, a full
                model with valid ``created_at``, ``updated_at`` and ``version``), naming it.
        """
        check_many(items, "items")
        request = self._put_maker(keep_managed_fields=keep_managed_fields)
        with progress_reporter(progress, description="upsert", total=_size(items)) as report:
            return await batch_write(
                self.config, self.table_name, _map(request, items), progress=report,
                capacity=self._batch_write(capacity),
            )  # fmt: skip

    @_telemetry.traced
    async def batch_delete(
        self,
        keys: Iterable[KeyInput] | AsyncIterable[KeyInput],
        *,
        progress: Progress = None,
        capacity: CapacityBudget | None = None,
    ) -> BatchResult:
        """Delete many items by key, 25 per request; keys that do not exist are no-ops.

        A key given twice is deleted once (the repeat is counted in ``duplicates``).

        Raises:
            BatchWriteError: Keys that were not deleted after every retry, exactly.
        """
        check_many(keys, "keys")
        with progress_reporter(progress, description="delete", total=_size(keys)) as report:
            return await batch_write(
                self.config, self.table_name, _map(self._delete_request_of, keys),
                progress=report, capacity=self._batch_write(capacity),
            )  # fmt: skip

    @_telemetry.traced
    async def batch_write(
        self,
        writes: Iterable[UpsertT | Delete] | AsyncIterable[UpsertT | Delete],
        *,
        progress: Progress = None,
        capacity: CapacityBudget | None = None,
    ) -> BatchResult:
        """Apply a mixed stream of puts (DTOs, stamped as :meth:`batch_upsert` stamps them)
        and deletes (``Delete(key)``), 25 per request, many requests at once.

        A key's writes are applied in the order given, whatever the concurrency and the
        retries, so the table ends as if the stream had been applied one by one; writes of a
        key superseded before they were sent are dropped and counted in ``duplicates``.

        Raises:
            BatchWriteError: Writes not applied after every retry, exactly (``Delete``
                markers and DTOs as given).
            ValidationError: A write is neither a valid DTO nor a ``Delete`` of a valid key.
        """
        check_many(writes, "writes")
        put = self._put_maker(keep_managed_fields=False)

        def request(position: int, write: Any) -> WriteRequest[Any]:
            if isinstance(write, Delete):
                made = self._delete_request_of(position, write.key)
                return WriteRequest(made.key, made.request, write, made.key_names)
            return put(position, write)

        with progress_reporter(progress, description="write", total=_size(writes)) as report:
            return await batch_write(
                self.config, self.table_name, _map(request, writes), progress=report,
                capacity=self._batch_write(capacity),
            )  # fmt: skip

    def _single_write(self) -> Charge | None:
        """A single write's charge on the config's write budget (None: no budget)."""
        return charge_for(self.config, self.table_name, "write", meter=False)

    def _batch_write(self, capacity: CapacityBudget | None) -> Charge | None:
        """A batch's charge: the call's budget, else the config's; always metered."""
        return charge_for(self.config, self.table_name, "write", capacity)

    def _put_maker(self, *, keep_managed_fields: bool) -> Callable[[int, Any], WriteRequest[Any]]:
        """Return (position, item) -> its batch PutRequest, stamped with one ``now`` for the
        whole batch; a refused item is named by its position and key."""
        now = utc_now()
        key_names = self.schema.key_names
        values_of: Callable[[Any], dict[str, Any]] = (
            functools.partial(self._kept_values, now=now)
            if keep_managed_fields
            else self._stamper(now)
        )
        put = self._put_encoder()

        def request(position: int, item: Any) -> WriteRequest[Any]:
            try:
                encoded, key = put(values_of(item))
            except ValidationError as error:
                raise self._batch_refusal(error, position, item) from None
            return WriteRequest(tuple(key.values()), encoded, item, key_names)

        return request

    def _delete_request_of(self, position: int, key: KeyInput) -> WriteRequest[KeyInput]:
        try:
            wire, plain = self._key_from(key)
        except ValidationError as error:
            raise self._batch_refusal(error, position, key) from None
        encoded = encode_part({"DeleteRequest": {"Key": wire}})
        return WriteRequest(tuple(plain.values()), encoded, key, self.schema.key_names)


def _map(
    function: Callable[[int, Any], WriteRequest[Any]], source: Iterable[Any] | AsyncIterable[Any]
) -> Iterable[WriteRequest[Any]] | AsyncIterable[WriteRequest[Any]]:
    """``map`` with positions for a sync or async source; a sync source stays sync."""
    if isinstance(source, AsyncIterable):
        return _amap(function, source)
    return itertools.starmap(function, enumerate(source))


async def _amap(
    function: Callable[[int, Any], WriteRequest[Any]], source: AsyncIterable[Any]
) -> AsyncIterator[WriteRequest[Any]]:
    position = 0
    async for item in source:
        yield function(position, item)
        position += 1


def _size(source: object) -> int | None:
    return len(source) if isinstance(source, Sized) else None
