"""The cyclic garbage collector during a run: paused at start-up, less eager while samples run.

Start-up makes objects that live as long as the process (modules, classes, Hydra's and pydantic's
schemas, the SDK's ~1,000 modules: ~100k tracked objects) and almost no cyclic garbage, yet the
collector walks them all again each time enough new ones have been made: ~0.15 s of CPU, a tenth
of a 1-sample run. `startup()` pauses it around start-up work; when the outermost block ends it
runs again. In the command line's own process (`freeze_after_startup`, called by the console
script) what start-up made is also moved out of the collector's sight (`gc.freeze`), so the
collections during the run do not walk it either; a library caller's process (a test suite, a
notebook) is not frozen, so its own objects stay collectable.

While samples run (`sampling()`), the youngest generation is collected after `SAMPLING_THRESHOLD`
new objects rather than Python's 700. Hundreds of requests in flight keep tens of thousands of
objects alive for a moment each; at 700 the collector scanned them again and again (and promoted
them, so older generations were scanned too) and found almost nothing to free: ~12 % of a run's
CPU (N=10000, 500 connections), ~0.2 % at 100,000. Cyclic garbage is still collected, less often.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SAMPLING_THRESHOLD", "freeze_after_startup", "sampling", "startup"]

_freeze = False

SAMPLING_THRESHOLD = 100_000
_sampling_lock = threading.Lock()
_sampling_blocks = 0
_thresholds_before = gc.get_threshold()


def freeze_after_startup() -> None:
    """This process is the command line's: freeze what start-up made (it lives until exit)."""
    global _freeze
    _freeze = True


@contextmanager
def startup() -> Iterator[None]:
    """Run the block with the cyclic collector paused (a no-op inside another such block, or when
    the caller paused it)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if _freeze:
            gc.freeze()
        gc.enable()


@contextmanager
def sampling() -> Iterator[None]:
    """Run the block (an eval's samples) with the youngest generation's threshold at
    `SAMPLING_THRESHOLD` (unless it is higher); the last of overlapping blocks to end (a sweep's
    concurrent evals, evals in threads) restores the thresholds the first one found."""
    global _sampling_blocks, _thresholds_before
    with _sampling_lock:
        if _sampling_blocks == 0:
            _thresholds_before = gc.get_threshold()
            young, *older = _thresholds_before
            gc.set_threshold(max(young, SAMPLING_THRESHOLD), *older)
        _sampling_blocks += 1
    try:
        yield
    finally:
        with _sampling_lock:
            _sampling_blocks -= 1
            if _sampling_blocks == 0:
                gc.set_threshold(*_thresholds_before)
