"""Hydra launchers: joblib and submitit's local executor really run the sweep and give the same
table as the in-process sweep; the Slurm and Ray configs compose and are checked.

Sweeps with a launcher run as processes of their own (forked, `tests.support.zygote`): joblib
keeps its worker processes for the next call, so in process a later test's jobs would run in
workers holding an earlier test's environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.config import ConfigError
from engine.sweeps import plan_sweep
from engine.sweeps._launchers import RayLauncherSettings
from tests.support.cli import run_cli as run_cli_in_process
from tests.support.cli import run_cli_forked as run_cli
from tests.support.quiz import MODELS, quiz_env, quiz_servers, write_quiz

RANDOM = ("latency_p50", "latency_p95", "throughput", "log")
"""What differs between two runs of the same sweep: timings, and where the log is."""


ONE_WORKER = ["hydra/launcher=processes", "hydra.launcher.n_jobs=1"]
"""Hydra's joblib launcher with `n_jobs=1`, which joblib runs one job after the other in the
command's own process (its sequential path, no worker to start: a fresh Python importing the engine
and the SDK costs ~1.5 s of CPU). What these tests show is how the sweep treats jobs a launcher
runs (each its own share of the budget, each failing alone); that the jobs really run in worker
processes is `test_joblib_and_submitit_local_give_the_in_process_table`'s part."""


def table(folder: Path) -> list[dict[str, object]]:
    rows = json.loads((folder / "comparison.json").read_text())
    return [{k: v for k, v in row.items() if k not in RANDOM} for row in rows]


