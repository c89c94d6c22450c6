"""What every subcommand shares: exit statuses, the parser class, and how a failure is printed.

Cheap to import (argparse, sys and the leaf `engine.errors` only): every subcommand module imports it at start-up.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, Protocol

from engine.errors import InspectRunError

EXIT_OK, EXIT_FAILED, EXIT_BAD_CONFIG = 0, 1, 2
EXIT_INCONCLUSIVE = 3
"""A gate that cannot decide (`gate=NAME` on a run or sweep, or `inspect-run gate`)."""
EXIT_BUSY = 75
"""Another live process owns the run or sweep folder (`EX_TEMPFAIL`); this one sent nothing."""
EXIT_INTERRUPTED = 130
"""Ctrl-C or SIGTERM: the log is `cancelled` and the same command resumes it."""


class Exit(InspectRunError):
    """A parser finished the command early (`--help`, `--version`, a usage error): the status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` that returns a status instead of leaving the process (`cli()` is called
    in process by tests and by `engine.run`), and prints usage errors as `inspect-run CMD: …`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    help_tail: Callable[[], str] | None = None
    """Text after the options, made only when help is shown (it may look at files)."""

    def format_help(self) -> str:
        text = super().format_help()
        return f"{text}\n{self.help_tail()}\n" if self.help_tail else text

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, end="", file=sys.stderr)
        raise Exit(status)

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}\n{self.format_usage()}", end="", file=sys.stderr)
        raise Exit(EXIT_BAD_CONFIG)


def fail(error: object, status: int | None = None) -> int:
    """Print `inspect-run: ERROR` with any secret masked, and return `status`: by default an
    `InspectRunError`'s own `exit_status` (`ConfigError` 2, `FolderBusy` 75, …), else 2."""
    from engine._secrets import redact

    if status is None:
        status = error.exit_status if isinstance(error, InspectRunError) else EXIT_BAD_CONFIG

    print(redact(f"inspect-run: {error}"), file=sys.stderr)
    return status


if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[Parser]
else:
    Subparsers = argparse._SubParsersAction
"""What `register(subparsers)` receives: `subparsers.add_parser(NAME, …)` makes a `Parser`."""


class Command(Protocol):
    """A subcommand module: `register` adds its parser (`subparsers.add_parser(NAME, help=…)`),
    `run` does the work once the arguments are parsed and returns the exit status."""

    def register(self, subparsers: Subparsers) -> Parser: ...

    def run(self, args: argparse.Namespace) -> int: ...
