"""The response cache: a repeated request (same model, messages, generation) is answered locally.

`cache=on` turns it on for a run; `ModelHub` opens one `ResponseCache` per hub on first use and
`Model.generate` looks an answer up before taking a connection. `inspect-run cache …` manages it.
"""

from engine.cache._command import USAGE, cache_command
from engine.cache._key import KEY_VERSION, NOT_IN_KEY, cache_key, parse_expiry
from engine.cache._store import (
    BUSY_TIMEOUT,
    CACHE_DIR_ENV,
    DB_NAME,
    CacheError,
    ModelEntries,
    ResponseCache,
    cache_dir,
    cache_dir_source,
    cache_path,
    connect,
    is_damaged,
    safe_base_url,
    set_aside,
    warn,
)

__all__ = [
    "BUSY_TIMEOUT",
    "CACHE_DIR_ENV",
    "DB_NAME",
    "KEY_VERSION",
    "NOT_IN_KEY",
    "USAGE",
    "CacheError",
    "ModelEntries",
    "ResponseCache",
    "cache_command",
    "cache_dir",
    "cache_dir_source",
    "cache_key",
    "cache_path",
    "connect",
    "is_damaged",
    "parse_expiry",
    "safe_base_url",
    "set_aside",
    "warn",
]
