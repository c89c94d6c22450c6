"""Check the selected Hydra launcher before a sweep starts: its plugin is installed, and a config
Hydra cannot check itself (Ray's, written out so it composes without the plugin) has known keys."""

from __future__ import annotations

import importlib.util
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.config import Problem, display_path, find_group_file
from engine.sweeps._ray import TARGET as RAY_TASKS
from engine.sweeps._ray import RayTasks, missing_env

PLUGINS = {
    "hydra_plugins.hydra_joblib_launcher": "hydra-joblib-launcher",
    "hydra_plugins.hydra_submitit_launcher": "hydra-submitit-launcher",
    "hydra_plugins.hydra_ray_launcher": "hydra-ray-launcher",
}
"""Launcher plugin module → the package that provides it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RaySettings(_Strict):
    init: dict[str, Any] = Field(default_factory=dict)
    """Arguments of `ray.init` (address, num_cpus, runtime_env, …)."""
    remote: dict[str, Any] = Field(default_factory=dict)
    """Options of `@ray.remote` for each job (num_cpus, num_gpus, memory, max_retries, …)."""


class RayLauncherSettings(_Strict):
    """hydra-ray-launcher's `RayLauncherConf` (hydra/launcher=ray), as of 1.2."""

    target: str = Field(alias="_target_")
    ray: RaySettings = RaySettings()


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _check_ray_tasks(settings: dict[str, Any], source: str) -> list[Problem]:
    from engine.registry import did_you_mean

    problems: list[Problem] = []
    try:
        parsed = RayTasks.model_validate(settings)
    except ValidationError as error:
        for problem in error.errors():
            loc = [str(part) for part in problem["loc"]]
            message = problem["msg"]
            if problem["type"] == "extra_forbidden":
                known = [f for f in RayTasks.model_fields if f != "target"]
                message = f"unknown key (expected one of: {', '.join(known)})"
                message += did_you_mean(loc[-1], known)
            problems.append(Problem(".".join(["hydra.launcher", *loc]), message, source))
        parsed = None
    if parsed is not None and missing_env(parsed):
        names = ", ".join(missing_env(parsed))
        problems.append(
            Problem("hydra.launcher.env", f"not set in this environment: {names}", source)
        )
    if not _module_exists("ray"):
        problems.append(
            Problem(
                "hydra/launcher",
                "the 'ray_tasks' launcher needs the ray package, which is not installed "
                "(pip install 'inspect-run[ray]')",
                source,
            )
        )
    return problems


def check_launcher(choice: str, settings: dict[str, Any]) -> list[Problem]:
    path = find_group_file("hydra/launcher", choice)
    source = display_path(path) if path is not None else f"command line: hydra/launcher={choice}"
    target = str(settings.get("_target_") or "")
    problems: list[Problem] = []
    if "hydra_ray_launcher" in target:
        try:
            RayLauncherSettings.model_validate(settings)
        except ValidationError as error:
            for problem in error.errors():
                key = ".".join(["hydra.launcher", *(str(part) for part in problem["loc"])])
                problems.append(Problem(key, problem["msg"], source))
    if target == RAY_TASKS:
        return _check_ray_tasks(settings, source)
    module = target.rpartition(".")[0]
    if module and not _module_exists(module):
        plugin = next((p for p in PLUGINS if module.startswith(p)), module)
        package = PLUGINS.get(plugin, plugin)
        problems.append(
            Problem(
                "hydra/launcher",
                f"the '{choice}' launcher needs the {package} package, which is not installed "
                f"(pip install {package})",
                source,
            )
        )
    return problems
