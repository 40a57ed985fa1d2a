"""A scripted DynamoDB over HTTP, in its own process, for measuring a client at scale.

DynamoDB Local cannot hold a million-item benchmark: a Scan page costs it more the larger
the table (measured on a 100,000-item table: 3.2-4.2 s per one-segment page, 0.6-1.4 s per
page of 4 segments), and its writes slow down as the table grows. This server answers the
calls a write-then-scan benchmark makes, in DynamoDB's JSON protocol over HTTP/1.1 with
keep-alive, fast enough that the client is what is measured: CreateTable, DescribeTable,
DeleteTable, BatchWriteItem (every item stored, none left unprocessed), BatchGetItem, and
Scan (parallel segments by a hash of the key, 1 MB pages, ``Select=COUNT``). Items are kept
as the JSON they arrived in; a Scan page is those bytes joined. Keys are the table's single
partition key ``pk``. Requests are not authenticated.

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
KEY = "pk"


@dataclass
class Table:
    name: str
    items: dict[str, bytes] = field(default_factory=dict)  # pk -> the item's JSON
    #: per TotalSegments: each segment's keys in order, and every key's position in its own
    segments: dict[int, tuple[list[list[str]], dict[str, int]]] = field(default_factory=dict)

    def description(self) -> dict[str, Any]:
        return {
            "TableName": self.name,
            "TableStatus": "ACTIVE",
            "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": KEY, "AttributeType": "S"}],
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ItemCount": len(self.items),
        }

    def segment(self, total: int, number: int) -> tuple[list[str], dict[str, int]]:
        if total not in self.segments:
            keys: list[list[str]] = [[] for _ in range(total)]
            for key in self.items:
                keys[zlib.crc32(key.encode()) % total].append(key)
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
        table = self.tables.setdefault(request["TableName"], Table(request["TableName"]))
        return orjson.dumps({"TableDescription": table.description()})

    def DescribeTable(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        return orjson.dumps({"Table": self.table(request["TableName"]).description()})

    def DeleteTable(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        table = self.table(request["TableName"])
        del self.tables[table.name]
        return orjson.dumps({"TableDescription": table.description()})

    def BatchWriteItem(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        for name, writes in request["RequestItems"].items():
            table = self.table(name)
            table.segments.clear()
            for write in writes:
                if "PutRequest" in write:
                    item = write["PutRequest"]["Item"]
                    table.items[item[KEY]["S"]] = orjson.dumps(item)
                else:
                    table.items.pop(write["DeleteRequest"]["Key"][KEY]["S"], None)
        return b'{"UnprocessedItems":{}}'

    def BatchGetItem(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        parts = []
        for name, read in request["RequestItems"].items():
            items = self.table(name).items
            found = [items[k[KEY]["S"]] for k in read["Keys"] if k[KEY]["S"] in items]
            parts.append(orjson.dumps(name) + b":[" + b",".join(found) + b"]")
        return b'{"Responses":{' + b",".join(parts) + b'},"UnprocessedKeys":{}}'

    def Scan(self, request: dict[str, Any]) -> bytes:  # noqa: N802
        table = self.table(request["TableName"])
        keys, positions = table.segment(request.get("TotalSegments", 1), request.get("Segment", 0))
        start = request.get("ExclusiveStartKey")
        position = positions[start[KEY]["S"]] + 1 if start else 0
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
            last = orjson.dumps({KEY: {"S": keys[position - 1]}})
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
