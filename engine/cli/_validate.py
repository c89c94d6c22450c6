"""`inspect-run validate [CONFIG_DIR …]`: check a config repo in CI.

Checks every YAML file of the config dirs (default: ./conf) against the schemas, and composes and
plans every task, preset and sweep job, printing every problem at once (exit 2). No request is
sent and no API key is needed.
"""

from __future__ import annotations

import argparse

from engine.cli._common import Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "validate",
        help="check config dirs: every file, task, preset and sweep job (exit 2 on a problem)",
        description=__doc__,
    )
    parser.add_argument(
        "config_dirs", nargs="*", metavar="CONFIG_DIR", help="config dirs (default: ./conf)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.cli._problems import validate_command

    return validate_command(args.config_dirs)
