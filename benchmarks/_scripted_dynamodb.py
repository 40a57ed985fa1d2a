"""A scripted DynamoDB over HTTP, in its own process, for measuring a client at scale.

DynamoDB Local cannot hold a million-item benchmark: a Scan page costs it more the larger
the table (measured on a 100,000-item table: 3.2-4.2 s per one-segment page, 0.6-1.4 s per
page of 4 segments), and its writes slow down as the table grows. This server answers the
calls a write-then-scan benchmark makes, in DynamoDB's JSON protocol over HTTP/1.1 with
keep-alive, fast enough that the client is what is measured: CreateTable, DescribeTable,
DeleteTable, DescribeTimeToLive, UpdateTimeToLive (the attribute is remembered, not acted
on), BatchWriteItem (every item stored, none left unprocessed), GetItem, BatchGetItem, and Scan
(parallel segments by a hash of the key, 1 MB pages, ``Select=COUNT``). Items are kept as
the JSON they arrived in; a Scan page is those bytes joined. Keys are those CreateTable gave
(a partition key and an optional sort key); secondary indexes are described as active but
not kept, and a Scan's ProjectionExpression and FilterExpression are ignored (callers
project every stored attribute and filter nothing). Requests are not authenticated.

    python benchmarks/_scripted_dynamodb.py PORT      # prints "ready" once listening
"""

from __future__ import annotations

import asyncio
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

PAGE_BYTES = 1024 * 1024
#: The key of a table created without a KeySchema.
DEFAULT_KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}]

Key = tuple[tuple[str, Any], ...]  # the key attributes' (type, value), in KeySchema order


@dataclass
class Table:
    name: str
    #: CreateTable's request: KeySchema, AttributeDefinitions, GlobalSecondaryIndexes
    definition: dict[str, Any] = field(default_factory=dict)
    items: dict[Key, bytes] = field(default_factory=dict)  # key -> the item's JSON
    ttl: str | None = None  # the time-to-live attribute
    #: per TotalSegments: each segment's keys in order, and every key's position in its own
    segments: dict[int, tuple[list[list[Key]], dict[Key, int]]] = field(default_factory=dict)

    @property
    def key_names(self) -> list[str]:
        return [k["AttributeName"] for k in self.definition.get("KeySchema", DEFAULT_KEYS)]

    def key_of(self, item: dict[str, Any]) -> Key:
        return tuple(next(iter(item[name].items())) for name in self.key_names)

    def key_item(self, key: Key) -> dict[str, Any]:
        return {name: dict([part]) for name, part in zip(self.key_names, key, strict=True)}

    def description(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "TableName": self.name,
            "TableStatus": "ACTIVE",
            "KeySchema": self.definition.get("KeySchema", DEFAULT_KEYS),
            "AttributeDefinitions": self.definition.get(
                "AttributeDefinitions", [{"AttributeName": "pk", "AttributeType": "S"}]
            ),
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ItemCount": len(self.items),
        }
        indexes = self.definition.get("GlobalSecondaryIndexes")
        if indexes:
            described["GlobalSecondaryIndexes"] = [
                {**index, "IndexStatus": "ACTIVE"} for index in indexes
            ]
        return described

    def segment(self, total: int, number: int) -> tuple[list[Key], dict[Key, int]]:
        if total not in self.segments:
            keys: list[list[Key]] = [[] for _ in range(total)]
            for key in self.items:
                keys[hash(key) % total].append(key)
            positions = {key: n for part in keys for n, key in enumerate(part)}
            self.segments[total] = (keys, positions)
        keys_of, positions = self.segments[total]
        return keys_of[number], positions


class NotFoundError(Exception):
    pass


