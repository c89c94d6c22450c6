"""The providers' batch endpoints on the local wire-protocol servers, for tests.

    with OpenAIBatchServer(echo, batch_delay=0.2) as server:      # + chat completions
        ... inspect-run model=openai/m batch=on ...
        assert len(server.batches) == 2

Each batch moves through its provider's states as time passes (`batch_delay` seconds from
creation to the end) and is answered line by line by the server's responder, exactly as a chat
request would be: a reply text becomes a success line, a `Reply` with an error status an errored
line. `expire={n}` makes the n-th batch created (1-based) expire with only the first half of its
requests answered; on the OpenAI server `cancel={n}` cancels it so, and `fail={n}` fails its
validation. Routes added to `OpenAIServer`:

    POST /v1/files                   multipart upload (purpose=batch) → a `file` object
    POST /v1/batches                 {input_file_id, endpoint, completion_window} → a `batch`
    GET  /v1/batches/{id}            validating → in_progress → finalizing → completed | expired
                                     (failed when a line is invalid)
    GET  /v1/files/{id}/content      the input, output or error JSONL

Routes added to `AnthropicServer` (Message Batches):

    POST /v1/messages/batches                  {requests: [{custom_id, params}]} → message_batch
    GET  /v1/messages/batches/{id}             processing_status in_progress → ended
    GET  /v1/messages/batches/{id}/results     JSONL: result.type succeeded | errored | expired

Routes added to `GeminiServer` (batch mode, any API version):

    POST /{version}/models/{model}:batchGenerateContent   inlined requests → an operation
    GET  /{version}/batches/{id}                          metadata.state BATCH_STATE_PENDING →
                                                          _RUNNING → _SUCCEEDED | _EXPIRED, with
                                                          metadata.output.inlinedResponses
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import re
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from tests.support import anthropic_server, gemini_server
from tests.support.anthropic_server import AnthropicServer
from tests.support.gemini_server import GeminiServer
from tests.support.openai_server import (
    OpenAIServer,
    Reply,
    Request,
    Responder,
    _encode,
    _error_body,
    chat_completion,
    echo,
)

__all__ = ["AnthropicBatchServer", "GeminiBatchServer", "OpenAIBatchServer", "ServedBatch"]

_ids = itertools.count(1)


@dataclass
class ServedBatch:
    """A batch as the server keeps it."""

    id: str
    number: int
    """1-based, in creation order."""
    created: float
    lines: list[dict[str, Any]]
    expire: bool
    """Ends early (expired, or cancelled on the OpenAI server) with half its lines answered."""
    failure: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] | None = None
    """As given at creation (OpenAI)."""
    created_at: int = field(default_factory=lambda: int(time.time()))
    results: dict[str, list[dict[str, Any]]] | None = None
    """`output` and `error` lines, once answered."""

    @property
    def custom_ids(self) -> list[str]:
        return [line.get("custom_id", "") for line in self.lines]


async def _respond(responder: Responder, request: Request) -> Reply:
    """What the responder answers `request` with, as a `Reply`."""
    answer = responder(request)
    if inspect.isawaitable(answer):
        answer = await answer
    return Reply(text=answer) if isinstance(answer, str) else answer


def _progress(batch: ServedBatch, delay: float) -> float:
    """How far along `batch` is: 0 at creation, 1 once it ends."""
    return (time.monotonic() - batch.created) / max(delay, 1e-9)


def _expiring(batch: ServedBatch) -> list[dict[str, Any]]:
    """The lines a batch answers: all, or the first half when it expires."""
    return batch.lines[: (len(batch.lines) + 1) // 2] if batch.expire else batch.lines


def _multipart(request: Request) -> dict[str, tuple[str | None, bytes]]:
    """Form fields of a multipart/form-data body: name → (filename, content)."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.raw)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


