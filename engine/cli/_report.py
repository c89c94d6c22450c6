"""`inspect-run report PATH… [-o FILE]`: compare logs in one HTML page.

PATH: logs, run folders or sweep folders. The comparison table is printed and the HTML report
written (default: PATH/report.html for one folder, else ./report.html).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli._common import Parser, Subparsers


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "report",
        help="compare logs, run folders or sweep folders in one HTML page",
        description=__doc__,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="logs or folders")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="the HTML file (default: PATH/report.html for one folder, else ./report.html)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.compare import report_command

    return report_command(args.paths, args.output)
