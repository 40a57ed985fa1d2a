"""One event-loop thread per process that runs the async core for blocking callers.

- Started lazily on first use, never at import.
- Works from any thread, including one that already runs a loop (Jupyter), because the
  coroutine runs on our own loop thread and the caller waits on a plain lock that the
  coroutine's driver releases on the loop (see ``_Call``).
- Fork-safe: a child process (PySpark workers are forked) sees a new pid and starts its own
  loop; the parent's loop, thread and lock are dropped (a lock held at fork stays held, and
  an inherited loop has no thread while ``is_running()`` may still say True).
- A call from the loop thread itself raises RuntimeError instead of deadlocking.
- KeyboardInterrupt (or any BaseException) while waiting cancels the coroutine on the loop.
- The caller's contextvars are copied into the task.
- At interpreter exit the pooled clients are closed on the loop (drivers and notebooks;
  Spark executors exit with ``os._exit``, so nothing may depend on this there).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextvars
import os
import sys
import threading
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar, cast

from dynamodb_wrapper_async import close_clients

T = TypeVar("T")

_SHUTDOWN_TIMEOUT = 10.0
#: How often a waiting caller wakes to let Python run a pending signal handler (Ctrl-C).
_SIGNAL_CHECK_INTERVAL = 0.25


class _LoopThread:
    """A daemon thread running one event loop forever."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(ready,), name="dynamodb-wrapper-loop", daemon=True
        )
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(_close_clients(), self.loop)
        try:
            future.result(_SHUTDOWN_TIMEOUT)
        except Exception:  # noqa: BLE001 - best effort at exit; nothing to report to
            future.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(_SHUTDOWN_TIMEOUT)


async def _close_clients() -> None:
    await close_clients()
    # let aiohttp's connector finish closing its transports before the loop stops
    await asyncio.sleep(0.05)


class _State:
    """The process's runner; renewed in a forked child (with a fresh, unheld lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: _LoopThread | None = None
        self.atexit_registered = False


_state = _State()


def _reset_after_fork() -> None:
    atexit_registered = _state.atexit_registered
    _state.__init__()  # type: ignore[misc]  # reset in place
    _state.atexit_registered = atexit_registered


os.register_at_fork(after_in_child=_reset_after_fork)


def _loop_thread() -> _LoopThread:
    runner = _state.current
    if runner is not None and runner.pid == os.getpid() and runner.thread.is_alive():
        return runner
    with _state.lock:
        runner = _state.current
        if runner is None or runner.pid != os.getpid() or not runner.thread.is_alive():
            runner = _state.current = _LoopThread()
            if not _state.atexit_registered:
                atexit.register(shutdown)
                _state.atexit_registered = True
        return runner


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the process's loop thread and return its result (or raise its error).

    Raises:
        RuntimeError: Called from the loop thread itself (use the async API there).
    """
    runner = _state.current
    if runner is not None and threading.current_thread() is runner.thread:
        coro.close()
        msg = (
            "dynamodb_wrapper_sync was called from its own event loop thread, which would "
            "deadlock; inside a coroutine, await the dynamodb_wrapper_async API instead"
        )
        raise RuntimeError(msg)
    try:
        runner = _loop_thread()
    except BaseException:
        coro.close()
        raise
    call = _Call(coro, contextvars.copy_context(), runner.loop)
    try:
        call.submit()
        return call.result()
    except BaseException:
        call.cancel()
        raise


#: Python 3.12+ can run a task's first step inside the callback that creates it.
_EAGER_TASKS = sys.version_info >= (3, 12)


def _wake() -> None:
    """A no-op callback: scheduling it thread-safely wakes the loop."""


