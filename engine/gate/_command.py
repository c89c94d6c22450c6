"""`inspect-run gate LOGS… [gate=NAME] [baseline=LOGS_OR_GIT_REF] [KEY=VALUE…]`, and the same gate
applied when a run or sweep given `gate=NAME` ends."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from engine.config import GateConfig

USAGE = (
    "usage: inspect-run gate LOGS… [gate=NAME] [baseline=LOGS|REF|REF:PATH] [gate.KEY=VALUE …]\n"
    "                         [--junit FILE] [--markdown FILE] [--html FILE]\n"
    "exit status: 0 PASS, 1 FAIL, 3 INCONCLUSIVE, 2 bad config or unreadable logs"
)


def gate_command(paths: list[Path], overrides: list[str], settings: dict[str, Any]) -> int:
    """`paths`: logs or folders; `overrides`: Hydra's (`gate=NAME`, `gate.KEY=VALUE`);
    `settings`: gate fields set as given (`baseline`, `junit`, `markdown`, `html`)."""
    from engine.config import ConfigError

    missing = [p for p in paths if not p.exists()]
    if not paths or missing:
        return _usage(f"no such file or folder: {missing[0]}" if missing else "no LOGS given")
    if not any(o.lstrip("+").startswith("gate=") for o in overrides):
        overrides.insert(0, "gate=default")
    try:
        from engine.config import compose_config

        composed = compose_config(["model=none", *overrides])
    except ConfigError as error:
        print(f"inspect-run: {error}", file=sys.stderr)
        return 2
    config = composed.config.gate or GateConfig()
    config = config.model_copy(update=settings)
    prices = {k: v.model_dump() for k, v in composed.config.prices.items()} or None
    return apply_gate(config, paths, prices)


def _usage(reason: str) -> int:
    print(f"inspect-run: {reason}\n{USAGE}", file=sys.stderr)
    return 2


def apply_gate(config: GateConfig, paths: list[Path], prices: dict[str, Any] | None = None) -> int:
    """Evaluate the gate on the logs under `paths`, print it, write the files it names; the exit
    code (0 PASS, 1 FAIL, 3 INCONCLUSIVE, 2 when it cannot be evaluated)."""
    from engine.compare import UnreadableLog, compare_paths, render_html
    from engine.gate._baseline import GateError, resolve_baseline
    from engine.gate._evaluate import evaluate
    from engine.gate._render import to_html, to_junit, to_markdown, to_text

    with tempfile.TemporaryDirectory(prefix="inspect-run-baseline-") as scratch:
        try:
            current = compare_paths(paths, prices, cluster=config.cluster)
            if not current.runs:
                raise GateError(f"no eval logs under {', '.join(map(str, paths))}")
            baseline = None
            if config.baseline:
                found = resolve_baseline(config.baseline, paths, Path(scratch))
                baseline = compare_paths(found, prices, cluster=config.cluster)
                if not baseline.runs:
                    raise GateError(f"no eval logs in the baseline {config.baseline}")
            result = evaluate(config, current, baseline, prices, config.baseline)
        except (GateError, UnreadableLog) as error:
            print(f"inspect-run: gate: {error}", file=sys.stderr)
            return 2
    print(to_text(result))
    markdown = to_markdown(result)
    outputs = {
        config.junit: to_junit(result),
        config.markdown: markdown,
        config.html: render_html(result.comparison, "inspect-run gate", to_html(result)),
    }
    for target, text in outputs.items():
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # GitHub Actions shows it on the run's page
        with open(summary, "a", encoding="utf-8") as file:
            file.write(markdown)
    return result.exit_code
