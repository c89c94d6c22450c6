"""The response cache on disk: one SQLite file in WAL mode, shared by every process of a sweep.

Each process (each `ResponseCache`) opens its own connection. Readers never block writers in WAL
mode; writers queue on the busy timeout, and every write is a single autocommitted
`INSERT OR REPLACE`, so the lock is held for microseconds. A cache that cannot be read or written
for a moment is a miss, never a failed sample (`errors` counts those moments).

Only the answer is stored: the serialized `ModelOutput` (model, choices, usage, stop reasons), the
model string, the base URL (without user info or query) and timestamps. No request headers, no API
keys, nothing from the environment; the stored text passes through the same redaction as logs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from engine._secrets import Redactor
from engine.errors import InspectRunError

if TYPE_CHECKING:
    from engine.messages import ModelOutput

CACHE_DIR_ENV = "INSPECT_RUN_CACHE_DIR"
DB_NAME = "responses.sqlite"
BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another process's write to finish (`database is locked`)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key      TEXT PRIMARY KEY,
    model    TEXT NOT NULL,
    base_url TEXT,
    output   TEXT NOT NULL,
    created  REAL NOT NULL,
    expires  REAL
);
CREATE INDEX IF NOT EXISTS responses_model ON responses (model);
CREATE INDEX IF NOT EXISTS responses_expires ON responses (expires);
"""


class CacheError(InspectRunError):
    """The cache file cannot be opened (unwritable directory, not a database, ...)."""


_CORRUPT, _NOT_A_DATABASE = 11, 26
"""SQLite's primary result codes for a damaged file (`SQLITE_CORRUPT`, `SQLITE_NOTADB`)."""


def is_damaged(error: BaseException) -> bool:
    """Whether `error` says the database file itself is damaged (truncated, overwritten)."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_CORRUPT, _NOT_A_DATABASE)
    text = str(error).lower()
    return "malformed" in text or "not a database" in text


def set_aside(path: Path) -> Path:
    """Move a damaged cache file (and its WAL and shared-memory files) out of the way, kept for
    inspection: `responses.sqlite.damaged-<UTC time>`."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    copy = 1
    while target.exists():
        copy += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{copy}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    os.replace(path, target)
    return target


def warn(text: str) -> None:
    """Cache trouble never fails a sample; it is said once, on stderr."""
    import sys

    from engine._secrets import redact

    print(redact(f"inspect-run: warning: {text}"), file=sys.stderr)


def cache_dir() -> Path:
    """`$INSPECT_RUN_CACHE_DIR`, else `$XDG_CACHE_HOME/inspect-run`, else `~/.cache/inspect-run`."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "inspect-run"


def cache_dir_source() -> str:
    """The environment variable that decides `cache_dir()`, for messages."""
    for name in (CACHE_DIR_ENV, "XDG_CACHE_HOME"):
        if os.environ.get(name):
            return name
    return "HOME"


def cache_path() -> Path:
    """The SQLite file every process shares."""
    return cache_dir() / DB_NAME


def safe_base_url(base_url: str | None) -> str | None:
    """A base URL fit to store: no `user:password@`, no query string or fragment."""
    if not base_url:
        return base_url
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return None
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _is_busy_error(error: sqlite3.Error) -> bool:
    """Another process holds the write lock past the busy timeout: a miss, not a broken cache."""
    return isinstance(error, sqlite3.OperationalError) and _is_busy(error)


def connect(path: Path, timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """Open (creating if needed) the cache database in WAL mode with a busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    connection = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        # Switching to WAL needs a moment of exclusive access; when a sweep's processes all open
        # a new file at once, some are told `database is locked` without waiting: try again.
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.executescript(_SCHEMA)
                break
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("SELECT key FROM responses ORDER BY rowid DESC LIMIT 1").fetchall()
    except BaseException:
        connection.close()
        raise
    with contextlib.suppress(OSError):
        path.chmod(0o600)  # answers may be private; the file is the user's alone
    return connection


@dataclass(frozen=True, slots=True)
class ModelEntries:
    """What `inspect-run cache list` shows for one model."""

    model: str
    count: int
    size: int
    """Bytes of stored output."""
    oldest: float
    newest: float
    expired: int


