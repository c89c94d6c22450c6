"""Provider errors, classified once so that exactly one layer (the pool) decides about retries.

Their place in the one error tree (rooted in `InspectRunError`) is drawn in `engine.errors`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.errors import InspectRunError


class ProviderError(InspectRunError):
    """Base of every error a provider raises on purpose."""


class ProviderConfigError(ProviderError):
    """The model cannot be set up: raised while planning, before any request is sent."""


class MissingCredentialError(ProviderConfigError):
    """The environment lacks what a run needs from it (an API key, a cloud project or region).
    `inspect-run validate` in CI, where keys are not set, lets it pass; a run does not."""


class GenerateError(ProviderError):
    """A generate call failed for good; the sample records `reason` and the run goes on."""

    def __init__(self, reason: str, *, attempts: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class AuthRefused(GenerateError):
    """The first `connection.auth_failures_stop` requests to a pool were all refused with 401/403:
    the key or its permissions are wrong, so the run stops instead of sending every sample."""


class MalformedResponseError(ProviderError):
    """The provider answered, but not in its own protocol's shape."""


class ErrorKind(enum.Enum):
    RATE_LIMIT = "rate_limit"
    TRANSIENT = "transient"
    FATAL = "fatal"


class StreamError(ProviderError):
    """The provider reported an error inside a streamed reply; `kind` is its retry class."""

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Classified:
    kind: ErrorKind
    reason: str
    retry_after: float | None = None
    status: int | None = None
    """The HTTP status, when there was one (401 and 403 feed the pool's auth circuit breaker)."""


def parse_retry_after(headers: object) -> float | None:
    """Seconds to wait from `retry-after-ms` / `retry-after` (seconds or an HTTP date)."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    millis = get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import time
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def classify_status(status: int) -> ErrorKind:
    """HTTP status → retry class: 429 rate limit; 408, 409 and 5xx transient; the rest fatal."""
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status in (408, 409) or status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.FATAL
