"""`inspect-run cache list | clear [--model MODEL] | prune`: look after the response cache."""

from __future__ import annotations

import argparse

from engine.cli._common import EXIT_OK, Parser, Subparsers

DESCRIPTION = """\
  list                  entries per model (count, size, oldest, newest, expired) and the file
  clear                 delete every entry
  clear --model MODEL   delete one model's entries (e.g. openai/gpt-4o-mini)
  prune                 delete expired entries and give the space back

The cache lives in $INSPECT_RUN_CACHE_DIR, else $XDG_CACHE_HOME/inspect-run (~/.cache/inspect-run)."""


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "cache",
        help="list, clear or prune the response cache",
        usage="inspect-run cache list | clear [--model MODEL] | prune",
        description=DESCRIPTION,
    )
    # The words after `cache` are the cache command's own small grammar (engine.cache).
    parser.add_argument("words", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.cache import cache_command

    if args.words == ["help"]:
        print(args.parser.format_help(), end="")
        return EXIT_OK
    return cache_command(args.words)
