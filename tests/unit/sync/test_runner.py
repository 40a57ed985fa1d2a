"""The per-process loop runner: calls, running loops, threads, fork, re-entrancy, interrupt."""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from dynamodb_wrapper_sync import _runner
from dynamodb_wrapper_sync._runner import run, shutdown

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def double(x: int) -> int:
    await asyncio.sleep(0.001)
    return x * 2


def test_plain_call_runs_on_the_loop_thread() -> None:
    async def where() -> int | None:
        return threading.get_ident()

    assert run(double(21)) == 42
    assert run(where()) == _runner.loop_thread_id() != threading.get_ident()


def test_works_when_the_calling_thread_already_runs_a_loop() -> None:
    def notebook_cell() -> int:
        return run(double(5))  # a sync call made inside a running loop, as in Jupyter

    async def kernel() -> int:
        return notebook_cell()

    assert asyncio.run(kernel()) == 10


@pytest.mark.timeout(30)
def test_many_threads_at_once() -> None:
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(20):
                results[n * 100 + i] = run(double(n * 100 + i))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == {k: 2 * k for k in results}
    assert len(results) == 160


@pytest.mark.timeout(30)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+: fork() with threads
def test_forked_child_gets_its_own_loop() -> None:
    assert run(double(1)) == 2  # the parent has used the runner before forking
    parent_runner = _runner._state.current
    assert parent_runner is not None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report through the pipe, always leave with os._exit
        code = 1
        try:
            value = run(double(21))
            child_runner = _runner._state.current
            reused = child_runner is parent_runner or child_runner is None
            mine = child_runner is not None and child_runner.pid == os.getpid()
            os.write(write_end, f"{value} {reused} {mine}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.02)
    report = os.read(read_end, 100).decode()
    os.close(read_end)
    assert os.waitstatus_to_exitcode(status) == 0
    assert report == "42 False True"
    assert run(double(2)) == 4  # the parent's loop still works


@pytest.mark.timeout(10)
def test_call_from_the_loop_thread_raises_instead_of_deadlocking() -> None:
    async def reenter() -> int:
        return run(double(1))

    with pytest.raises(RuntimeError, match="await the dynamodb_wrapper_async API"):
        run(reenter())


def test_exceptions_keep_type_and_identity() -> None:
    error = LookupError("missing")

    async def fail() -> None:
        raise error

    with pytest.raises(LookupError) as caught:
        run(fail())
    assert caught.value is error


@pytest.mark.parametrize("error", [KeyboardInterrupt(), SystemExit(3)])
def test_interrupts_raised_on_the_loop_reach_the_caller_and_the_loop_lives(
    error: BaseException,
) -> None:
    async def interrupted() -> None:
        await asyncio.sleep(0)
        raise error

    assert run(double(1)) == 2
    loop_thread = _runner.loop_thread_id()
    with pytest.raises(type(error)) as caught:
        run(interrupted())
    assert caught.value is error
    assert run(double(4)) == 8
    assert _runner.loop_thread_id() == loop_thread  # the same loop thread still runs


def test_caller_contextvars_are_copied() -> None:
    async def read_var() -> str:
        return request_id.get()

    token = request_id.set("req-7")
    try:
        assert run(read_var()) == "req-7"
    finally:
        request_id.reset(token)


def _to_the_process() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def _to_the_loop_thread() -> None:
    loop_thread = _runner.loop_thread_id()
    assert loop_thread is not None
    signal.pthread_kill(loop_thread, signal.SIGINT)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "send_sigint", [_to_the_process, _to_the_loop_thread], ids=["process", "loop-thread"]
)
def test_keyboard_interrupt_cancels_the_coroutine(send_sigint: Callable[[], None]) -> None:
    """Ctrl-C raises KeyboardInterrupt in the waiting caller and cancels the coroutine, also
    when the kernel hands the signal to the loop thread (uvloop's got it in CI, and a caller
    blocked on its lock never ran the handler)."""
    cancelled = threading.Event()
    started = threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def interrupt() -> None:
        started.wait(5)
        send_sigint()

    timer = threading.Thread(target=interrupt)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run(slow())
    timer.join()
    assert cancelled.wait(5)


@pytest.mark.timeout(20)
def test_shutdown_is_idempotent_and_the_runner_restarts_lazily() -> None:
    assert run(double(1)) == 2
    first = _runner._state.current
    assert first is not None
    shutdown()
    shutdown()
    assert _runner.loop_thread_id() is None
    assert not first.thread.is_alive()
    assert run(double(3)) == 6
    assert _runner._state.current not in (None, first)


@pytest.mark.parametrize("debug", [False, True])
def test_calls_work_with_the_loop_in_debug_mode_or_not(debug: bool) -> None:
    """In debug mode asyncio refuses a task created off the loop thread; the runner must not."""
    assert run(double(1)) == 2
    runner = _runner._state.current
    assert runner is not None
    runner.loop.set_debug(debug)
    try:
        results = [run(double(n)) for n in range(5)]
        with pytest.raises(LookupError):
            run(_raise(LookupError("missing")))
    finally:
        runner.loop.set_debug(False)
    assert results == [0, 2, 4, 6, 8]


async def _raise(error: BaseException) -> None:
    raise error


def _uvloop_loop() -> asyncio.AbstractEventLoop:
    uvloop = pytest.importorskip("uvloop")  # a dev dependency
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["asyncio", "uvloop"])
def test_the_caller_thread_creates_the_task_only_on_asyncios_own_loop(kind: str) -> None:
    """Before 3.12, a call's task is made in the caller's thread only on asyncio's loop.

    uvloop's ``call_soon`` starts a libuv handle, which only the loop's thread may do: there
    the task is created by a callback on the loop. The loop is held busy while the call is
    submitted, so where the task was made shows.
    """
    loop = asyncio.SelectorEventLoop() if kind == "asyncio" else _uvloop_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    busy, release = threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        release.wait()

    try:
        loop.call_soon_threadsafe(hold)
        busy.wait()
        call = _runner._Call(double(4), contextvars.copy_context(), loop)
        call.submit()
        made_by_caller = call.task is not None
        release.set()
        assert call.result() == 8
        assert made_by_caller is (kind == "asyncio" and not _runner._EAGER_TASKS)
    finally:
        release.set()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