class Store:
    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        if name not in self.tables:
            raise NotFoundError(name)
        return self.tables[name]

    def answer(self, operation: str, request: dict[str, Any]) -> bytes:
        handler = getattr(self, operation, None)
        if handler is None:
            raise NotImplementedError(operation)
        result: bytes = handler(request)
        return result

    def CreateTable(self, request: dict[str, Any]) -> bytes:  # noqa: N802 - the operation's name
        name = request["TableName"]
        table = self.tables.setdefault(name, Table(name, definition=request))
        return orjson.dumps({"TableDescription": table.description()})

    def DescribeTable(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        return orjson.dumps({"Table": self.table(request["TableName"]).description()})

    def DeleteTable(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        table = self.table(request["TableName"])
        del self.tables[table.name]
        return orjson.dumps({"TableDescription": table.description()})

    def DescribeTimeToLive(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        ttl = self.table(request["TableName"]).ttl
        if ttl is None:
            return b'{"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}}'
        described = {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl}
        return orjson.dumps({"TimeToLiveDescription": described})

    def UpdateTimeToLive(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        given = request["TimeToLiveSpecification"]
        table = self.table(request["TableName"])
        table.ttl = given["AttributeName"] if given["Enabled"] else None
        return orjson.dumps({"TimeToLiveSpecification": given})

    def BatchWriteItem(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        for name, writes in request["RequestItems"].items():
            table = self.table(name)
            table.segments.clear()
            for write in writes:
                if "PutRequest" in write:
                    item = write["PutRequest"]["Item"]
                    # a copy: orjson's result keeps a 4 KiB allocation for a short item
                    table.items[table.key_of(item)] = memoryview(orjson.dumps(item)).tobytes()
                else:
                    table.items.pop(table.key_of(write["DeleteRequest"]["Key"]), None)
        return b'{"UnprocessedItems":{}}'

    def GetItem(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        table = self.table(request["TableName"])
        item = table.items.get(table.key_of(request["Key"]))
        return b"{}" if item is None else b'{"Item":' + item + b"}"

    def BatchGetItem(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        parts = []
        for name, read in request["RequestItems"].items():
            table = self.table(name)
            wanted = [table.key_of(key) for key in read["Keys"]]
            found = [table.items[key] for key in wanted if key in table.items]
            parts.append(orjson.dumps(name) + b":[" + b",".join(found) + b"]")
        return b'{"Responses":{' + b",".join(parts) + b'},"UnprocessedKeys":{}}'

    def Scan(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        table = self.table(request["TableName"])
        keys, positions = table.segment(request.get("TotalSegments", 1), request.get("Segment", 0))
        start = request.get("ExclusiveStartKey")
        position = positions[table.key_of(start)] + 1 if start else 0
        limit = request.get("Limit", len(keys))
        page: list[bytes] = []
        size = 0
        while position < len(keys) and len(page) < limit and size < PAGE_BYTES:
            item = table.items[keys[position]]
            page.append(item)
            size += len(item)
            position += 1
        head = b'{"Count":%d,"ScannedCount":%d' % (len(page), len(page))
        if position < len(keys):
            last = orjson.dumps(table.key_item(keys[position - 1]))
            head += b',"LastEvaluatedKey":' + last
        if request.get("Select") == "COUNT":
            return head + b"}"
        return head + b',"Items":[' + b",".join(page) + b"]}"


def response(status: int, body: bytes) -> bytes:
    reason = b"OK" if status == 200 else b"Bad Request"
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
        b"Content-Length: %d\r\nx-amzn-RequestId: scripted\r\nx-amz-crc32: %d\r\n\r\n"
        % (status, reason, len(body), zlib.crc32(body))
    ) + body


def error(code: str, message: str) -> bytes:
    return response(
        400,
        orjson.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}),
    )


async def serve_connection(
    store: Store, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            operation = headers.get("x-amz-target", "").rpartition(".")[2]
            try:
                answer = response(200, store.answer(operation, orjson.loads(body)))
            except NotFoundError as missing:
                answer = error("ResourceNotFoundException", f"table {missing} not found")
            except NotImplementedError:
                answer = error("UnknownOperationException", operation)
            writer.write(answer)
            await writer.drain()
    finally:
        writer.close()


async def main(port: int) -> None:
    store = Store()
    server = await asyncio.start_server(
        lambda r, w: serve_connection(store, r, w), "127.0.0.1", port, limit=64 * 1024 * 1024
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
