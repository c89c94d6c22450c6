"""`inspect-run schemas [--check]`: the JSON Schemas of the config groups.

Writes schemas/*.schema.json (for editors and CI) from the pydantic models; with --check, writes
nothing and exits 1 if a file is out of date.
"""

from __future__ import annotations

import argparse
import sys

from engine.cli._common import EXIT_FAILED, EXIT_OK, Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "schemas",
        help="write schemas/*.schema.json from the config models (--check: fail on drift)",
        description=__doc__,
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a schema is out of date"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.config import drifted, write_schemas

    if args.check:
        stale = drifted()
        if stale:
            print(
                f"schemas out of date: {', '.join(stale)} (run: inspect-run schemas)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        print("schemas up to date")
        return EXIT_OK
    for path in write_schemas():
        print(f"wrote {path}")
    return EXIT_OK
