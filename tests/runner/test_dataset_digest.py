"""The dataset digest in a run's identity: hashed once per sweep plan, never stale."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engine.runner import sharing_digests
from engine.runner._plan import file_digest


def write(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_outside_a_sweep_plan_every_digest_reads_the_file(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    write(data, '{"input": "a"}\n', 10**18)
    first = file_digest(data)
    assert first == hashlib.sha256(data.read_bytes()).hexdigest()
    write(data, '{"input": "b"}\n', 10**18)  # same size, same modification time
    assert file_digest(data) != first


def test_inside_a_sweep_plan_a_file_is_hashed_once_and_an_edit_is_seen(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    write(data, '{"input": "a"}\n', 10**18)
    with sharing_digests():
        first = file_digest(data)
        # Same path, size and modification time: the digest made first is used, not the file.
        write(data, '{"input": "b"}\n', 10**18)
        assert file_digest(data) == first
        write(data, '{"input": "b"}\n', 10**18 + 1)  # an edit: a new modification time
        assert file_digest(data) == hashlib.sha256(data.read_bytes()).hexdigest() != first
    write(data, '{"input": "c"}\n', 10**18 + 1)
    assert file_digest(data) == hashlib.sha256(data.read_bytes()).hexdigest()
