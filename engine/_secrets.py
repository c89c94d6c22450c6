"""Secrets never land in a file: every byte inspect-run writes passes through `redact`.

A secret is the value of an environment variable whose name looks like a credential
(`*_API_KEY`, `*_TOKEN`, `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`). Providers echo keys back in
error messages ("Incorrect API key provided: sk-…"), so redaction happens where text is written,
not where it is produced.
"""

from __future__ import annotations

import os
import re

MASK = "***"
_MIN_SECRET_LENGTH = 6
"""Shorter values would mask ordinary words; real keys are far longer."""

CREDENTIAL_NAME = re.compile(
    r"(api_?key|endpoint_?key|token|secret|password|credential)", re.IGNORECASE
)
"""Names that hold credentials: environment variables here, and config keys (rejected)."""


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """Credential values from the environment (which already holds `.env`), longest first."""
    source = os.environ if environ is None else environ
    values = {
        value
        for name, value in source.items()
        if CREDENTIAL_NAME.search(name) and len(value) >= _MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)


class Redactor:
    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets = secret_values() if secrets is None else secrets

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def redact(text: str) -> str:
    """Redact with the environment as it is now (for one-off messages)."""
    return Redactor()(text)