class OpenAIBatchServer(OpenAIServer):
    """`OpenAIServer` plus OpenAI's Files and Batch endpoints."""

    def __init__(
        self,
        responder: Responder = echo,
        *,
        batch_delay: float = 0.2,
        expire: Collection[int] = (),
        cancel: Collection[int] = (),
        fail: Collection[int] = (),
        drop_create: Collection[int] = (),
        **settings: Any,
    ) -> None:
        super().__init__(responder, **settings)
        self.batch_delay = batch_delay
        self.drop_create = set(drop_create)
        """Batches (by number) created but whose create call drops the connection unanswered,
        as if the run was killed before it saw the batch id."""
        self.expire = set(expire)
        self.cancel = set(cancel)
        self.fail = set(fail)
        self.files: dict[str, tuple[str, bytes]] = {}
        """File id → (purpose, content)."""
        self.batches: dict[str, ServedBatch] = {}
        self.events: list[tuple[str, str]] = []
        """("created" | "ended", batch id) in the order they happened."""
        self._batch_lock = threading.Lock()

    async def _answer(
        self, request: Request, writer: asyncio.StreamWriter, keep_alive: bool
    ) -> bool:
        reply = await self._batch_route(request)
        if reply is None:
            return await super()._answer(request, writer, keep_alive)
        with self._lock:
            self._requests.append(request)
        if reply.close:
            return False
        writer.write(_encode(reply, request, keep_alive))
        await writer.drain()
        return True

    async def _batch_route(self, request: Request) -> Reply | None:
        path, method = request.path.rstrip("/"), request.method
        if method == "POST" and path == "/v1/files":
            return self._upload(request)
        if method == "POST" and path == "/v1/batches":
            return self._create(request)
        if method == "GET" and path == "/v1/batches":
            return self._list(request)
        if method == "GET" and path.startswith("/v1/batches/"):
            batch = self.batches.get(path.removeprefix("/v1/batches/"))
            return self._not_found(request) if batch is None else await self._batch_reply(batch)
        if method == "GET" and path.startswith("/v1/files/") and path.endswith("/content"):
            found = self.files.get(path.removeprefix("/v1/files/").removesuffix("/content"))
            if found is None:
                return self._not_found(request)
            return Reply(raw=found[1], headers={"content-type": "application/octet-stream"})
        return None

    def _not_found(self, request: Request) -> Reply:
        return Reply(status=404, body=_error_body(f"No such object: {request.path}"))

    def _upload(self, request: Request) -> Reply:
        fields = _multipart(request)
        purpose = fields.get("purpose", (None, b""))[1].decode()
        filename, content = fields.get("file", (None, b""))
        if purpose != "batch" or not filename:
            return Reply(status=400, body=_error_body("file and purpose=batch are required"))
        file_id = self._store(purpose, content)
        return Reply(body=self._file_object(file_id, filename, purpose, content))

    def _store(self, purpose: str, content: bytes) -> str:
        file_id = f"file-{next(_ids):012d}"
        self.files[file_id] = (purpose, content)
        return file_id

    def _file_object(self, file_id: str, name: str, purpose: str, content: bytes) -> dict[str, Any]:
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }

    def _create(self, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        found = self.files.get(str(body.get("input_file_id")))
        if found is None or found[0] != "batch":
            return Reply(status=400, body=_error_body("input_file_id is not a batch file"))
        if body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
            return Reply(status=400, body=_error_body("unsupported endpoint or completion_window"))
        lines = [json.loads(line) for line in found[1].decode().splitlines() if line.strip()]
        with self._batch_lock:
            number = len(self.batches) + 1
            early = number in self.expire or number in self.cancel
            batch = ServedBatch(f"batch_{next(_ids):012d}", number, time.monotonic(), lines, early)
            batch.metadata = body.get("metadata")
            batch.failure = _invalid_lines(lines, body["endpoint"])
            if number in self.fail:
                batch.failure.append(_problem("invalid_request", "the batch was refused", None))
            self.batches[batch.id] = batch
            self.events.append(("created", batch.id))
        if number in self.drop_create:
            return Reply(close=True)
        return Reply(body=self._batch_object(batch, body, "validating"))

    def _list(self, request: Request) -> Reply:
        """`GET /v1/batches`: newest first, `limit` per page, `after` the last id of a page (each
        batch as created: ids and metadata are what lookups need)."""
        newest_first = list(reversed(self.batches.values()))
        after = request.query.get("after")
        if after is not None:
            ids = [batch.id for batch in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
        limit = int(request.query.get("limit", "20"))
        page = newest_first[:limit]
        data = [self._batch_object(batch, {}, "validating") for batch in page]
        return Reply(
            body={
                "object": "list",
                "data": data,
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(newest_first) > limit,
            }
        )

    async def _batch_reply(self, batch: ServedBatch) -> Reply:
        elapsed = _progress(batch, self.batch_delay)
        if batch.failure and elapsed >= 0.3:
            status = "failed"
        elif elapsed < 0.3:
            status = "validating"
        elif elapsed < 0.7:
            status = "in_progress"
        elif elapsed < 1:
            status = "cancelling" if batch.number in self.cancel else "finalizing"
        else:
            status = "cancelled" if batch.number in self.cancel else "completed"
            status = "expired" if batch.number in self.expire else status
            if batch.results is None:
                batch.results = await self._run_lines(batch)
                self.events.append(("ended", batch.id))
        return Reply(body=self._batch_object(batch, {}, status))

    async def _run_lines(self, batch: ServedBatch) -> dict[str, list[dict[str, Any]]]:
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        answered = _expiring(batch)
        for line in batch.lines:
            envelope: dict[str, Any] = {"id": f"batch_req_{next(_ids):012d}"}
            envelope["custom_id"] = line["custom_id"]
            if line not in answered:
                envelope["response"] = None
                if batch.number in self.cancel:
                    message = "This request was cancelled before it was executed."
                    envelope["error"] = {"code": "batch_cancelled", "message": message}
                else:
                    message = (
                        "This request could not be executed before the completion window expired."
                    )
                    envelope["error"] = {"code": "batch_expired", "message": message}
                errors.append(envelope)
                continue
            request = Request(
                "POST", line["url"], {}, {}, line["body"], json.dumps(line["body"]).encode()
            )
            reply = await _respond(self.responder, request)
            body = (
                reply.body if reply.body is not None else chat_completion(request, reply.text or "")
            )
            response = {
                "status_code": reply.status,
                "request_id": f"req_{next(_ids):012d}",
                "body": body,
            }
            envelope |= {"response": response, "error": None}
            (output if reply.status == 200 else errors).append(envelope)
        return {"output": output, "error": errors}

    def _batch_object(
        self, batch: ServedBatch, created: dict[str, Any], status: str
    ) -> dict[str, Any]:
        results = batch.results or {}
        files: dict[str, str | None] = {"output": None, "error": None}
        for kind in files:
            if results.get(kind):
                content = "".join(json.dumps(line) + "\n" for line in results[kind]).encode()
                files[kind] = getattr(batch, f"_{kind}_file", None) or self._store(
                    f"batch_{kind}", content
                )
                setattr(batch, f"_{kind}_file", files[kind])
        now = int(time.time())
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": {"object": "list", "data": batch.failure} if status == "failed" else None,
            "input_file_id": created.get("input_file_id", "file-input"),
            "completion_window": "24h",
            "status": status,
            "output_file_id": files["output"],
            "error_file_id": files["error"],
            "created_at": batch.created_at,
            "in_progress_at": None,
            "expires_at": now + 86400,
            "finalizing_at": None,
            "completed_at": now if status == "completed" else None,
            "failed_at": now if status == "failed" else None,
            "expired_at": now if status == "expired" else None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {
                "total": len(batch.lines),
                "completed": len(results.get("output", [])),
                "failed": len(results.get("error", [])),
            },
            "metadata": batch.metadata,
        }


def _invalid_lines(lines: list[dict[str, Any]], endpoint: str) -> list[dict[str, Any]]:
    """OpenAI's validation: unique custom ids, POST to the batch's endpoint, one model."""
    problems = []
    seen: set[str] = set()
    models = {line.get("body", {}).get("model") for line in lines}
    for number, line in enumerate(lines, 1):
        custom_id = line.get("custom_id")
        if not custom_id or custom_id in seen:
            problems.append(("duplicate_custom_id", "custom_id must be unique", number))
        seen.add(str(custom_id))
        if line.get("method") != "POST" or line.get("url") != endpoint:
            problems.append(("invalid_url", f"url must be {endpoint}", number))
    if len(models) > 1:
        problems.append(("mismatched_model", "all requests must use the same model", None))
    return [_problem(*problem) for problem in problems]


def _problem(code: str, message: str, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": line}


_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ANTHROPIC_BATCH = re.compile(r"^/v1/messages/batches/([^/]+)(/results)?$")


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(seconds))


class AnthropicBatchServer(AnthropicServer):
    """`AnthropicServer` plus the Message Batches endpoints."""

    def __init__(
        self,
        responder: Responder = echo,
        *,
        batch_delay: float = 0.2,
        expire: Collection[int] = (),
        **settings: Any,
    ) -> None:
        super().__init__(responder, **settings)
        self.batch_delay = batch_delay
        self.expire = set(expire)
        self.batches: dict[str, ServedBatch] = {}
        self._batch_lock = threading.Lock()

    async def _answer(self, request: Request) -> Reply:
        path = request.path.rstrip("/")
        if request.method == "POST" and path == "/v1/messages/batches":
            return self._create(request)
        match = _ANTHROPIC_BATCH.match(path)
        if request.method != "GET" or match is None:
            return await super()._answer(request)
        batch = self.batches.get(match.group(1))
        if batch is None:
            return anthropic_server.error(404, f"batch {match.group(1)} not found")
        ended = _progress(batch, self.batch_delay) >= 1
        if match.group(2) is None:
            return Reply(body=self._batch_object(batch, ended))
        if not ended:
            return anthropic_server.error(400, "batch results are not available yet")
        content = "".join(json.dumps(line) + "\n" for line in await self._results(batch))
        return Reply(raw=content.encode(), headers={"content-type": "application/binary"})

    def _create(self, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        lines = body.get("requests")
        if not isinstance(lines, list) or not lines:
            return anthropic_server.error(400, "requests: Field required")
        custom_ids = [line.get("custom_id", "") for line in lines]
        if len(set(custom_ids)) != len(custom_ids) or not all(
            _CUSTOM_ID.match(str(cid)) for cid in custom_ids
        ):
            return anthropic_server.error(
                400, "custom_id must be unique and match ^[a-zA-Z0-9_-]{1,64}$"
            )
        if not all("max_tokens" in line.get("params", {}) for line in lines):
            return anthropic_server.error(400, "requests.0.params.max_tokens: Field required")
        with self._batch_lock:
            number = len(self.batches) + 1
            batch = ServedBatch(
                f"msgbatch_{next(_ids):024d}",
                number,
                time.monotonic(),
                lines,
                number in self.expire,
            )
            self.batches[batch.id] = batch
        return Reply(body=self._batch_object(batch, False))

    async def _results(self, batch: ServedBatch) -> list[dict[str, Any]]:
        if batch.results is not None:
            return batch.results["all"]
        answered = _expiring(batch)
        results = []
        for line in batch.lines:
            if line not in answered:
                results.append({"custom_id": line["custom_id"], "result": {"type": "expired"}})
                continue
            params = line["params"]
            request = Request("POST", "/v1/messages", {}, {}, params, json.dumps(params).encode())
            reply = await _respond(self.responder, request)
            if reply.status == 200:
                message = reply.body or anthropic_server.message(request, reply.text or "")
                result: dict[str, Any] = {"type": "succeeded", "message": message}
            else:
                result = {"type": "errored", "error": reply.body}
            results.append({"custom_id": line["custom_id"], "result": result})
        batch.results = {"all": results}
        return results

    def _batch_object(self, batch: ServedBatch, ended: bool) -> dict[str, Any]:
        total = len(batch.lines)
        answered = len(_expiring(batch)) if ended else 0
        created = time.time() - (time.monotonic() - batch.created)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {
                "processing": 0 if ended else total,
                "succeeded": answered,
                "errored": 0,
                "canceled": 0,
                "expired": total - answered if ended else 0,
            },
            "ended_at": _iso(time.time()) if ended else None,
            "created_at": _iso(created),
            "expires_at": _iso(created + 86400),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.base_url}/v1/messages/batches/{batch.id}/results"
            if ended
            else None,
        }


