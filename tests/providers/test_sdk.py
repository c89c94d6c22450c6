"""The Stainless SDKs' clients (openai, anthropic, Azure AI's OpenAI client) share one transport
setup: their aiohttp transport, with one TLS context per process for the same trust settings."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import certifi
import pytest

from engine.providers import create_api


def tls_of(api: Any) -> ssl.SSLContext:
    """The TLS context of the transport under a made SDK client."""
    transport = api.client._client._transport
    assert type(transport).__name__ == "AiohttpTransport"
    context = transport.ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AZUREAI_ENDPOINT_KEY"):
        monkeypatch.setenv(name, "test-key")
    monkeypatch.setenv("AZUREAI_ENDPOINT_URL", "http://127.0.0.1:9/models")
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_every_client_of_the_process_shares_one_tls_context(keys: None) -> None:
    apis = [
        create_api("openai/gpt-4o", {}, None),
        create_api("openai/gpt-4o-mini", {}, "http://127.0.0.1:9/v1"),
        create_api("anthropic/claude-3-5-haiku-latest", {}, None),
        create_api("azureai/Llama-3.3-70B-Instruct", {}, None),
    ]
    contexts = {id(tls_of(api)) for api in apis}
    assert len(contexts) == 1
    context = tls_of(apis[0])
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_changed_ssl_cert_file_gives_a_context_trusting_that_file(
    keys: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    default = tls_of(create_api("openai/gpt-4o", {}, None))
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    custom = tls_of(create_api("openai/gpt-4o", {}, None))
    assert custom is not default
    expected = ssl.create_default_context(cafile=str(bundle)).cert_store_stats()
    assert custom.cert_store_stats() == expected
    assert tls_of(create_api("anthropic/claude-3-5-haiku-latest", {}, None)) is custom
