"""`inspect view` serves a produced `.eval` log and headless Chromium shows the grader's model call
in a sample's transcript (a screenshot is kept in the test's tmp folder)."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

import engine
from engine.cli import cli
from tests.support.browser import chromium_path, devtools_browser, open_page
from tests.support.openai_server import OpenAIServer, Request
from tests.support.processes import stop

INSPECT = str(Path(sys.executable).parent / "inspect")
READY = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


def respond(request: Request) -> str:
    if "[Expert]:" in request.messages[-1]["content"]:
        return "GRADE: C"
    return "the basket"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def inspect_view(log_dir: Path) -> Iterator[str]:
    """`inspect view` on a free port; yields its URL once it prints that it is running."""
    port = str(free_port())
    process = subprocess.Popen(
        [
            INSPECT,
            "view",
            "start",
            "--log-dir",
            str(log_dir),
            "--host",
            "127.0.0.1",
            "--port",
            port,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            ready = READY.search(line)
            if ready:
                yield ready.group(1)
                break
        else:
            raise AssertionError(f"inspect view exited: {''.join(seen)}")
    finally:
        stop(process)


def transcript_url(base: str, log: Path, sample_id: str) -> str:
    return f"{base}/#/logs/{quote(log.name)}/samples/sample/{quote(sample_id)}/1/transcript"


async def transcript_text(browser: str, url: str, wanted: str, screenshot: Path) -> str:
    async with aiohttp.ClientSession() as client:
        page = await open_page(browser, url, client)
        text = await asyncio.wait_for(page.wait_for_text(wanted), timeout=300)
        await page.screenshot(screenshot)
        return text


def test_inspect_view_shows_the_graders_model_call_in_the_transcript(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium = chromium_path()
    if chromium is None:
        pytest.fail("chromium is not installed (Debian: apt-get install chromium)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("INSPECT_RUN_CACHE_DIR", str(tmp_path / "cache"))
    with OpenAIServer(respond) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = engine.run(["model=openai/m", "roles.grader=openai/lenient", "limit=2"])
        assert cli(["score", str(result.log_path), "roles.grader=openai/strict"]) == 0
    original = result.log_path
    rescored = original.with_name(f"{original.stem}-scored.eval")
    assert original.suffix == ".eval" and rescored.exists()

    with inspect_view(original.parent) as base, devtools_browser(chromium) as browser:
        shot = tmp_path / "transcript.png"
        text = asyncio.run(
            transcript_text(
                browser,
                transcript_url(base, original, "tom-001"),
                "model call (grader): openai/lenient",
                shot,
            )
        )
        assert shot.read_bytes().startswith(b"\x89PNG")
        assert re.search(r"model call: openai/m\b", text, re.IGNORECASE)
        # The re-scored log opens too, with the new grader's call in its transcript.
        rescored_text = asyncio.run(
            transcript_text(
                browser,
                transcript_url(base, rescored, "tom-001"),
                "model call (grader): openai/strict",
                tmp_path / "rescored.png",
            )
        )
        assert "model call (grader): openai/lenient" in rescored_text.lower()