_GEMINI_CREATE = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):batchGenerateContent$")
_GEMINI_BATCH = re.compile(r"^/(v1|v1beta|v1alpha)/(batches/[^/]+)$")
_GEMINI_LIST = re.compile(r"^/(v1|v1beta|v1alpha)/batches$")
_RPC_CODES = {400: 3, 403: 7, 404: 5, 429: 8, 500: 13, 503: 14, 504: 4}


class GeminiBatchServer(GeminiServer):
    """`GeminiServer` plus batch mode with inlined requests and responses."""

    def __init__(
        self,
        responder: Responder = gemini_server.echo,
        *,
        batch_delay: float = 0.2,
        expire: Collection[int] = (),
        drop_create: Collection[int] = (),
        **settings: Any,
    ) -> None:
        super().__init__(responder, **settings)
        self.batch_delay = batch_delay
        self.expire = set(expire)
        self.drop_create = set(drop_create)
        """Batches (by number) created but whose create call drops the connection unanswered."""
        self.batches: dict[str, ServedBatch] = {}
        self.models: dict[str, str] = {}
        """Batch name → the model it was created for."""
        self._batch_lock = threading.Lock()

    async def _answer(
        self, request: Request, writer: asyncio.StreamWriter, keep_alive: bool
    ) -> bool:
        create = _GEMINI_CREATE.match(request.path)
        found = _GEMINI_BATCH.match(request.path)
        if request.method == "POST" and create:
            reply = self._create(request, create.group(2))
        elif request.method == "GET" and found:
            batch = self.batches.get(found.group(2))
            if batch is None:
                reply = gemini_server.error(404, f"Batch {found.group(2)} not found.")
            else:
                reply = Reply(body=await self._operation(batch, found.group(1)))
        elif request.method == "GET" and _GEMINI_LIST.match(request.path):
            reply = self._list(request)
        else:
            return await super()._answer(request, writer, keep_alive)
        with self._lock:
            self._requests.append(request)
        if reply.close:
            return False
        writer.write(gemini_server._encode(reply, request, keep_alive))
        await writer.drain()
        return True

    def _create(self, request: Request, model: str) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        config = (body.get("batch") or {}).get("inputConfig") or {}
        lines = (config.get("requests") or {}).get("requests")
        if not isinstance(lines, list) or not lines:
            return gemini_server.error(400, "batch.input_config.requests is required")
        if not (body.get("batch") or {}).get("displayName"):
            return gemini_server.error(400, "batch.display_name is required")
        with self._batch_lock:
            number = len(self.batches) + 1
            batch = ServedBatch(
                f"batches/{next(_ids):016d}", number, time.monotonic(), lines, number in self.expire
            )
            batch.metadata = {"displayName": str(body["batch"]["displayName"])}
            self.batches[batch.id] = batch
            self.models[batch.id] = model
        if number in self.drop_create:
            return Reply(close=True)
        return Reply(body=self._operation_body(batch, "BATCH_STATE_PENDING", None))

    def _list(self, request: Request) -> Reply:
        """`GET batches`: newest first, `pageSize` per page, `pageToken` the index to go on at
        (each batch as created: names and display names are what lookups need)."""
        newest_first = list(reversed(self.batches.values()))
        start = int(request.query.get("pageToken") or 0)
        size = int(request.query.get("pageSize") or 20)
        page = newest_first[start : start + size]
        body: dict[str, Any] = {
            "operations": [self._operation_body(b, "BATCH_STATE_PENDING", None) for b in page]
        }
        if start + size < len(newest_first):
            body["nextPageToken"] = str(start + size)
        return Reply(body=body)

    async def _operation(self, batch: ServedBatch, version: str) -> dict[str, Any]:
        progress = _progress(batch, self.batch_delay)
        if progress < 0.3:
            return self._operation_body(batch, "BATCH_STATE_PENDING", None)
        if progress < 1:
            return self._operation_body(batch, "BATCH_STATE_RUNNING", None)
        if batch.results is None:
            batch.results = {"all": await self._run_lines(batch, version)}
        state = "BATCH_STATE_EXPIRED" if batch.expire else "BATCH_STATE_SUCCEEDED"
        return self._operation_body(batch, state, batch.results["all"])

    async def _run_lines(self, batch: ServedBatch, version: str) -> list[dict[str, Any]]:
        path = f"/{version}/models/{self.models[batch.id]}:generateContent"
        responses = []
        for line in _expiring(batch):
            body = line.get("request") or {}
            request = Request("POST", path, {}, {}, body, json.dumps(body).encode())
            reply = await _respond(self.responder, request)
            entry: dict[str, Any] = {"metadata": line.get("metadata")}
            if reply.status == 200:
                entry["response"] = reply.body or gemini_server.generate_content(
                    request, reply.text or ""
                )
            else:
                message = ((reply.body or {}).get("error") or {}).get("message", "error")
                entry["error"] = {"code": _RPC_CODES.get(reply.status, 2), "message": message}
            responses.append(entry)
        return responses

    def _operation_body(
        self, batch: ServedBatch, state: str, responses: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        created = time.time() - (time.monotonic() - batch.created)
        metadata: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": f"models/{self.models[batch.id]}",
            "displayName": (batch.metadata or {}).get("displayName", ""),
            "state": state,
            "createTime": _iso(created),
            "updateTime": _iso(time.time()),
            "batchStats": {"requestCount": str(len(batch.lines))},
            "name": batch.id,
        }
        operation: dict[str, Any] = {"name": batch.id, "metadata": metadata}
        if responses is not None:
            output = {"inlinedResponses": {"inlinedResponses": responses}}
            metadata["output"] = output
            metadata["endTime"] = _iso(time.time())
            operation["done"] = True
            operation["response"] = {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1main."
                "GenerateContentBatchOutput",
                **output,
            }
        return operation
