"""`inspect-run gate LOGS… [gate=NAME] [baseline=…] [KEY=VALUE…]`: pass or fail a change.

Evaluates a gate (conf/gate/NAME.yaml, default: default) on the logs under LOGS, against a
baseline (logs, a git ref, or REF:PATH).
exit status: 0 PASS, 1 FAIL, 3 INCONCLUSIVE, 2 bad config or unreadable logs
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli._common import Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "gate",
        help="PASS, FAIL or INCONCLUSIVE for logs against thresholds and a baseline",
        usage="inspect-run gate LOGS… [gate=NAME] [baseline=LOGS|REF|REF:PATH] [gate.KEY=VALUE …]\n"
        "                        [--junit FILE] [--markdown FILE] [--html FILE]",
        description=__doc__,
    )
    parser.add_argument(
        "items",
        nargs="*",
        metavar="LOGS|KEY=VALUE",
        help="log files or folders, and gate=NAME, baseline=…, gate.KEY=VALUE",
    )
    for flag in ("junit", "markdown", "html"):
        parser.add_argument(f"--{flag}", metavar="FILE", help=f"also write the verdict as {flag}")
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.gate import gate_command

    paths = [Path(item) for item in args.items if "=" not in item]
    settings = {k: getattr(args, k) for k in ("junit", "markdown", "html") if getattr(args, k)}
    overrides: list[str] = []
    for item in (item for item in args.items if "=" in item):
        if item.startswith("baseline="):  # a git ref is not Hydra syntax
            settings["baseline"] = item.removeprefix("baseline=")
        else:
            overrides.append(item)
    return gate_command(paths, overrides, settings)
