"""`inspect-run report PATH… [-o FILE]`: compare logs in one HTML page.

PATH: logs, run folders or sweep folders. The comparison table is printed and the HTML report
written (default: PATH/report.html for one folder, else ./report.html).
"""

from __future__ import annotations

import argparse
import sys
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
    return report(args.paths, args.output)


def report(paths: list[Path], output: Path | None = None) -> int:
    """The comparison of `paths` printed and written as one HTML page, with the graders'
    reliability (from the gate package) as its appendix."""
    from engine._secrets import redact
    from engine.compare import UnreadableLog, compare_paths, render_html
    from engine.gate import reliability, reliability_html

    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"inspect-run: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    try:
        comparison = compare_paths(paths)
    except UnreadableLog as error:
        print(f"inspect-run: {error}", file=sys.stderr)
        return 2
    if not comparison.runs:
        print(f"inspect-run: no eval logs under {', '.join(map(str, paths))}", file=sys.stderr)
        return 2
    if output is None:
        one_folder = len(paths) == 1 and paths[0].is_dir()
        output = paths[0] / "report.html" if one_folder else Path("report.html")
    output.parent.mkdir(parents=True, exist_ok=True)
    graders = {f"{run.task} / {run.label}": reliability(run) for run in comparison.runs}
    appendix = reliability_html({name: found for name, found in graders.items() if not found.empty})
    output.write_text(redact(render_html(comparison, appendix=appendix)), encoding="utf-8")
    print(redact(comparison.to_text()))
    print(f"\nreport: {output}")
    return 0