class ResponseCache:
    """Answers on disk, keyed by `cache_key`. Thread-safe; one connection per instance.

    Args:
        path: the database file (default `cache_path()`).
        expiry: seconds an entry lives from when it is stored; None keeps it until cleared.
    """

    def __init__(self, path: Path | None = None, *, expiry: float | None = None) -> None:
        self.path = path if path is not None else cache_path()
        self.expiry = expiry
        self.errors = 0
        """Reads and writes that failed (each treated as a miss / not stored)."""
        self.last_error: str | None = None
        self._redact = Redactor()
        self._lock = threading.Lock()
        self.set_aside: Path | None = None
        """Where a damaged cache file was moved (a fresh one replaced it)."""
        self.disabled: str | None = None
        """Why the cache stopped storing (it cannot be written): every lookup is then a miss."""
        self._reopened = False
        self._connection: sqlite3.Connection | None = self._open()

    def _open(self) -> sqlite3.Connection:
        """Connect; a damaged file is set aside (kept, warned once) and a fresh one made."""
        try:
            try:
                return connect(self.path)
            except sqlite3.DatabaseError as error:
                if not is_damaged(error):
                    raise
                try:
                    self.set_aside = set_aside(self.path)
                except FileNotFoundError:
                    pass  # another process set it aside first (and said so)
                else:
                    warn(
                        f"the response cache {self.path} was damaged ({error}); it was moved to "
                        f"{self.set_aside} and a fresh cache is used"
                    )
                return connect(self.path)
        except (OSError, sqlite3.Error) as error:
            raise CacheError(
                f"cannot open the response cache {self.path}: {error} "
                f"(set {CACHE_DIR_ENV} to a writable folder, or run with cache=off)"
            ) from error

    def _trouble(self, error: sqlite3.Error) -> None:
        """A read or write failed for more than a moment: a damaged file is set aside and a
        fresh cache opened; a cache that cannot be written stops storing. Warned once."""
        if self.disabled is not None or _is_busy_error(error):
            return
        if is_damaged(error) and not self._reopened and self._connection is not None:
            # Damaged while open (or set aside by another process): once, start afresh.
            self._reopened = True
            self._connection.close()
            self._connection = None
            try:
                self._connection = self._open()
                return
            except CacheError as reopened:
                error = sqlite3.OperationalError(str(reopened))
        self.disabled = f"{type(error).__name__}: {error}"
        warn(
            f"the response cache {self.path} cannot be used ({error}); this run goes on without it"
        )

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError(f"response cache {self.path} is closed")
        return self._connection

    def _failed(self, error: Exception) -> None:
        self.errors += 1
        self.last_error = f"{type(error).__name__}: {error}"

    # the hot path

    def get(self, key: str, now: float | None = None) -> ModelOutput | None:
        """The stored answer for `key`, unless there is none or it has expired."""
        from engine.messages import ModelOutput

        now = time.time() if now is None else now
        if self.disabled is not None:
            return None
        try:
            with self._lock:
                row = self.connection.execute(
                    "SELECT output FROM responses WHERE key = ? "
                    "AND (expires IS NULL OR expires > ?)",
                    (key, now),
                ).fetchone()
            if row is None:
                return None
            return ModelOutput.from_log(json.loads(row[0]))
        except sqlite3.Error as error:
            self._failed(error)
            with self._lock:
                self._trouble(error)
            return None
        except (ValueError, KeyError, TypeError) as error:
            self._failed(error)
            return None

    def put(
        self,
        key: str,
        output: ModelOutput,
        *,
        model: str,
        base_url: str | None = None,
        now: float | None = None,
    ) -> bool:
        """Store `output` under `key`, replacing any older answer; it expires `expiry` from `now`."""
        now = time.time() if now is None else now
        if self.disabled is not None:
            return False
        expires = None if self.expiry is None else now + self.expiry
        logged = output.to_log()
        metadata = {k: v for k, v in (logged.pop("metadata", None) or {}).items() if k != "cache"}
        if metadata:
            logged["metadata"] = metadata
        text = json.dumps(logged, ensure_ascii=False, separators=(",", ":"))
        redacted = self._redact(text)
        if redacted != text:
            try:
                json.loads(redacted)
            except ValueError:
                return False  # a secret inside JSON syntax: not worth storing
            text = redacted
        url = safe_base_url(base_url)
        row = (key, model, self._redact(url) if url else None, text, now, expires)
        try:
            with self._lock:
                self.connection.execute(
                    "INSERT OR REPLACE INTO responses "
                    "(key, model, base_url, output, created, expires) VALUES (?, ?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.Error as error:
            self._failed(error)
            with self._lock:
                self._trouble(error)
            return False
        return True

    # management (`inspect-run cache …`)

    def entries(self, now: float | None = None) -> list[ModelEntries]:
        now = time.time() if now is None else now
        with self._lock:
            rows = self.connection.execute(
                "SELECT model, COUNT(*), COALESCE(SUM(LENGTH(CAST(output AS BLOB))), 0), "
                "MIN(created), MAX(created), "
                "SUM(CASE WHEN expires IS NOT NULL AND expires <= ? THEN 1 ELSE 0 END) "
                "FROM responses GROUP BY model ORDER BY model",
                (now,),
            ).fetchall()
        return [ModelEntries(*row) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self.connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def clear(self, model: str | None = None) -> int:
        """Delete every entry (or one model's); returns how many."""
        with self._lock:
            if model is None:
                deleted = self.connection.execute("DELETE FROM responses").rowcount
            else:
                deleted = self.connection.execute(
                    "DELETE FROM responses WHERE model = ?", (model,)
                ).rowcount
        self.vacuum()
        return int(deleted)

    def prune(self, now: float | None = None) -> int:
        """Delete expired entries and give the space back; returns how many."""
        now = time.time() if now is None else now
        with self._lock:
            deleted = self.connection.execute(
                "DELETE FROM responses WHERE expires IS NOT NULL AND expires <= ?", (now,)
            ).rowcount
        self.vacuum()
        return int(deleted)

    def vacuum(self) -> None:
        with self._lock:
            self.connection.execute("VACUUM")
            self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"
