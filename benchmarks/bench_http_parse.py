"""CPU per response of the transport's HTTP/1.1 connection: write a request, parse the answer.

Feeds recorded DynamoDB-shaped answers (a BatchWriteItem acknowledgement, a ~30 KB Query page
with a Content-Length, the same page chunked in 4 KB pieces) into ``_wire/http.py``'s
connection protocol, with no socket, so the figure is the client's own parsing cost. With
``--compare OTHER_HTTP_PY`` the same runs go through another version of that module (e.g. the
hand-written parser before llhttp: ``git show <rev>:dynamodb_wrapper_async/_wire/http.py``),
the two alternating, and the per-run ratios are printed.

    .venv/bin/python benchmarks/bench_http_parse.py
    git show 5f10a41:dynamodb_wrapper_async/_wire/http.py > /tmp/http_before.py
    .venv/bin/python benchmarks/bench_http_parse.py --compare /tmp/http_before.py
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: Server\r\n"
    b"Date: Wed, 02 Dec 2026 07:00:00 GMT\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\n"
    b"Connection: keep-alive\r\n"
    b"x-amzn-RequestId: 3Q1V9G2H8J0K4L6M5N7P9R1S3T5U7V9W\r\n"
    b"x-amz-crc32: 2745614147\r\n"
)
ITEM = {
    "pk": {"S": "pipeline-000123"},
    "sk": {"S": "run#2026-12-02T07:00:00.000000+00:00"},
    "status": {"S": "success"},
    "records": {"N": "123456"},
    "metrics": {"M": {"rows": {"N": "10"}, "bytes": {"N": "2048"}}},
    "tags": {"L": [{"S": "a"}, {"S": "b"}]},
}


def _content_length(body: bytes) -> bytes:
    return HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body


def _chunked(body: bytes, size: int = 4096) -> bytes:
    parts = [HEAD, b"Transfer-Encoding: chunked\r\n\r\n"]
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        parts += [b"%x\r\n" % len(piece), piece, b"\r\n"]
    return b"".join([*parts, b"0\r\n\r\n"])


ANSWERS = {
    "batch-write ack": _content_length(b'{"UnprocessedItems":{}}'),
    "query page 30 KB": _content_length(orjson.dumps({"Items": [ITEM] * 120, "Count": 120})),
    "chunked 30 KB": _chunked(orjson.dumps({"Items": [ITEM] * 120, "Count": 120})),
}


class _Transport(asyncio.Transport):
    def write(self, data: Any) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def _load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"http_under_test_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        msg = f"cannot load {path}"
        raise SystemExit(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _connection(module: ModuleType, loop: asyncio.AbstractEventLoop) -> Any:
    try:
        connection = module._Connection(loop, module.DEFAULT_MAX_RESPONSE_BYTES)
    except (AttributeError, TypeError):  # the version before the size cap
        connection = module._Connection(loop)
    connection.connection_made(_Transport())
    return connection


def cpu_per_response(module: ModuleType, answer: bytes, rounds: int) -> float:
    """Microseconds of CPU per request written and answer parsed, on one kept-alive connection."""
    loop = asyncio.new_event_loop()
    try:
        connection = _connection(module, loop)
        pieces = [answer[i : i + 65536] for i in range(0, len(answer), 65536)]  # socket reads
        start = time.process_time()
        for _ in range(rounds):
            waiter = connection.request(b"POST / HTTP/1.1\r\n\r\n")
            for piece in pieces:
                connection.data_received(piece)
            if waiter.result().status != 200:
                msg = "the answer was not parsed as 200"
                raise SystemExit(msg)
        return (time.process_time() - start) / rounds * 1e6
    finally:
        loop.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", help="another http.py to run alternately, as 'before'")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    ours = _load(str(Path(__file__).parents[1] / "dynamodb_wrapper_async/_wire/http.py"))
    clients = {"llhttp (now)": ours}
    if args.compare:
        clients["before"] = _load(args.compare)
    for name, answer in ANSWERS.items():
        figures: dict[str, list[float]] = {client: [] for client in clients}
        for run in range(args.runs):
            order = list(clients) if run % 2 == 0 else list(reversed(clients))
            for client in order:
                figures[client].append(cpu_per_response(clients[client], answer, args.rounds))
        line = f"{name:18} ({len(answer):6} B):"
        for client, values in figures.items():
            line += f"  {client} {statistics.median(values):6.2f} µs"
        if args.compare:
            ratios = [
                b / a for a, b in zip(figures["llhttp (now)"], figures["before"], strict=True)
            ]
            line += "  before/now per run: " + " ".join(f"{r:.2f}" for r in ratios)
        print(line)


if __name__ == "__main__":
    main()
