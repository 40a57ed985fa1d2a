"""CPU per parsed response: the hand-written parser (before) against llhttp (after).

Not a test: ``python benchmarks/http_parse_cpu.py`` prints both figures. The hand-written
parser is loaded from git (the last commit that had it); both run the same
``_Connection.request`` + ``data_received`` over a fake transport, best of 5 x 50,000.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

from dynamodb_wrapper_async._wire import http as after

BEFORE = "35d4dd8"  # the last commit with the hand-written parser


def _before() -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:dynamodb_wrapper_async/_wire/http.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    ).stdout
    module = types.ModuleType("http_before")
    sys.modules[module.__name__] = module
    exec(compile(source, "http_before.py", "exec"), module.__dict__)  # noqa: S102
    return module


BODY = json.dumps(
    {
        "Item": {
            "pipeline_id": {"S": "p" * 20},
            "n": {"N": "12"},
            "tags": {"L": [{"S": "x" * 30}] * 20},
        }
    }
).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: Server\r\nDate: Wed, 02 Dec 2026 07:00:00 GMT\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\n"
    b"Content-Length: %d\r\nConnection: keep-alive\r\n"
    b"x-amzn-RequestId: 8ENJ5KGH2RTV1BUSMD0EXAMPLEVV4KQNSO5AEMVJF66Q9ASUAAJG\r\n"
    b"x-amz-crc32: 1234567890\r\n\r\n" % len(BODY)
) + BODY


class _FakeTransport:
    def write(self, data: bytes) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def microseconds_per_response(module: Any, n: int = 50_000) -> float:
    loop = asyncio.new_event_loop()
    connection = module._Connection(loop)
    connection.connection_made(_FakeTransport())
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(n):
            waiter = connection.request(b"x")
            connection.data_received(RESPONSE)
            waiter.result()
        best = min(best, (time.process_time() - start) / n)
    loop.close()
    return best * 1e6


def main() -> None:
    before = _before()
    print(f"a {len(RESPONSE)}-byte response, in one read, CPU per request + parse:")
    print(f"  hand-written parser: {microseconds_per_response(before):.2f} µs")
    print(f"  llhttp (httptools):  {microseconds_per_response(after):.2f} µs")


if __name__ == "__main__":
    main()
