"""Remote log dirs (`s3://…`) through fsspec, against moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import ConfigError, compose_config
from engine.runner import run_composed
from engine.runner._display import Display
from tests.support.openai_server import OpenAIServer, Request, refuse_about_half

BUCKET = "evals"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A local S3 endpoint with one bucket; s3fs and boto3 find it through the environment."""
    import boto3
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL": endpoint,
        "INSPECT_RUN_STAGING_DIR": str(tmp_path / "staging"),
        "OPENAI_API_KEY": "k",
        "OPENAI_BASE_URL": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    s3fs.S3FileSystem.clear_instance_cache()  # s3fs caches clients per settings
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


def answer(request: Request) -> str:
    return "GRADE: C" if "[Expert]:" in request.messages[-1]["content"] else "the basket"


def test_a_run_writes_its_log_to_s3_where_inspect_reads_it(s3: str, tmp_path: Path) -> None:
    from inspect_ai.log import list_eval_logs, read_eval_log

    with OpenAIServer(answer) as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url  # the fixture's monkeypatch restores it
        args = ["model=openai/m", "limit=4", f"log_dir=s3://{BUCKET}/team/logs"]
        result = run_composed(compose_config(args), display=Display())
    assert result.status == "success"
    assert result.log_location.startswith(f"s3://{BUCKET}/team/logs/")
    assert not any(p.name.startswith("s3") for p in tmp_path.iterdir())  # no folder named s3:
    log = read_eval_log(result.log_location)
    assert log.status == "success" and log.samples is not None and len(log.samples) == 4
    (info,) = list_eval_logs(f"s3://{BUCKET}/team/logs")
    assert info.name == result.log_location and info.task == "theory-of-mind"
    import fsspec

    fs = fsspec.filesystem("s3")
    folder = result.log_location.rsplit("/", 1)[0]
    names = {path.rsplit("/", 1)[-1] for path in fs.ls(folder)}
    assert {"config.yaml", "overrides.yaml", "run.state"} <= names
    assert json.loads(fs.cat_file(f"{folder}/run.state"))["status"] == "success"
    assert not any(name.endswith(".samples.jsonl") for name in names)  # journal gone on success


def test_an_interrupted_remote_run_resumes_from_the_bucket_on_another_machine(
    s3: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal is uploaded with the log; a fresh staging dir pulls it back and resumes."""
    args = ["model=openai/m", "limit=6", f"log_dir=s3://{BUCKET}/logs"]

    with OpenAIServer(refuse_about_half) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        first = run_composed(compose_config(args), display=Display())
    assert first.status == "error" and 0 < first.errors < 6

    monkeypatch.setenv("INSPECT_RUN_STAGING_DIR", str(tmp_path / "another-machine"))
    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        second = run_composed(compose_config(args), display=Display())
        sent = len(server.chat_requests())
    assert second.status == "success" and second.log_location == first.log_location
    assert second.resumed == 6 - first.errors
    assert sent == 2 * first.errors  # only the failed samples ran again (answer + grade)


def test_a_missing_storage_package_or_unknown_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        compose_config(["model=openai/m", "log_dir=nosuchscheme://bucket/logs"])
    assert "log_dir" in str(raised.value) and "unknown storage scheme" in str(raised.value)
    from engine.logs._remote import remote_problem

    for scheme, package, extra in (("gs", "gcsfs", "gcs"), ("az", "adlfs", "azure-blob")):
        problem = remote_problem(f"{scheme}://bucket/logs")
        if importlib.util.find_spec(package) is None:
            assert problem is not None and f'pip install "inspect-run[{extra}]"' in problem
        else:
            assert problem is None
    assert remote_problem("logs") is None and remote_problem("file:///tmp/logs") is None


def test_a_sweep_refuses_a_remote_log_dir(s3: str) -> None:
    from engine.sweeps import run_sweep

    with pytest.raises(ConfigError, match="a sweep writes to a local log_dir"):
        run_sweep(["model=openai/a,openai/b", f"log_dir=s3://{BUCKET}/logs"])
