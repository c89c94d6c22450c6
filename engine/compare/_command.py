"""`inspect-run report PATH… [-o FILE]`: the comparison of any set of logs, as one HTML page."""

from __future__ import annotations

import sys
from pathlib import Path

USAGE = "usage: inspect-run report PATH… [-o report.html]  (logs, run folders or sweep folders)"


def report_command(paths: list[Path], output: Path | None = None) -> int:
    from engine._secrets import redact
    from engine.compare import UnreadableLog
    from engine.compare._html import render_html
    from engine.compare._table import compare_paths

    missing = [p for p in paths if not p.exists()]
    if not paths or missing:
        reason = f"no such file or folder: {missing[0]}" if missing else "no PATH given"
        print(f"inspect-run: {reason}\n{USAGE}", file=sys.stderr)
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
        output = (
            paths[0] / "report.html"
            if len(paths) == 1 and paths[0].is_dir()
            else Path("report.html")
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    from engine.gate import reliability, reliability_html

    graders = {f"{run.task} / {run.label}": reliability(run) for run in comparison.runs}
    appendix = reliability_html({name: found for name, found in graders.items() if not found.empty})
    output.write_text(redact(render_html(comparison, appendix=appendix)), encoding="utf-8")
    print(redact(comparison.to_text()))
    print(f"\nreport: {output}")
    return 0
