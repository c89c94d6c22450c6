"""`inspect-run` as a process forked from one that has imported it already (a zygote).

About 60 tests run the command as a process: they press Ctrl-C or send SIGTERM, kill it, or run
two at once. A fresh Python spends ~1.2 s of CPU importing the engine, Hydra and the OpenAI SDK
before the command starts, which was most of those tests' time. Here one process per test process
imports them once, and each command is a fork of it that runs the console script's `main` with
its arguments, working directory, environment and standard streams: what `workers=K` does for its
own shard processes (`engine.shards`).

What still differs from the installed console script:
- the command's parent is the zygote, not the test (the zygote reports the exit status);
- `/proc/PID/cmdline` is the zygote's (`sys.argv` is the command's);
- variables read when Python starts (`PYTHONPATH`, `PYTHONWARNINGS`, …) are the zygote's.
Tests about any of these, or about what a fresh process imports, use `run_cli_process`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

INSPECT_RUN = str(Path(sys.executable).parent / "inspect-run")
PRELOAD = (
    *("engine.cli._run", "engine.runner", "engine.providers._openai", "openai"),
    *("hydra._internal.hydra", "hydra.compose", "hydra.initialize", "omegaconf", "dotenv"),
    "anyio._backends._asyncio",
)
"""What a run against the OpenAI-compatible test servers imports: none of it reads the
environment when imported (the rest is imported as used)."""
_ENVIRONMENT = dict(os.environ)
"""The zygote's own environment: this process's at import, before a test changes it."""


# ── the zygote ────────────────────────────────────────────────────────────────────────────────────


def _serve(listener: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """Fork a child for each request until the test process ends (EOF on stdin). Returns only in
    a child: its request and the file descriptors of its standard streams."""
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(0, selectors.EVENT_READ, "parent")
    while True:
        for key, _ in selector.select():
            if key.data == "parent":
                if not os.read(0, 64):
                    sys.exit(0)  # the commands still running are the tests' to stop
            elif key.data == "accept":
                connection, _ = listener.accept()
                selector.register(connection, selectors.EVENT_READ, "request")
            elif key.data == "request":
                connection = key.fileobj
                assert isinstance(connection, socket.socket)
                selector.unregister(connection)
                message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
                if not message:
                    connection.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    for other in list(selector.get_map().values()):
                        if other.fd != 0:
                            _close(other.fileobj)
                        if isinstance(other.data, tuple):  # another command's connection
                            other.data[1].close()
                    selector.close()
                    connection.close()
                    return json.loads(message), fds
                for fd in fds:
                    os.close(fd)
                with contextlib.suppress(OSError):
                    connection.send(str(pid).encode())
                selector.register(os.pidfd_open(pid), selectors.EVENT_READ, (pid, connection))
            else:
                pid, connection = key.data
                selector.unregister(key.fd)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                with contextlib.suppress(OSError):
                    connection.send(str(os.waitstatus_to_exitcode(status)).encode())
                connection.close()


def _close(fileobj: Any) -> None:
    if isinstance(fileobj, int):
        os.close(fileobj)
    else:
        fileobj.close()


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: take the command's streams, folder, environment and signals, then run
    the console script's `main` (which exits, as the process does)."""
    if request["new_session"]:
        os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    ignored = request["sigint_ignored"]
    signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.default_int_handler)
    sys.argv = [INSPECT_RUN, *request["args"]]
    from engine.cli import main

    main(request["args"])


def _zygote_main() -> None:
    sys.path[0] = str(Path(sys.executable).parent)  # as the console script's (not this folder)
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    from engine.providers._sdk import tls_context

    tls_context()  # the CA store, loaded once (a command with other SSL_CERT_* loads its own)
    listener = socket.socket(fileno=int(sys.argv[1]))
    request, fds = _serve(listener)
    _become(request, fds)


# ── the test's side ──────────────────────────────────────────────────────────────────────────────

_zygote: tuple[subprocess.Popen[bytes], Path, int] | None = None
"""The zygote, its folder (its socket and what it printed) and the process that started it."""


