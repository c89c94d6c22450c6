"""A local server speaking the Hugging Face Hub's HTTP API for dataset repositories, for tests.

    with HubServer({"allenai/ai2_arc": {"ARC-Easy/test-00000-of-00001.parquet": data}}) as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        ...  # huggingface_hub downloads from 127.0.0.1

The routes are the ones `huggingface_hub.snapshot_download` calls for a dataset:

    GET  /api/datasets/{repo}/revision/{rev}          repo info: `sha` and `siblings`
    GET  /api/datasets/{repo}/tree/{rev}[/{path}]     the file listing (`?recursive=true`)
    HEAD /datasets/{repo}/resolve/{rev}/{file}        metadata: X-Repo-Commit, ETag, Content-Length
    GET  /datasets/{repo}/resolve/{rev}/{file}        the bytes

Each repository has one commit (a hash of its files) that `main` and the hash itself resolve to.
Anything unknown gets the Hub's 404 with `X-Error-Code: RepoNotFound` or `EntryNotFound`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from tests.support.openai_server import Request, ThreadedServer, _Dropped, _read_request

__all__ = ["HubServer", "git_blob_id"]


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob (what the Hub calls a file's `oid`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Repo:
    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        digest = hashlib.sha1()
        for path in sorted(self.files):
            digest.update(path.encode() + b"\0" + self.files[path])
        self.sha = digest.hexdigest()

    def resolves(self, revision: str) -> bool:
        return revision in ("main", self.sha)


class HubServer(ThreadedServer):
    """Dataset repositories `{repo_id: {path: bytes}}` served on 127.0.0.1 over the Hub's API."""

    def __init__(self, repos: Mapping[str, Mapping[str, bytes]], port: int = 0) -> None:
        super().__init__("127.0.0.1", port)
        self.repos = {repo_id: _Repo(files) for repo_id, files in repos.items()}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def downloads(self) -> list[str]:
        """The files fetched with GET, as `repo/path`, in order."""
        fetched = []
        for request in self.requests:
            path = unquote(request.path)
            if request.method == "GET" and path.startswith("/datasets/") and "/resolve/" in path:
                repo_id, _, tail = path[len("/datasets/") :].partition("/resolve/")
                fetched.append(f"{repo_id}/{tail.partition('/')[2]}")
        return fetched

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                with self._lock:
                    self._requests.append(request)
                status, headers, body = self._route(request)
                head = f"HTTP/1.1 {status} X\r\n" + "".join(
                    f"{name}: {value}\r\n" for name, value in headers.items()
                )
                writer.write(head.encode("latin-1") + b"\r\n")
                if request.method != "HEAD":
                    writer.write(body)
                await writer.drain()
        except (_Dropped, ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _route(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        path = unquote(request.path)
        if path.startswith("/api/datasets/"):
            rest = path[len("/api/datasets/") :]
            for marker, handler in (("/revision/", self._info), ("/tree/", self._tree)):
                if marker in rest:
                    repo_id, _, tail = rest.partition(marker)
                    return handler(repo_id, tail)
        if path.startswith("/datasets/") and "/resolve/" in path:
            repo_id, _, tail = path[len("/datasets/") :].partition("/resolve/")
            revision, _, file = tail.partition("/")
            return self._resolve(repo_id, revision, file)
        return _error(404, "EntryNotFound", f"no route for {path}")

    def _repo(self, repo_id: str, revision: str) -> _Repo | None:
        repo = self.repos.get(repo_id)
        return repo if repo is not None and repo.resolves(revision) else None

    def _info(self, repo_id: str, revision: str) -> tuple[int, dict[str, str], bytes]:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return _error(404, "RepoNotFound", f"Repository {repo_id} not found")
        info = {
            "_id": repo.sha[:24],
            "id": repo_id,
            "sha": repo.sha,
            "private": False,
            "gated": False,
            "disabled": False,
            "lastModified": "2026-01-01T00:00:00.000Z",
            "tags": [],
            "downloads": 0,
            "likes": 0,
            "siblings": [{"rfilename": name} for name in sorted(repo.files)],
        }
        return _json(info)

    def _tree(self, repo_id: str, tail: str) -> tuple[int, dict[str, str], bytes]:
        revision, _, folder = tail.partition("/")
        repo = self._repo(repo_id, revision)
        if repo is None:
            return _error(404, "RepoNotFound", f"Repository {repo_id} not found")
        prefix = f"{folder.rstrip('/')}/" if folder else ""
        entries: list[dict[str, Any]] = []
        folders: set[str] = set()
        for name in sorted(repo.files):
            if not name.startswith(prefix):
                continue
            parts = name[len(prefix) :].split("/")
            for depth in range(1, len(parts)):
                folders.add(prefix + "/".join(parts[:depth]))
            data = repo.files[name]
            entries.append(
                {"type": "file", "oid": git_blob_id(data), "size": len(data), "path": name}
            )
        listing = [
            {"type": "directory", "oid": "0" * 40, "size": 0, "path": f} for f in sorted(folders)
        ]
        return _json(listing + entries)

    def _resolve(self, repo_id: str, revision: str, file: str) -> tuple[int, dict[str, str], bytes]:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return _error(404, "RepoNotFound", f"Repository {repo_id} not found")
        data = repo.files.get(file)
        if data is None:
            return _error(404, "EntryNotFound", f"{file} does not exist on {revision}")
        headers = {
            "content-type": "application/octet-stream",
            "content-length": str(len(data)),
            "etag": f'"{git_blob_id(data)}"',
            "x-repo-commit": repo.sha,
            "accept-ranges": "bytes",
        }
        return 200, headers, data


def _json(value: Any) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(value).encode()
    return 200, {"content-type": "application/json", "content-length": str(len(body))}, body


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": message}).encode()
    headers = {
        "content-type": "application/json",
        "content-length": str(len(body)),
        "x-error-code": code,
        "x-error-message": message,
    }
    return status, headers, body
