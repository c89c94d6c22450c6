"""The cyclic garbage collector paused while a run starts up.

Start-up makes objects that live as long as the process (modules, classes, Hydra's and pydantic's
schemas, the SDK's ~1,000 modules: ~100k tracked objects) and almost no cyclic garbage, yet the
collector walks them all again each time enough new ones have been made: ~0.15 s of CPU, a tenth
of a 1-sample run. `startup()` pauses it around start-up work; when the outermost block ends it
runs again. In the command line's own process (`freeze_after_startup`, called by the console
script) what start-up made is also moved out of the collector's sight (`gc.freeze`), so the
collections during the run do not walk it either; a library caller's process (a test suite, a
notebook) is not frozen, so its own objects stay collectable.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_after_startup", "startup"]

_freeze = False


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