def _socket_path() -> str:
    """The zygote's socket, started on first use; it ends when this process does."""
    global _zygote
    if _zygote is None:
        folder = Path(tempfile.mkdtemp(prefix="inspect-run-zygote-"))
        with (
            socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener,
            (folder / "zygote.log").open("wb") as log,
        ):
            listener.bind(str(folder / "socket"))
            listener.listen(64)  # a command may ask before the zygote has imported: it waits
            process = subprocess.Popen(
                [sys.executable, __file__, str(listener.fileno())],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=[listener.fileno()],
                env=_ENVIRONMENT,
                cwd="/",
            )
        _zygote = (process, folder, os.getpid())
        atexit.register(_stop_zygote)
    if _zygote[0].poll() is not None:
        raise RuntimeError(f"the zygote exited with {_zygote[0].returncode}: {_zygote_log()}")
    return str(_zygote[1] / "socket")


def _zygote_log() -> str:
    """The end of what the zygote printed (an import error, a traceback)."""
    assert _zygote is not None
    return (_zygote[1] / "zygote.log").read_text(errors="replace")[-2000:] or "(nothing)"


def _stop_zygote() -> None:
    if _zygote is not None and _zygote[2] == os.getpid():  # not in a fork of this process
        process, folder, _ = _zygote
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)


class ForkedProcess:
    """`inspect-run ARGS` forked from the zygote: the part of `subprocess.Popen` tests use.
    `sigint_ignored`: started as a script's `inspect-run … &` is (SIGINT ignored)."""

    def __init__(
        self,
        args: list[str],
        *,
        cwd: Path | str,
        env: dict[str, str],
        stdout: int | None = None,
        stderr: int | None = None,
        text: bool = False,
        sigint_ignored: bool = False,
        start_new_session: bool = False,
    ) -> None:
        self.args = [INSPECT_RUN, *args]
        self.returncode: int | None = None
        self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._connection.connect(_socket_path())
        stdin = os.open(os.devnull, os.O_RDONLY)
        ends: dict[int, int] = {}  # stream (1, 2) → our reading end of its pipe
        sent = [stdin]
        for number, wanted in ((1, stdout), (2, stderr)):
            if wanted == subprocess.PIPE:
                ends[number], write_end = os.pipe()
                sent.append(write_end)
            elif wanted == subprocess.DEVNULL:
                sent.append(os.open(os.devnull, os.O_WRONLY))
            else:
                sent.append(os.dup(number))  # inherited, as by `subprocess.Popen`
        request = {
            "args": list(args),
            "cwd": str(cwd),
            "env": dict(env),
            "sigint_ignored": sigint_ignored,
            "new_session": start_new_session,
        }
        try:
            socket.send_fds(self._connection, [json.dumps(request).encode()], sent)
            pid = self._connection.recv(64)
            if not pid:
                raise RuntimeError(f"the zygote ended before starting {self.args}: {_zygote_log()}")
            self.pid = int(pid)
        finally:
            for fd in sent:
                os.close(fd)
        mode = "r" if text else "rb"
        self.stdout: IO[Any] | None = open(ends[1], mode) if 1 in ends else None  # noqa: SIM115
        self.stderr: IO[Any] | None = open(ends[2], mode) if 2 in ends else None  # noqa: SIM115
        self._read: dict[int, list[Any]] = {}
        self._readers: list[threading.Thread] = []

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(BlockingIOError):
                self._exited(self._connection.recv(64, socket.MSG_DONTWAIT))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._connection.settimeout(timeout)
            try:
                message = self._connection.recv(64)
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout or 0) from None
            self._exited(message)
        assert self.returncode is not None
        return self.returncode

    def _exited(self, message: bytes) -> None:
        if not message:
            raise RuntimeError(f"the zygote ended before reporting how process {self.pid} ended")
        self.returncode = int(message)
        self._connection.close()

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # not a pid that may since belong to another process
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[Any, Any]:
        """Everything the command writes to its piped streams, once it has ended."""
        if not self._readers:
            for stream in (self.stdout, self.stderr):
                if stream is not None:
                    into = self._read.setdefault(id(stream), [])
                    reader = threading.Thread(target=lambda s=stream, i=into: i.append(s.read()))
                    reader.start()
                    self._readers.append(reader)
        for reader in self._readers:
            reader.join(timeout)
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        self.wait(timeout)
        out, err = (
            self._read[id(s)][0] if s is not None else None for s in (self.stdout, self.stderr)
        )
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        return out, err

    def __enter__(self) -> ForkedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()


if __name__ == "__main__":
    _zygote_main()
