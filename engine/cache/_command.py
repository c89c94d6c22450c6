"""`inspect-run cache list|clear|prune`: look after the response cache."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Sequence

from engine.cache._store import CacheError, ResponseCache, cache_path

USAGE = "usage: inspect-run cache list | clear [--model MODEL] | prune"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _usage_error(message: str) -> int:
    print(f"inspect-run cache: {message}\n{USAGE}", file=sys.stderr)
    return EXIT_USAGE


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def _list(cache: ResponseCache) -> None:
    entries = cache.entries()
    total = sum(e.count for e in entries)
    files = [cache.path, cache.path.with_name(f"{cache.path.name}-wal")]
    on_disk = sum(p.stat().st_size for p in files if p.is_file())
    print(f"cache: {cache.path} ({total} entries, {_size(on_disk)} on disk)")
    if not entries:
        return
    width = max(len("MODEL"), *(len(e.model) for e in entries))
    print(
        f"{'MODEL':<{width}}  {'ENTRIES':>7}  {'SIZE':>9}  {'OLDEST':<16}  {'NEWEST':<16}  EXPIRED"
    )
    for e in entries:
        print(
            f"{e.model:<{width}}  {e.count:>7}  {_size(e.size):>9}  "
            f"{_when(e.oldest):<16}  {_when(e.newest):<16}  {e.expired}"
        )


def _parse_model(args: list[str]) -> tuple[str | None, str | None]:
    """(model, error) from `[--model MODEL | --model=MODEL]`."""
    if not args:
        return None, None
    if len(args) == 1 and args[0].startswith("--model="):
        model = args[0].removeprefix("--model=")
        return (model, None) if model else (None, "--model needs a model string")
    if len(args) == 2 and args[0] == "--model" and args[1] and not args[1].startswith("-"):
        return args[1], None
    if args[0] == "--model":
        return None, "--model needs a model string"
    return None, f"unexpected argument {args[0]!r}"


def cache_command(args: Sequence[str]) -> int:
    """Run `inspect-run cache ARGS`; returns the exit status (2 for bad usage)."""
    args = list(args)
    if not args:
        return _usage_error("missing command")
    command, rest = args[0], args[1:]
    if command not in ("list", "clear", "prune"):
        return _usage_error(f"unknown command {command!r}")
    model = None
    if command == "clear":
        model, problem = _parse_model(rest)
        if problem:
            return _usage_error(problem)
    elif rest:
        return _usage_error(f"unexpected argument {rest[0]!r}")

    path = cache_path()
    if not path.exists():  # nothing to show or delete; do not create the file for that
        print(f"cache: {path} (empty)")
        return EXIT_OK
    try:
        with ResponseCache(path) as cache:
            if command == "list":
                _list(cache)
            elif command == "clear":
                deleted = cache.clear(model)
                which = f" for {model}" if model else ""
                print(f"cleared {deleted} entries{which} from {path}")
            else:
                deleted = cache.prune()
                print(f"pruned {deleted} expired entries from {path} ({cache.count()} left)")
    except CacheError as error:
        print(f"inspect-run cache: {error}", file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.Error as error:
        print(f"inspect-run cache: {path}: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
