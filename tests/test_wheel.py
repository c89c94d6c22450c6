"""The wheel works outside the checkout: build it, install it with its real dependencies into a clean
venv, and run the installed `inspect-run` from another directory — help, validate and a real eval
against a local OpenAI-compatible server. This proves `conf/`, `tasks/` and `schemas/` ship inside
the wheel (pyproject's force-include maps them to `engine/_assets/`), that no module is missing,
and that the dependencies the wheel declares are enough to run it.

uv builds the wheel (in an isolated environment with the declared build backend, as
`python -m build` does, for about 40 % of its CPU). The venv is the standard library's (no system
site-packages, no pip in it); uv resolves the wheel's declared dependencies from the package index
and installs them into it, as `pip install` would, in a few seconds of CPU instead of pip's half a
minute (uv compiles no bytecode; the installed command writes its own as it runs, like any first
run after `pip install --no-compile`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import stop

pytestmark = [  # builds a wheel and installs it into a fresh venv, once (module fixtures)
    pytest.mark.slow,
    pytest.mark.xdist_group("test_wheel"),
]

REPO = Path(__file__).resolve().parents[1]
ASSETS = (
    "engine/_assets/conf/config.yaml",
    "engine/_assets/tasks/theory_of_mind/theory_of_mind.jsonl",
    "engine/_assets/schemas/config.schema.json",
)
# Nothing from the checkout or the developer's environment may leak into the installed command.
_ISOLATE = (
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "INSPECT_EVAL_MODEL",
    "INSPECT_RUN_CONFIG_PATH",
    "VLLM_BASE_URL",
    "VLLM_API_KEY",
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env.update(extra)
    return env


def _run(
    args: list[str], cwd: Path, timeout: float, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=cwd, env=_env(**extra_env), capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    )
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from uv import find_uv_bin

    outdir = tmp_path_factory.mktemp("dist")
    _run([find_uv_bin(), "build", "--wheel", "--out-dir", str(outdir), str(REPO)], REPO, 600)
    wheels = sorted(outdir.glob("inspect_run-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv (no system site-packages) with the wheel and its dependencies; its bin dir."""
    from uv import find_uv_bin

    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)], venv, 300)
    bin_dir = venv / "bin"
    install = [find_uv_bin(), "pip", "install", "--quiet", "--python", str(bin_dir / "python")]
    _run([*install, str(wheel)], venv, 900)
    return bin_dir


@pytest.fixture
def openai_server() -> Iterator[str]:
    """tests.support.openai_server standalone, answering every chat with "the basket"."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.openai_server",
            "--port",
            "0",
            "--reply",
            "the basket",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http://"):
            process.kill()
            _, err = process.communicate(timeout=10)
            pytest.fail(f"openai_server did not start (first line {base_url!r}):\n{err}")
        yield base_url
    finally:
        stop(process)


def test_wheel_contents(wheel: Path) -> None:
    """Every module of the checkout's package, and the built-in assets, are in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing_assets = [asset for asset in ASSETS if asset not in names]
    assert not missing_assets, f"assets missing from {wheel.name}: {missing_assets}"
    modules = sorted(
        path.relative_to(REPO).as_posix()
        for path in (REPO / "engine").rglob("*.py")
        if "__pycache__" not in path.parts
    )
    missing = [module for module in modules if module not in names]
    assert not missing, (
        f"modules of the checkout missing from {wheel.name} (ignored by .gitignore?): {missing}"
    )


def test_installed_command_outside_checkout(
    installed: Path, openai_server: str, tmp_path: Path
) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    inspect_run = str(installed / "inspect-run")
    assert (installed / "inspect-run").is_file()

    # The package and its assets come from the venv, not from the checkout.
    where = _run(
        [
            str(installed / "python"),
            "-c",
            "import engine, pathlib; print(pathlib.Path(engine.__file__).parent)",
        ],
        work,
        60,
    )
    package = Path(where.stdout.strip())
    assert package.is_relative_to(installed.parent), f"engine imported from {package}"
    for asset in ASSETS:
        assert (package.parent / asset).is_file(), f"{asset} not installed under {package}"

    help_text = _run([inspect_run, "--help"], work, 60).stdout
    task_lines = [line for line in help_text.splitlines() if line.strip().startswith("task:")]
    assert task_lines and "theory_of_mind" in task_lines[0], help_text

    _run([inspect_run, "validate"], work, 120)

    result = _run(
        [inspect_run, "task=theory_of_mind", "model=vllm/test", "limit=2", "display=plain"],
        work,
        300,
        VLLM_BASE_URL=openai_server,
    )
    logs = sorted((work / "logs").glob("*/*.eval"))
    assert len(logs) == 1, f"no log under {work / 'logs'}: {result.stdout}\n{result.stderr}"
