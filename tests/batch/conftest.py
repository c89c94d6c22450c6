"""A local OpenAI batch server per test, with the SDK pointed at it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.batch_servers import OpenAIBatchServer
from tests.support.openai_server import Responder, echo


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., OpenAIBatchServer]]:
    """Start a batch server (stopped after the test) and point the SDK at it."""
    with contextlib.ExitStack() as stack:

        def start(responder: Responder = echo, **settings: Any) -> OpenAIBatchServer:
            server = stack.enter_context(OpenAIBatchServer(responder, **settings))
            monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            return server

        yield start
