"""The parser, the table of subcommands, and the entry points `cli(args)` and `main()`.

Adding a subcommand: write `engine/cli/_NAME.py` with `register(subparsers) -> Parser` (which calls
`subparsers.add_parser("NAME", help=…)`) and `run(args) -> int`, and list it in `COMMANDS`. Keep
its top-level imports to argparse and `engine.cli._common`: every module here is imported for any
command line, so heavy imports belong inside `run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.cli import (
    _cache,
    _gate,
    _list,
    _merge,
    _plan,
    _report,
    _run,
    _schemas,
    _score,
    _validate,
)
from engine.cli._common import (
    EXIT_BAD_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Command,
    Exit,
    Parser,
)
from engine.cli._help import DESCRIPTION, USAGE, run_help

COMMANDS: dict[str, Command] = {
    "run": _run,
    "plan": _plan,
    "list": _list,
    "validate": _validate,
    "cache": _cache,
    "schemas": _schemas,
    "report": _report,
    "score": _score,
    "gate": _gate,
    "merge": _merge,
}
"""Subcommand name → its module (`register(subparsers)`, `run(args)`), in the order help lists
them. `run` is also the default: a command line that starts with no command name is a run."""


def build_parser() -> tuple[Parser, dict[str, Parser]]:
    """The main parser and each subcommand's parser, by name."""
    from engine import __version__

    parser = Parser(
        prog="inspect-run", usage=USAGE.removeprefix("usage: "), description=DESCRIPTION
    )
    parser.help_tail = run_help  # `inspect-run --help` is also the run's
    parser.add_argument("--version", action="version", version=f"inspect-run {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", metavar="COMMAND", prog="inspect-run", parser_class=Parser
    )
    parsers = {}
    for name, module in COMMANDS.items():
        parsers[name] = module.register(subparsers)
        parsers[name].set_defaults(parser=parsers[name], run=module.run)
    return parser, parsers


def _unknown_command(word: str) -> str:
    """A first word that is neither a command nor an override (`valdate`): say so, with a
    did-you-mean, rather than let Hydra fail to parse it."""
    from engine.registry import did_you_mean

    names = [name for name in COMMANDS if name != "run"]
    return (
        f"inspect-run: unknown command '{word}'{did_you_mean(word, [*names, 'help'])} "
        f"(commands: {', '.join(names)}; a run takes KEY=VALUE overrides)"
    )


def _is_word(arg: str) -> bool:
    return not arg.startswith(("-", "+", "~")) and "=" not in arg


def _parse(parser: Parser, args: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Options anywhere among the positionals (`task=arc -m model=a,b`), as Hydra users expect;
    a command that keeps its own grammar (`nargs=REMAINDER`) gets its words in order."""
    try:
        return parser.parse_known_intermixed_args(args)
    except TypeError:  # argparse: intermixed parsing cannot take a REMAINDER positional
        return parser.parse_known_args(args)


def cli(args: Sequence[str]) -> int:
    """Run `inspect-run ARGS` in this process; the exit status."""
    args = list(args)
    parser, parsers = build_parser()
    try:
        if args and args[0] == "help":  # `inspect-run help [COMMAND]`
            args = [*args[1:2], "--help"]
        if not args or args[0] not in COMMANDS:
            if args and _is_word(args[0]):
                print(_unknown_command(args[0]), file=sys.stderr)
                return EXIT_BAD_CONFIG
            if args and args[0] in ("-h", "--help", "--version"):
                parser.parse_args(args[:1])  # prints and raises Exit
            args = ["run", *args]
        name, rest = args[0], args[1:]
        namespace, extra = _parse(parsers[name], rest)
        if extra:
            what = "unknown option" if extra[0].startswith("-") else "unexpected argument"
            parsers[name].error(f"{what} {extra[0]} (see inspect-run {name} --help)")
        status: int = namespace.run(namespace)
        return status
    except Exit as done:
        return done.status


def _as_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM outside an eval's event loop does what Ctrl-C does there: raise KeyboardInterrupt.
    While an eval runs, the loop receives SIGTERM itself and cancels the eval cleanly (the log is
    written `cancelled`; `engine.runner.run_interruptible`). Either way the command ends with
    EXIT_INTERRUPTED and no traceback."""
    import signal

    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)  # type: ignore[arg-type]
    else:
        raise KeyboardInterrupt


def main(args: Sequence[str] | None = None) -> None:
    """The console script: `cli(sys.argv[1:])`, then exit with its status."""
    import signal

    from engine._gc import freeze_after_startup

    freeze_after_startup()  # this process ends with the command
    # A CI job killed at its time limit gets SIGTERM: stop exactly as on Ctrl-C.
    signal.signal(signal.SIGTERM, _as_ctrl_c)
    try:
        sys.exit(cli(sys.argv[1:] if args is None else args))
    except KeyboardInterrupt:
        print("inspect-run: interrupted; scored samples are in the log", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`inspect-run list | head -3`): stop quietly, as other tools do,
        # and keep Python from complaining again when it flushes stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


__all__ = ["COMMANDS", "EXIT_OK", "build_parser", "cli", "main"]
