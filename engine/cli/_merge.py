"""`inspect-run merge SHARD_LOGS… [-o OUT]`: the shard logs (or folders) of one job made into one
log equal in content to an unsharded run: samples, metrics recomputed over all of them, usage
summed. Refuses logs of different jobs and missing or repeated shards (exit 2)."""

from __future__ import annotations

import argparse

from engine.cli._common import Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "merge",
        help="merge the shard logs of one job into one log",
        usage="inspect-run merge SHARD_LOGS… [-o OUT]",
        description=__doc__,
    )
    # The merge command keeps its own small grammar (engine.shards): paths and `-o OUT`.
    parser.add_argument("words", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.shards import merge_command

    return merge_command(args.words)
