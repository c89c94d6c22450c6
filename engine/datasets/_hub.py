"""Hugging Face Hub datasets: the split's data files, downloaded once into the Hub cache.

Which files hold a split comes from the dataset card's `configs:` section (README.md's YAML front
matter: config name → `data_files` per split), as the `datasets` library reads it; a card without
one falls back to the Hub's layout conventions (`split_patterns`).

`huggingface_hub` (imported only here, only when a task uses the Hub) does the HTTP and the
caching; a run first looks in the cache without any request, so a second run works offline.
`HF_ENDPOINT`, `HF_HOME`/`HF_HUB_CACHE` and `HF_TOKEN` are read when the download happens (not
when the library was imported), so they can be set per run.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.config import HubDataset
from engine.errors import InspectRunError

DATA_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".json", ".csv")
_CARD = "README.md"


class HubError(InspectRunError, ValueError):
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


def card_patterns(card: str, hub: HubDataset) -> list[str] | None:
    """Globs for `hub.split` from a dataset card's `configs:` section; None when it has none.

    `hub.name` picks the config; unnamed, the one marked `default: true`, else `default`, else
    the only one. `data_files` is a glob or list of them (all in the `train` split), a list of
    `{split, path}` or a mapping split → glob(s); `data_dir` is prefixed to each.
    """
    configs = _front_matter(card).get("configs")
    if not isinstance(configs, list) or not configs:
        return None
    named = {str(c.get("config_name", "default")): c for c in configs if isinstance(c, dict)}
    listed = ", ".join(named) or "none"
    if hub.name is not None:
        config = named.get(hub.name)
        if config is None:
            raise HubError(
                f"Hub dataset {hub.path} has no config {hub.name!r} (its card lists: {listed})"
            )
    else:
        marked = [c for c in named.values() if c.get("default") is True]
        config = marked[0] if marked else named.get("default")
        if config is None and len(named) == 1:
            config = next(iter(named.values()))
        if config is None:
            raise HubError(
                f"Hub dataset {hub.path} has several configs; set dataset.hub.name to one of: "
                f"{listed}"
            )
    splits = _card_splits(config.get("data_files"))
    if hub.split not in splits:
        raise HubError(
            f"Hub dataset {hub.path} config {config.get('config_name', 'default')!r} has no split "
            f"{hub.split!r} (its card lists: {', '.join(splits) or 'none'})"
        )
    data_dir = str(config.get("data_dir") or "").strip("/")
    return [f"{data_dir}/{glob}" if data_dir else glob for glob in splits[hub.split]]


def _front_matter(card: str) -> dict[str, Any]:
    """The YAML between a card's opening `---` lines ({} when there is none or it is invalid)."""
    lines = card.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    end = next((n for n, line in enumerate(lines[1:], start=1) if line.strip() == "---"), None)
    if end is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _globs(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def _card_splits(data_files: Any) -> dict[str, list[str]]:
    """A config's `data_files` as split → globs."""
    if isinstance(data_files, str) or (
        isinstance(data_files, list) and all(isinstance(f, str) for f in data_files)
    ):
        return {"train": _globs(data_files)}
    if isinstance(data_files, dict):
        return {str(split): _globs(globs) for split, globs in data_files.items()}
    splits: dict[str, list[str]] = {}
    for entry in data_files if isinstance(data_files, list) else []:
        if isinstance(entry, dict) and "path" in entry:
            splits.setdefault(str(entry.get("split", "train")), []).extend(_globs(entry["path"]))
    return splits


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

    def snapshot(patterns: list[str], offline: bool) -> Path:
        return Path(
            snapshot_download(
                hub.path,
                repo_type="dataset",
                revision=hub.revision,
                allow_patterns=patterns,
                cache_dir=_cache_dir(),
                endpoint=os.environ.get("HF_ENDPOINT") or None,
                local_files_only=offline,
            )
        )

    def download(patterns: list[str]) -> Path:
        try:
            return snapshot(patterns, offline=False)
        except RepositoryNotFoundError:
            raise HubError(
                f"Hub dataset {hub.path} not found (or private without HF_TOKEN)"
            ) from None
        except RevisionNotFoundError:
            raise HubError(f"Hub dataset {hub.path} has no revision {hub.revision!r}") from None
        except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as error:
            reason = " ".join(str(error).split())[:300]
            raise HubError(
                f"cannot download Hub dataset {_where(hub, patterns)}: {reason}"
            ) from None

    def card() -> str | None:
        """The card's text, or None: a cached snapshot without one means the repository has
        none (it was asked for before the data), so a second run still sends no request."""
        try:
            folder = snapshot([_CARD], offline=True)
        except (LocalEntryNotFoundError, OSError):
            folder = download([_CARD])
        path = folder / _CARD
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None

    patterns = hub_patterns(hub, card)
    try:
        cached = _data_files(str(snapshot(patterns, offline=True)), patterns)
    except (LocalEntryNotFoundError, OSError):
        cached = []
    if cached:
        return cached
    return _data_files(str(download(patterns)), patterns) or _none_found(_where(hub, patterns))


def hub_patterns(hub: HubDataset, card: Callable[[], str | None]) -> list[str]:
    """`data_files` when set, else the card's `configs:` globs, else the layout conventions."""
    if hub.data_files is None:
        text = card()
        found = card_patterns(text, hub) if text is not None else None
        if found is not None:
            return found
    return split_patterns(hub)


def _where(hub: HubDataset, patterns: list[str]) -> str:
    return f"{hub.path} (revision {hub.revision}, files {', '.join(patterns)})"


def _none_found(where: str) -> list[Path]:
    raise HubError(
        f"no data files ({', '.join(DATA_SUFFIXES)}) match in Hub dataset {where}; "
        "set dataset.hub.name, split or data_files"
    )
