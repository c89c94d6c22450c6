"""From a composed config to a finished eval: plan (errors before any request), run, close."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import anyio

from engine.config._compose import Composed
from engine.logs import Redactor, find_resumable, run_identity
from engine.runner._display import Display, make_display
from engine.runner._plan import EvalPlan, build_plan
from engine.runner._run import EvalResult, run_plan, safe_name


def default_run_dir(plan: EvalPlan) -> Path:
    """One tidy folder per run under `log_dir`: `<time>_<task>_<model>`."""
    stamp = datetime.now().strftime("%Y-%m-%dT%H-%M-%S-%f")[:-3]
    name = f"{stamp}_{safe_name(plan.config.task.name)}_{safe_name(plan.model_name)}"
    return Path(plan.config.log_dir) / name


def _save_config(composed: Composed, run_dir: Path) -> None:
    """The resolved, validated config beside the log (no secrets: config never holds any)."""
    import yaml

    redact = Redactor()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(
        redact(yaml.safe_dump(composed.resolved, sort_keys=False, allow_unicode=True)),
        encoding="utf-8",
    )
    (run_dir / "overrides.yaml").write_text(
        redact(yaml.safe_dump(composed.overrides, allow_unicode=True)), encoding="utf-8"
    )


async def _run_and_close(
    plan: EvalPlan, run_dir: Path, display: Display, identity: str, resume_log: str | None
) -> EvalResult:
    try:
        return await run_plan(plan, run_dir, display, identity=identity, resume_log=resume_log)
    finally:
        with anyio.CancelScope(shield=True):
            await plan.hub.aclose()


def run_composed(
    composed: Composed, run_dir: Path | None = None, display: Display | None = None
) -> EvalResult:
    """Plan (raising `ConfigError` before any request) and run one task × model."""
    plan = build_plan(composed)
    config = composed.config
    display = display or make_display(config.display)
    identity = run_identity(composed.resolved)
    notes = [*composed.notes, *plan.warnings]
    resumable = None
    if run_dir is None and config.resume:
        resumable = find_resumable(Path(config.log_dir), identity)
    if resumable is not None:
        folder, resume_log = resumable
        notes.append(f"resuming the interrupted run in {folder} (resume=false starts afresh)")
    else:
        folder, resume_log = run_dir or default_run_dir(plan), None
    for note in notes:
        display.message(note)
    _save_config(composed, folder)
    return anyio.run(_run_and_close, plan, folder, display, identity, resume_log)
