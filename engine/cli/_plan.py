"""`inspect-run plan [-m] KEY=VALUE … [--json]`: for every job, the samples, the requests per
model and role, estimated tokens and cost (the cache looked up, batch prices where batched), and
nothing sent. The same as `plan=true` on a run or sweep.
"""

from __future__ import annotations

import argparse

from engine.cli._common import Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "plan",
        help="requests, tokens and cost of a run or sweep; nothing sent",
        description=__doc__,
    )
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="as for a run")
    parser.add_argument("-m", "--multirun", action="store_true", help="plan a sweep")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.cli import _run

    args.overrides = [*args.overrides, "plan=true"]
    args.cfg = None
    return _run.run(args)