class _Call(Generic[T]):
    """One coroutine submitted to the loop, cancellable from the caller at any moment.

    The coroutine runs inside a driver coroutine that stores its outcome and then releases a
    lock the caller waits on: a lock is the cheapest cross-thread wake-up (a concurrent
    future's condition cost ~15 µs more per call), and releasing it from the driver itself,
    rather than from a task done-callback, saves a pass of the event loop per call.
    Cancellation is itself scheduled on the loop (callbacks run in order), so a
    KeyboardInterrupt landing anywhere in ``run`` still cancels the coroutine, or closes it if
    it never started.
    """

    def __init__(
        self,
        coro: Coroutine[Any, Any, T],
        context: contextvars.Context,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.coro = coro
        self.context = context
        self.loop = loop
        self.done = threading.Lock()
        self.done.acquire()
        self.value: T | None = None
        self.error: BaseException | None = None
        self.task: asyncio.Task[None] | None = None
        self.cancelled = False

    def submit(self) -> None:
        """Hand the coroutine to the loop so that its first step runs in the loop's next pass.

        Python 3.12+ starts the task eagerly in a callback on the loop. Before, the task is
        created here, in the calling thread, and the loop woken: ``Task()`` only appends its
        first step to the loop's ready queue (one atomic ``deque.append`` under the GIL, what
        ``call_soon_threadsafe`` itself does) and registers the task in a ``WeakSet``. This
        saves the loop pass a callback that creates the task costs (~12 µs here). asyncio's
        debug mode forbids it (it checks the thread), so there the callback does it, and so
        it does on any other loop (uvloop's ``call_soon`` starts a libuv handle, which only
        the loop's thread may do).
        """
        loop = self.loop
        if _EAGER_TASKS or not isinstance(loop, asyncio.BaseEventLoop) or loop.get_debug():
            loop.call_soon_threadsafe(self.start)
            return
        self.task = self.context.run(asyncio.Task, self._drive(), loop=loop)
        loop.call_soon_threadsafe(_wake)

    def start(self) -> None:
        if self.cancelled:
            self.done.release()
            return
        if sys.version_info >= (3, 12):
            self.task = asyncio.Task(
                self._drive(), loop=self.loop, context=self.context, eager_start=True
            )
        else:
            self.task = self.context.run(self.loop.create_task, self._drive())

    async def _drive(self) -> None:
        try:
            self.value = await self.coro
        except BaseException as error:  # noqa: BLE001 - every outcome goes to the caller
            self.error = error  # KeyboardInterrupt/SystemExit too: they would kill the loop
        finally:
            self.done.release()

    def result(self) -> T:
        """Wait for the coroutine and return its result, or raise its exception.

        The wait wakes up every quarter second: a signal the kernel delivers to another
        thread (the loop thread, say) only sets a flag that the main thread checks when it
        runs Python code, so an untimed wait would sit through a Ctrl-C.
        """
        while not self.done.acquire(timeout=_SIGNAL_CHECK_INTERVAL):
            pass
        error = self.error
        if self.task is None or isinstance(error, asyncio.CancelledError):
            raise concurrent.futures.CancelledError
        if error is not None:
            self.error = None  # no reference cycle through the traceback
            raise error
        return cast(T, self.value)

    def cancel(self) -> None:
        self.loop.call_soon_threadsafe(self._cancel_on_loop)

    def _cancel_on_loop(self) -> None:
        self.cancelled = True
        if self.task is None:
            self.coro.close()
        else:
            self.task.cancel()
            # a task cancelled before its first step never enters the driver: close the
            # coroutine so it is not reported as never awaited
            self.task.add_done_callback(lambda _: self.coro.close())


def shutdown() -> None:
    """Close the pooled clients and stop the loop thread; the next call starts a new one."""
    with _state.lock:
        runner, _state.current = _state.current, None
    if runner is not None and runner.pid == os.getpid():
        runner.stop()


def loop_thread_id() -> int | None:
    """Return the ident of this process's loop thread, if running (for tests)."""
    runner = _state.current
    if runner is None or runner.pid != os.getpid():
        return None
    return runner.thread.ident
