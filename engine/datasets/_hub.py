"""Hugging Face Hub datasets: the split's data files, downloaded once into the Hub cache.

`huggingface_hub` (imported only here, only when a task uses the Hub) does the HTTP and the
caching; a run first looks in the cache without any request, so a second run works offline.
`HF_ENDPOINT`, `HF_HOME`/`HF_HUB_CACHE` and `HF_TOKEN` are read when the download happens (not
when the library was imported), so they can be set per run.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from engine.config import HubDataset

DATA_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".json", ".csv")


class HubError(ValueError):
    """The Hub dataset cannot be found, reached or read."""


def split_patterns(hub: HubDataset) -> list[str]:
    """Repository globs for the files of `hub.split` (in the `hub.name` folder when given).

    They follow the Hub's layout conventions: `NAME/SPLIT-00000-of-00001.parquet`,
    `data/SPLIT-….parquet`, `SPLIT.jsonl`. `data_files` replaces them.
    """
    if hub.data_files is not None:
        return [hub.data_files] if isinstance(hub.data_files, str) else list(hub.data_files)
    base = f"{hub.name}/" if hub.name else ""
    split = hub.split
    return [f"{base}{split}-*", f"{base}{split}.*", f"{base}*/{split}-*", f"{base}*/{split}.*"]


def _cache_dir() -> str | None:
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def _data_files(folder: str, patterns: list[str]) -> list[Path]:
    root = Path(folder)
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if (
            path.is_file()
            and path.suffix.lower() in DATA_SUFFIXES
            and any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)
        ):
            found.append(path)
    return found


def hub_files(hub: HubDataset) -> list[Path]:
    """Local paths of the split's data files: from the cache, else downloaded into it."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import (
            HfHubHTTPError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
        from huggingface_hub.utils import disable_progress_bars
    except ImportError:
        raise HubError(
            "Hub datasets need huggingface_hub and pyarrow: pip install 'inspect-run[hub]'"
        ) from None

    disable_progress_bars()
    patterns = split_patterns(hub)
    where = f"{hub.path} (revision {hub.revision}, files {', '.join(patterns)})"

    def snapshot(offline: bool) -> list[Path]:
        folder = snapshot_download(
            hub.path,
            repo_type="dataset",
            revision=hub.revision,
            allow_patterns=patterns,
            cache_dir=_cache_dir(),
            endpoint=os.environ.get("HF_ENDPOINT") or None,
            local_files_only=offline,
        )
        return _data_files(folder, patterns)

    try:
        cached = snapshot(offline=True)
    except (LocalEntryNotFoundError, OSError):
        cached = []
    if cached:
        return cached
    try:
        downloaded = snapshot(offline=False)
    except RepositoryNotFoundError:
        raise HubError(f"Hub dataset {hub.path} not found (or private without HF_TOKEN)") from None
    except RevisionNotFoundError:
        raise HubError(f"Hub dataset {hub.path} has no revision {hub.revision!r}") from None
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as error:
        reason = " ".join(str(error).split())[:300]
        raise HubError(f"cannot download Hub dataset {where}: {reason}") from None
    return downloaded or _none_found(where)


def _none_found(where: str) -> list[Path]:
    raise HubError(
        f"no data files ({', '.join(DATA_SUFFIXES)}) match in Hub dataset {where}; "
        "set dataset.hub.name, split or data_files"
    )
