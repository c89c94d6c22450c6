"""Run an eval's event loop so that SIGTERM stops it exactly as Ctrl-C does.

On Ctrl-C asyncio's own SIGINT handler cancels the loop's main task (the eval writes a `cancelled`
log) and the run ends in KeyboardInterrupt. asyncio installs that handler only while SIGINT has
its default handler; a process started with SIGINT ignored (`inspect-run … &` from a script) gets
none, and a SIGTERM handled outside the loop raised KeyboardInterrupt in whatever task was running
(a traceback, an unwritten log). So SIGTERM is received by the loop itself and cancels the main
task, whatever SIGINT's state.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")


def run_interruptible(function: Callable[..., Awaitable[T]], *args: object) -> T:
    """`anyio.run(function, *args)`; SIGTERM cancels it, which ends in KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        return anyio.run(function, *args)  # signals reach the main thread only

    async def main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        previous = signal.getsignal(signal.SIGTERM)

        def terminate() -> None:
            terminated.append(True)
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, terminate)
        try:
            return await function(*args)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    terminated: list[bool] = []
    try:
        return anyio.run(main)
    except asyncio.CancelledError:
        if terminated:
            raise KeyboardInterrupt from None
        raise
