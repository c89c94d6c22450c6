"""Ray tasks (`hydra/launcher=ray_tasks`, `run_parts_on_ray`) on a real local Ray cluster: a head
started on 127.0.0.1 once for this module, its workers reaching the quiz servers in this process.

A two-job sweep gives the in-process sweep's manifest and table, one job runs as two parts and as
two shards, and every run folder is gathered into the one log_dir (nothing of the workers'
temporary folders, and no API key, in any file: ours or Ray's)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine.cli import cli
from engine.config import ConfigError
from engine.logs import read_log, read_run_file
from engine.sweeps import plan_sweep
from engine.sweeps._ray import LOOPBACK_ONLY, RayTasks, run_parts_on_ray
from tests.support.openai_server import Answer, Request, error
from tests.support.processes import stop_session
from tests.support.quiz import answer, quiz_env, quiz_servers, write_quiz

# Starts Ray; one worker runs this module: one Ray cluster (module fixture).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_ray")]

SECRET = "sk-ray-test-secret-4711"
RANDOM = ("latency_p50", "latency_p95", "throughput", "log")
"""What differs between two runs of the same sweep: timings, and where the log is."""
TWO_MODELS = "openai-api/fast/best,openai-api/mid/close"
ENV = ["FAST_BASE_URL", "FAST_API_KEY", "MID_BASE_URL", "MID_API_KEY"]
"""What the workers need from this process's environment (sent by name)."""


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`ray start --head --block` on 127.0.0.1 with 1 CPU; its address and its temp dir.

    Ray starts one worker process per CPU for every driver that connects (each `cli` call is a new
    Ray job), so one CPU halves the processes the module starts; a job's tasks then take turns on
    one worker, which Ray reuses as it would on a busy cluster. Neither the autoscaler's monitor
    nor the log monitor (which copies workers' output to the driver) has anything to do here.

    Ray swaps 127.0.0.1 for the machine's routable address unless told that this is not a cluster
    of several machines (`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`), for the head and for this driver.
    Token auth is off (Ray reads both when first imported, so both are set for the whole module):
    with it, a local Ray leaves a token file in ~/.ray that later heads would pick up.
    """
    temp = tmp_path_factory.mktemp("ray")
    settings = {LOOPBACK_ONLY: "0", "RAY_AUTH_MODE": "disabled"}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    command = [
        str(Path(sys.executable).with_name("ray")),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        "--port=0",
        "--num-cpus=1",
        "--include-log-monitor=false",
        "--no-monitor",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--object-store-memory=100000000",
        f"--temp-dir={temp}",
    ]
    head = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert head.stdout is not None
        seen = []
        for line in head.stdout:  # once it blocks, its address is in the temp dir (`auto` reads it)
            seen.append(line)
            if "--block" in line:
                break
        current = temp / "ray_current_cluster"
        assert current.exists(), "".join(seen)
        address = current.read_text().strip()
        assert address.startswith("127.0.0.1:"), address
        threading.Thread(target=head.stdout.read, daemon=True).start()  # keep the pipe drained
        yield address, temp
    finally:
        stop_session(head, timeout=60)  # and the idle workers that outlive it
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def quiz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    with quiz_servers() as servers:
        for name, value in quiz_env(servers).items():
            monkeypatch.setenv(name, SECRET if name.endswith("_API_KEY") else value)
        for server in servers.values():
            server.api_key = SECRET  # a worker without the key sent along gets a 401
        yield servers


def table(folder: Path) -> list[dict[str, object]]:
    rows = json.loads((folder / "comparison.json").read_text())
    return [{k: v for k, v in row.items() if k not in RANDOM} for row in rows]


def manifest(folder: Path) -> list[tuple[str, str]]:
    jobs = json.loads((folder / "sweep.json").read_text())["jobs"]
    return [(job["folder"], job["label"]) for job in jobs]


def files_holding(root: Path, text: str) -> list[Path]:
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and text.encode() in path.read_bytes()
    ]


def eval_samples(folder: Path) -> list[tuple[str, str]]:
    record = read_run_file(folder)
    assert record is not None and record["status"] == "success"
    log = read_eval_log(str(folder / record["log"]))
    return [(str(s.id), str(s.scores["match"].value)) for s in log.samples or []]


def test_a_sweep_on_ray_is_the_local_sweep(
    ray_head: tuple[str, Path], quiz: dict, tmp_path: Path
) -> None:
    address, ray_temp = ray_head
    sweep = ["-m", "task=quiz", f"model={TWO_MODELS}", "limit=10", "display=none"]
    on_ray = [
        "hydra/launcher=ray_tasks",
        f"hydra.launcher.address={address}",
        f"hydra.launcher.env=[{','.join(ENV)}]",
    ]
    assert cli([*sweep, "hydra.sweep.dir=logs/local"]) == 0
    assert cli([*sweep, *on_ray, "hydra.sweep.dir=logs/ray"]) == 0
    sent = {name: len(server.chat_requests()) for name, server in quiz.items()}
    assert sent == {"best": 20, "close": 20, "weak": 0}

    local, ray = tmp_path / "logs" / "local", tmp_path / "logs" / "ray"
    assert manifest(ray) == manifest(local)
    assert table(ray) == table(local)
    for folder, _ in manifest(ray):
        assert eval_samples(ray / folder) == eval_samples(local / folder)
        assert read_run_file(ray / folder) == read_run_file(ray / folder)

    # Done jobs are reused from the gathered logs: nothing more is sent.
    assert cli([*sweep, *on_ray, "hydra.sweep.dir=logs/ray"]) == 0
    assert sum(len(server.chat_requests()) for server in quiz.values()) == 40

    assert files_holding(tmp_path / "logs", "inspect-run-ray-") == []  # workers' folders
    assert files_holding(tmp_path, SECRET) == []
    assert files_holding(ray_temp, SECRET) == []


def test_an_unfinished_job_resumes_on_a_worker_from_the_gathered_files(
    ray_head: tuple[str, Path], quiz: dict, tmp_path: Path
) -> None:
    """Its folder's files go to the worker, which sends only the samples still missing."""
    address, _ = ray_head
    refused = {5, 6, 7}

    def refusing(request: Request) -> Answer:
        number = int(request.messages[-1]["content"].split(":")[0].removeprefix("Question "))
        return error(400, "refused") if number in refused else answer(request)

    quiz["best"].responder = refusing
    sweep = ["-m", "task=quiz", f"model={TWO_MODELS}", "limit=10", "display=none"]
    sweep += ["hydra/launcher=ray_tasks", f"hydra.launcher.address={address}"]
    sweep += [f"hydra.launcher.env=[{','.join(ENV)}]", "hydra.sweep.dir=logs/ray"]
    assert cli(sweep) == 1
    folder = tmp_path / "logs" / "ray" / "quiz" / "openai-api-fast-best"
    assert (read_run_file(folder) or {})["status"] == "error"
    before = len(quiz["best"].chat_requests())

    refused.clear()
    assert cli(sweep) == 0
    assert len(quiz["best"].chat_requests()) - before == 3
    assert len(quiz["close"].chat_requests()) == 10  # reused, not sent again
    samples = eval_samples(folder)
    assert [sample for sample, _ in samples] == [f"q{i:02d}" for i in range(1, 11)]
    assert [sample for sample, value in samples if value != "C"] == ["q01", "q02", "q03", "q04"]


def test_one_job_in_two_parts_and_in_two_shards_on_ray(
    ray_head: tuple[str, Path], quiz: dict, tmp_path: Path
) -> None:
    """Parts of one job as Ray tasks, gathered each into its folder: two sample ranges
    (`limit=[a,b]`), and two `shard=I/N` shards that `merge` makes one log of every sample,
    scored as a single process would score it. (One call, so one Ray job and one worker.)"""
    from engine.shards import merge_logs

    address, _ = ray_head
    settings = RayTasks(address=address, env=["FAST_BASE_URL", "FAST_API_KEY"])
    job = ["task=quiz", "model=openai-api/fast/best", "display=none"]
    names = ["part-0", "part-1", "shard-0", "shard-1"]
    folders = [tmp_path / "logs" / name for name in names]
    parts = [["limit=[0,20]"], ["limit=[20,40]"], ["shard=0/2"], ["shard=1/2"]]
    outcomes = run_parts_on_ray(job, parts, folders, settings)

    assert [outcome.status for outcome in outcomes] == ["success"] * 4
    assert [outcome.run.folder for outcome in outcomes] == folders
    first, second = (eval_samples(folder) for folder in folders[:2])
    assert [sample for sample, _ in first] == [f"q{i:02d}" for i in range(1, 21)]
    assert [sample for sample, _ in second] == [f"q{i:02d}" for i in range(21, 41)]
    wrong = [sample for sample, value in first + second if value != "C"]
    assert wrong == ["q01", "q02", "q03", "q04"]  # the 'best' model's known mistakes

    merged = merge_logs(folders[2:], tmp_path / "merged.eval")
    assert merged.status == "success"
    log = read_log(merged.path)
    scores = {s["id"]: s["scores"]["match"]["value"] for s in log["samples"]}
    assert sorted(scores) == [f"q{i:02d}" for i in range(1, 41)]
    assert sorted(k for k, v in scores.items() if v != "C") == ["q01", "q02", "q03", "q04"]
    assert log["results"]["scores"][0]["metrics"]["accuracy"]["value"] == 36 / 40
    assert len(quiz["best"].chat_requests()) == 80


def test_a_local_ray_started_for_the_job_listens_on_the_loopback_only(
    quiz: dict,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`address=local` (the default): a Ray of this machine, started and stopped by the call."""
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # no token file in ~/.ray from a test
    ray_temp = tmp_path_factory.mktemp("ray")  # short: Ray's socket paths must fit in 107 bytes
    init = {"num_cpus": 1, "include_dashboard": False, "_temp_dir": str(ray_temp)}  # 1 worker
    settings = RayTasks(env=["FAST_BASE_URL", "FAST_API_KEY"], init=init)
    job = ["task=quiz", "model=openai-api/fast/best", "display=none"]
    folders = [tmp_path / "logs" / "part-0", tmp_path / "logs" / "part-1"]
    outcomes = run_parts_on_ray(job, [["limit=[0,2]"], ["limit=[2,4]"]], folders, settings)

    assert [outcome.status for outcome in outcomes] == ["success", "success"]
    assert [len(eval_samples(folder)) for folder in folders] == [2, 2]
    import ray

    assert not ray.is_initialized()  # stopped again
    (session,) = [p for p in ray_temp.iterdir() if p.name.startswith("session_2")]
    # Ray's processes log the address each one serves on: the driver's and the workers'.
    logs = "".join(p.read_text(errors="replace") for p in session.glob("logs/python-core-*.log"))
    served = re.findall(r"Initializing worker at address: ([^\s:]+):", logs)
    assert len(served) >= 2 and set(served) == {"127.0.0.1"}, served
    assert files_holding(ray_temp, SECRET) == []


def test_the_ray_tasks_config_is_checked_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    sweep = ["model=openai/a,openai/b", "hydra/launcher=ray_tasks"]
    with pytest.raises(ConfigError) as raised:
        plan_sweep([*sweep, "+hydra.launcher.adress=auto"])
    (problem,) = raised.value.problems
    assert problem.key == "hydra.launcher.adress"
    assert "did you mean 'address'" in problem.message
    assert str(problem.source).endswith("ray_tasks.yaml")
    with pytest.raises(ConfigError) as raised:
        plan_sweep([*sweep, "hydra.launcher.env=[OPENAI_API_KEY,NOT_SET_ANYWHERE]"])
    (problem,) = raised.value.problems
    assert problem.key == "hydra.launcher.env"
    assert problem.message == "not set in this environment: NOT_SET_ANYWHERE"
    _, _, jobs, _ = plan_sweep([*sweep, "hydra.launcher.address=ray://head:10001"])
    assert len(jobs) == 2


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_address_nobody_listens_on_exits_2_before_any_request(
    scheme: str, quiz: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Refused at once, naming the address (Ray itself would retry for minutes)."""
    import socket

    with socket.socket() as closed:  # a port that was free a moment ago and is now closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    sweep = ["-m", "task=quiz", f"model={TWO_MODELS}", "limit=2", "display=none"]
    sweep += ["hydra/launcher=ray_tasks", f"hydra.launcher.address={scheme}127.0.0.1:{port}"]
    assert cli(sweep) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Ray cluster at '{scheme}127.0.0.1:{port}'" in err
    assert "hydra.launcher.address" in err
    assert all(server.chat_requests() == [] for server in quiz.values())
