"""`inspect-run score LOG… [SCORER…] [roles.grader=MODEL] [KEY=VALUE…]`: re-score logs.

Re-scores the samples of each log (no generation) into a new log beside it, with the task's
scorers or the SCORERs named, and prints how the new scores agree with the old ones.
"""

from __future__ import annotations

import argparse

from engine.cli._common import Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "score",
        help="re-score the samples of logs (no generation) into new logs beside them",
        usage="inspect-run score LOG… [SCORER…] [roles.grader=MODEL] [KEY=VALUE…]",
        description=__doc__,
    )
    parser.add_argument(
        "items",
        nargs="*",
        metavar="LOG|SCORER|KEY=VALUE",
        help="logs (.eval, .json), scorer names and config overrides, in any order",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.config import load_dotenv
    from engine.runner import score_command

    load_dotenv()  # a grader's API key may be in .env
    return score_command(args.items)
