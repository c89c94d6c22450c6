"""`inspect-run list`: what a config can name.

The tasks (built-in, ./conf and INSPECT_RUN_CONFIG_PATH), then the solvers, scorers, metrics and
epoch reducers: built-in, installed plugins' and yours.
"""

from __future__ import annotations

import argparse

from engine.cli._common import EXIT_OK, Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    return subparsers.add_parser(
        "list",
        help="the tasks and components you can name in a config",
        description=__doc__,
    )


def run(args: argparse.Namespace) -> int:
    from engine._listing import print_components
    from engine.config import list_command

    status = list_command([])
    if status == EXIT_OK:
        print()
        print_components()
    return status