@pytest.mark.slow
def test_joblib_and_submitit_local_give_the_in_process_table(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    sweep = ["-m", "task=quiz", f"model={MODELS}", "limit=12", "display=none"]
    launchers = {"in_process": [], "joblib": ["hydra/launcher=processes"]}
    launchers["submitit"] = ["hydra/launcher=local_submitit"]
    with quiz_servers() as servers:
        for name, extra in launchers.items():
            run = run_cli_in_process if name == "in_process" else run_cli
            done = run(
                *sweep, *extra, f"hydra.sweep.dir=logs/{name}", cwd=tmp_path, env=quiz_env(servers)
            )
            assert done.returncode == 0, f"{name}: {done.stderr}"
        sent = {name: len(server.chat_requests()) for name, server in servers.items()}
    assert sent == dict.fromkeys(servers, 3 * 12)
    expected = table(tmp_path / "logs" / "in_process")
    assert [row["label"] for row in expected] == MODELS.split(",")
    assert table(tmp_path / "logs" / "joblib") == expected
    assert table(tmp_path / "logs" / "submitit") == expected
    # Hydra's own records stay out of the way, under .hydra/ (and submitit's under .submitit/).
    assert (tmp_path / "logs" / "joblib" / "multirun.yaml").exists()
    assert len(list((tmp_path / "logs" / "joblib" / ".hydra").iterdir())) == 3
    assert (tmp_path / "logs" / "submitit" / ".submitit").is_dir()


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    return tmp_path


def test_the_slurm_config_composes_with_submitit(environment: Path) -> None:
    sweep, _, jobs, _ = plan_sweep(
        ["model=openai/a,openai/b", "hydra/launcher=slurm", "hydra.launcher.partition=cpu"]
    )
    assert sweep.launcher == "slurm" and len(jobs) == 2
    launcher = sweep.first.launcher
    assert launcher["_target_"].endswith("SlurmLauncher")
    assert (launcher["partition"], launcher["cpus_per_task"], launcher["timeout_min"]) == (
        "cpu",
        2,
        240,
    )
    with pytest.raises(ConfigError, match="partitionn"):
        plan_sweep(
            ["model=openai/a,openai/b", "hydra/launcher=slurm", "hydra.launcher.partitionn=x"]
        )


def test_the_ray_config_composes_and_is_checked_without_ray(environment: Path) -> None:
    sweep = ["model=openai/a,openai/b", "hydra/launcher=ray_cluster"]
    with pytest.raises(ConfigError) as raised:
        plan_sweep([*sweep, "hydra.launcher.ray.remote.num_cpus=2", "+hydra.launcher.ray.int={}"])
    problems = {problem.key: problem.message for problem in raised.value.problems}
    assert set(problems) == {"hydra.launcher.ray.int", "hydra/launcher"}
    assert "pip install hydra-ray-launcher" in problems["hydra/launcher"]
    # The shipped file itself matches the plugin's RayLauncherConf.
    from omegaconf import OmegaConf

    shipped = OmegaConf.to_container(
        OmegaConf.load(
            Path(__file__).parents[2] / "conf" / "hydra" / "launcher" / "ray_cluster.yaml"
        )
    )
    settings = RayLauncherSettings.model_validate(shipped)
    assert settings.target == "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"
    assert settings.ray.remote == {"num_cpus": 1}


def test_a_missing_launcher_plugin_fails_before_any_request(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    with quiz_servers() as servers:
        done = run_cli(
            "-m",
            "task=quiz",
            f"model={MODELS}",
            "hydra/launcher=ray_cluster",
            cwd=tmp_path,
            env=quiz_env(servers),
        )
        sent = sum(len(server.requests) for server in servers.values())
    assert done.returncode == 2
    assert "ray_cluster.yaml" in done.stderr and "pip install hydra-ray-launcher" in done.stderr
    assert sent == 0 and not (tmp_path / "logs").exists()


def test_a_sweep_budget_is_shared_out_between_jobs_a_launcher_runs_apart(tmp_path: Path) -> None:
    """Each job process gets its share of the cap (by its estimated cost): together they stay
    within it, and the same command with a higher cap finishes every job without repeats."""
    write_quiz(tmp_path)
    (tmp_path / "conf" / "prices").mkdir(parents=True, exist_ok=True)
    prices = "".join(f"{m}: {{input: 0.0, output: 1000000.0}}\n" for m in MODELS.split(","))
    (tmp_path / "conf" / "prices" / "default.yaml").write_text(prices)  # $1 an output token
    sweep = ["-m", "task=quiz", f"model={MODELS}", "limit=10", "display=none"]
    sweep += ["generation.max_tokens=1", "connection.max_connections=1"]
    sweep += [*ONE_WORKER, "hydra.sweep.dir=logs/s"]
    with quiz_servers() as servers:
        env = quiz_env(servers)
        stopped = run_cli(*sweep, "budget.cost=15", cwd=tmp_path, env=env)
        assert stopped.returncode == 1, stopped.stderr
        sent = {name: len(server.chat_requests()) for name, server in servers.items()}
        assert 0 < sum(sent.values()) <= 15 and all(0 < n < 10 for n in sent.values()), sent
        manifest = json.loads((tmp_path / "logs" / "s" / "sweep.json").read_text())
        assert [job["budget"] for job in manifest["jobs"]] == [["budget.cost=5"]] * 3

        done = run_cli(*sweep, "budget.cost=60", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        for server in servers.values():
            prompts = [str(r.messages[-1]["content"]) for r in server.chat_requests()]
            assert len(prompts) == len(set(prompts)) == 10


def test_a_job_another_process_owns_fails_alone_under_a_launcher(tmp_path: Path) -> None:
    """Its process says who owns the folder; the sweep's other jobs run and are compared."""
    from engine.logs import FolderLock

    write_quiz(tmp_path)
    first, *others = MODELS.split(",")
    sweep = ["-m", "task=quiz", f"model={MODELS}", "limit=4", "display=none"]
    sweep += [*ONE_WORKER, "hydra.sweep.dir=logs/s"]
    owned = tmp_path / "logs" / "s" / "quiz" / first.replace("/", "-")
    owned.mkdir(parents=True)
    lock = FolderLock(owned).acquire()
    try:
        with quiz_servers() as servers:
            done = run_cli(*sweep, cwd=tmp_path, env=quiz_env(servers))
            sent = {name: len(server.chat_requests()) for name, server in servers.items()}
    finally:
        lock.release()
    assert done.returncode == 1, done.stderr
    assert f"job did not succeed: task=quiz model={first}" in done.stderr
    assert f"{owned.relative_to(tmp_path)} is in use by process" in done.stderr
    assert sorted(sent.values()) == [0, 4, 4]
    assert [row["label"] for row in table(tmp_path / "logs" / "s")] == others
