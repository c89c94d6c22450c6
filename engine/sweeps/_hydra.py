"""A sweep through Hydra's multirun and a launcher plugin (joblib, submitit, Ray): one process per
job, for sweeps that need more than one machine or many CPU-bound local models.

The parent has validated every job and written the sweep manifest; each job, wherever the launcher
runs it, composes its own config from its overrides, finds its folder from the manifest, and
reuses, resumes or runs exactly as the in-process sweep does. Hydra's own per-job output goes to
`<sweep>/.hydra/<job number>/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import DictConfig

from engine.config import compose_config, normalize_overrides
from engine.logs import FolderBusy
from engine.runner import run_composed
from engine.sweeps._jobs import classify, read_manifest


def sweep_job(_: DictConfig) -> None:
    """Hydra's task function for one job (top level, so launchers can pickle it by reference)."""
    from hydra.core.hydra_config import HydraConfig

    runtime = HydraConfig.get()
    root = Path(runtime.sweep.dir)
    manifest = read_manifest(root) or {}
    overrides = list(runtime.overrides.task)
    composed = compose_config(overrides)
    job = classify(composed, root, list(manifest.get("swept", [])), overrides)
    folder = str(job.folder.relative_to(root))
    for entry in manifest.get("jobs", []):
        if entry.get("folder") == folder and entry.get("budget"):  # its share of the sweep's
            composed = compose_config([*overrides, *entry["budget"]])
    if job.state == "reuse":
        return
    try:
        run_composed(composed, run_dir=job.folder)
    except FolderBusy as busy:  # this job is not done; the sweep says so and its other jobs run
        print(f"inspect-run: {busy}", file=sys.stderr)


def launch(overrides: list[str], root: Path) -> None:
    """Hand the sweep to Hydra's multirun with the launcher the overrides select."""
    import hydra

    from engine._assets import conf_dir

    main = hydra.main(
        config_path=str(conf_dir().resolve()), config_name="config", version_base="1.3"
    )(sweep_job)
    argv = [
        *normalize_overrides(overrides),
        "hydra.sweep.dir='{}'".format(str(root).replace("\\", "\\\\").replace("'", "\\'")),
        "hydra.sweep.subdir=.hydra/${hydra.job.num}",
    ]
    saved = sys.argv
    sys.argv = [saved[0], "--multirun", *argv]
    try:
        main()
    finally:
        sys.argv = saved
