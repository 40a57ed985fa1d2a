"""An in-memory DynamoDB table behind ``MockSender``: Query and Scan as DynamoDB pages them.

It answers the decoded request bodies the real JSON path produces: ``KeyConditionExpression``
and ``FilterExpression`` (the grammar DynamoDB documents, minus functions we never send),
``ProjectionExpression`` of top-level names, ``Limit`` (items *evaluated*, before the filter),
``ExclusiveStartKey``, ``ScanIndexForward``, ``Segment``/``TotalSegments``, sparse GSIs, and a
page-size cap standing in for the 1 MB page. Like DynamoDB, a page that stops at its cap
returns a ``LastEvaluatedKey`` (the table key plus the index key of the last item
*evaluated*) even when nothing follows.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from dynamodb_wrapper_async import DynamoModel
from dynamodb_wrapper_async._codec import encode_item
from dynamodb_wrapper_async._schema import IndexSchema, TableSchema
from dynamodb_wrapper_async._wire.mock import MockError, MockSender

Item = dict[str, dict[str, Any]]
#: ``await before(operation, request)`` runs first: to delay, block or fail a request.
Hook = Callable[[str, dict[str, Any]], Awaitable[None]]

_TOKEN = re.compile(r"\s*(#\w+|:\w+|<>|<=|>=|[=<>(),]|[A-Za-z_]+)")
_COMPARE = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def plain(value: Mapping[str, Any] | None) -> Any:
    """A wire scalar as a comparable Python value (None if absent)."""
    if value is None:
        return None
    ((kind, inner),) = value.items()
    return Decimal(inner) if kind == "N" else (kind, inner) if kind != "S" else inner


class MemoryTable:
    """One model's table, stored as wire items.

    Args:
        model: The model whose ``Meta`` gives the table key and GSIs.
        table_name: The physical name requests must use.
        page_size: Items evaluated per page at most (DynamoDB's 1 MB cap).
        before: Awaited before each request is answered.
    """

    def __init__(
        self,
        model: type[DynamoModel],
        table_name: str,
        *,
        page_size: int = 1000,
        before: Hook | None = None,
    ) -> None:
        self.schema: TableSchema = model.table_schema()
        self.table_name = table_name
        self.page_size = page_size
        self.before = before
        self.items: dict[tuple[Any, ...], Item] = {}
        self.sender = MockSender(self.answer)

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        """Every request sent, as the server parsed it."""
        return self.sender.requests

    def put(self, model: DynamoModel) -> Item:
        """Store a full model as the write path would encode it."""
        item = encode_item(model.__dict__, bool_string_fields=self.schema.bool_string_fields)
        self.items[self._table_key(item)] = item
        return item

    async def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if self.before is not None:
            await self.before(operation, request)
        if request.get("TableName") != self.table_name:
            raise MockError("ResourceNotFoundException", "Requested resource not found")
        if operation not in ("Query", "Scan"):
            raise MockError("ValidationException", f"{operation} is not supported here")
        return self._page(operation, request)

    # ------------------------------------------------------------------ paging
    def _page(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        index = self.schema.index(request.get("IndexName"))
        names = request.get("ExpressionAttributeNames", {})
        values = request.get("ExpressionAttributeValues", {})
        candidates = [i for i in self.items.values() if all(n in i for n in index.key_names)]
        if operation == "Query":
            condition = Expression(request["KeyConditionExpression"], names, values)
            candidates = [item for item in candidates if condition.holds(item)]
        elif "TotalSegments" in request:
            total, segment = request["TotalSegments"], request["Segment"]
            candidates = [i for i in candidates if self._segment(i, total) == segment]
        forward = request.get("ScanIndexForward", True) or operation == "Scan"
        order = (lambda i: self._order(i, index)) if operation == "Query" else self._scan_order
        candidates.sort(key=order, reverse=not forward)
        start = request.get("ExclusiveStartKey")
        if start is not None:
            mark = order(start)
            candidates = [
                i for i in candidates if (order(i) > mark) == forward and order(i) != mark
            ]
        cap = min(request.get("Limit", self.page_size), self.page_size)
        evaluated = candidates[:cap]
        matched = evaluated
        if "FilterExpression" in request:
            condition = Expression(request["FilterExpression"], names, values)
            matched = [item for item in evaluated if condition.holds(item)]
        answer: dict[str, Any] = {
            "Items": [self._project(item, request, names) for item in matched],
            "Count": len(matched),
            "ScannedCount": len(evaluated),
        }
        if len(evaluated) == cap:
            last = evaluated[-1]
            key_names = {*self.schema.key_names, *index.key_names}
            answer["LastEvaluatedKey"] = {name: last[name] for name in key_names}
        return answer

    def _table_key(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(plain(item.get(name)) for name in self.schema.key_names)

    def _scan_order(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(str(v) for v in self._table_key(item))

    def _order(self, item: Mapping[str, Any], index: IndexSchema) -> tuple[Any, ...]:
        sort = plain(item.get(index.sort_key.name)) if index.sort_key is not None else ""
        return (sort, *self._scan_order(item))

    def _segment(self, item: Mapping[str, Any], total: int) -> int:
        return zlib.crc32(repr(self._table_key(item)).encode()) % total

    @staticmethod
    def _project(item: Item, request: Mapping[str, Any], names: Mapping[str, str]) -> Item:
        projection = request.get("ProjectionExpression")
        if projection is None:
            return item
        wanted = {names.get(part.strip(), part.strip()) for part in projection.split(",")}
        return {name: value for name, value in item.items() if name in wanted}


class Expression:
    """A condition expression (key condition or filter), evaluated against wire items."""

    def __init__(self, text: str, names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        self.tokens = _TOKEN.findall(text)
        assert "".join(self.tokens) == re.sub(r"\s+", "", text), f"cannot read {text!r}"
        self.names, self.values = names, values

    def holds(self, item: Mapping[str, Any]) -> bool:
        tokens = iter([*self.tokens, "<end>"])
        self._next: Iterator[str] = tokens
        self._peek: str = next(tokens)
        result = self._or(item)
        assert self._peek == "<end>", f"unread: {self._peek}"
        return result

    def _take(self) -> str:
        token, self._peek = self._peek, next(self._next, "<end>")
        return token

    def _or(self, item: Mapping[str, Any]) -> bool:
        return any(self._joined("OR", self._and, item))

    def _and(self, item: Mapping[str, Any]) -> bool:
        return all(self._joined("AND", self._not, item))

    def _joined(
        self, word: str, part: Callable[[Mapping[str, Any]], bool], item: Mapping[str, Any]
    ) -> list[bool]:
        """Evaluate ``part (word part)*``; every part is read, whatever the earlier ones gave."""
        results = [part(item)]
        while self._peek.upper() == word:
            self._take()
            results.append(part(item))
        return results

    def _not(self, item: Mapping[str, Any]) -> bool:
        if self._peek.upper() == "NOT":
            self._take()
            return not self._not(item)
        return self._primary(item)

    def _primary(self, item: Mapping[str, Any]) -> bool:
        token = self._take()
        if token == "(":
            result = self._or(item)
            assert self._take() == ")"
            return result
        if token in ("begins_with", "attribute_exists", "attribute_not_exists", "contains"):
            assert self._take() == "("
            arguments = [self._operand(self._take(), item)]
            while self._take() == ",":
                arguments.append(self._operand(self._take(), item))
            return _function(token, arguments)
        left = self._operand(token, item)
        operator = self._take()
        if operator.upper() == "BETWEEN":
            low = self._operand(self._take(), item)
            assert self._take().upper() == "AND"
            high = self._operand(self._take(), item)
            return _comparable(left, low, high) and low <= left <= high
        if operator.upper() == "IN":
            assert self._take() == "("
            options = [self._operand(self._take(), item)]
            while self._take() == ",":
                options.append(self._operand(self._take(), item))
            return left in options
        right = self._operand(self._take(), item)
        return _comparable(left, right) and bool(_COMPARE[operator](left, right))

    def _operand(self, token: str, item: Mapping[str, Any]) -> Any:
        if token.startswith("#"):
            return _Missing if self.names[token] not in item else plain(item[self.names[token]])
        if token.startswith(":"):
            return plain(self.values[token])
        raise AssertionError(f"unexpected {token!r}")


class _MissingType:
    """An attribute the item does not have: every comparison with it is false."""


_Missing: Any = _MissingType()


def _comparable(*operands: Any) -> bool:
    return _Missing not in operands and len({type(o) for o in operands}) == 1


def _function(name: str, arguments: list[Any]) -> bool:
    if name == "attribute_exists":
        return arguments[0] is not _Missing
    if name == "attribute_not_exists":
        return arguments[0] is _Missing
    subject, operand = arguments
    if not _comparable(subject, operand):
        return False
    return subject.startswith(operand) if name == "begins_with" else operand in subject
