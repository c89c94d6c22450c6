"""Hydra's composition of the config groups, remembered within a process (see `_memo`).

What is kept is the unresolved tree: interpolations (`${oc.env:…}`, `${now:…}`) are resolved anew
each time, so an environment change is seen even when the files are not. Hydra composes the config
groups, then sets the other overrides' keys in order (`ConfigLoaderImpl._apply_overrides_to_config`);
we do the same in two steps, so jobs that differ only in plain keys (`model=a,b,c`, `limit=…`)
share one remembered composition of their groups (a 3 × 3 sweep's plan composes three times).
Compositions inside a Hydra job (where the launcher set Hydra up) are neither remembered nor
derived.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import io
import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.config._memo import remembered
from engine.config._searchpath import search_dirs


@dataclasses.dataclass(frozen=True)
class Composition:
    """What one Hydra composition yields, before interpolations are resolved."""

    unresolved: dict[str, Any]
    """The config with `${…}` references as written, the `hydra` node removed."""
    choices: dict[str, str | None]
    sweep_params: dict[str, str]
    launcher: dict[str, Any]
    groups: frozenset[str]
    """The config groups at the top of Hydra's sources (a key among them is not a plain key)."""
    sweep_refers: bool = False
    """A sweep param's value holds a `${…}` reference: its text, resolved when composed, may
    change with a key an override sets or with the environment (neither derived from nor
    remembered)."""


@dataclasses.dataclass
class HydraParts:
    sweep_params: dict[str, str]
    launcher: dict[str, Any]
    unresolved: dict[str, Any]
    """The config with `${…}` references as written (what Hydra saves)."""


def hydra_compose(
    overrides: list[str],
) -> tuple[dict[str, Any], dict[str, str | None], HydraParts]:
    """The resolved config, the group choices and what else Hydra's composition holds."""
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    if GlobalHydra.instance().is_initialized():  # inside a multirun job: Hydra is set up already
        composition = _composition(overrides)
    else:
        composition = _remembered_composition(overrides)
    resolved: dict[str, Any] = (
        OmegaConf.to_container(OmegaConf.create(composition.unresolved), resolve=True)  # type: ignore[assignment]
        if _mentions_interpolation(composition.unresolved)
        else copy.deepcopy(composition.unresolved)
    )
    parts = HydraParts(composition.sweep_params, composition.launcher, composition.unresolved)
    return resolved, composition.choices, parts


def _remembered_composition(overrides: list[str]) -> Composition:
    """Derived from the remembered composition of the groups where Hydra's would be the same:
    the plain keys set on it, and an overlay (`preset=…`) merged on top of it."""
    dirs = search_dirs()
    groups, values = _split_values(overrides, dirs)
    below, overlay = _overlay(groups, dirs)
    if values or overlay is not None:
        base: Composition | None = remembered(
            below, dirs, lambda: _composition(below), _reads(dirs), _files_only
        )
        if base is not None and overlay is not None:
            base = _with_overlay(base, overlay)
        if base is not None:
            derived = _with_values(base, [parsed_override(text) for text in values])
            if derived is not None:
                return derived
    return remembered(overrides, dirs, lambda: _composition(overrides), _reads(dirs), _files_only)


def _files_only(composition: Composition) -> bool:
    """Whether the composition follows from the overrides and the files alone: sweep params are
    kept as resolved when composed, and one that holds a `${…}` may read the environment
    (`${oc.env:…}`) or a resolver."""
    return not composition.sweep_refers


def _reads(dirs: Sequence[Path]) -> Callable[[Composition], set[str] | None]:
    return lambda composition: files_read(composition.choices, dirs)


def files_read(choices: dict[str, str | None], dirs: Sequence[Path]) -> set[str] | None:
    """The config files (relative to a search dir) a composition with these group `choices` read:
    the primary config, each chosen option, and the configs their defaults lists name in their own
    group or by absolute path (`- arc_challenge`, `- /generation/default`). None where a defaults
    list holds what this reading does not follow (an interpolation, a file that is not YAML)."""
    chosen = {group: option for group, option in choices.items() if option is not None}
    if any(option.startswith("[") for option in chosen.values()):  # several options of a group
        return None
    files = {"config.yaml"} | {  # a key may name the package too: `group@package`
        f"{group.split('@', 1)[0]}/{option}.yaml" for group, option in chosen.items()
    }
    pending = sorted(files)
    while pending:
        relative = pending.pop()
        provider = _provider(relative, dirs)
        if provider is None:  # Hydra's own packaged configs, or an option that is not there
            continue
        named = _configs_named(provider)
        if named is None:
            return None
        for name in named:
            path = (
                name[1:]
                if name.startswith("/")
                else posixpath.join(posixpath.dirname(relative), name)
            )
            path = posixpath.normpath(path) + ".yaml"
            if path not in files:
                files.add(path)
                pending.append(path)
    return files


def _configs_named(path: Path) -> list[str] | None:
    """The configs (not group choices: those are in the composition's choices) that a file's
    defaults list names; None where it cannot be read or holds something else."""
    try:
        defaults = _defaults_list(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    if defaults is None:
        return None
    named: list[str] = []
    for entry in defaults:
        if isinstance(entry, dict):
            if any("${" in str(value) for value in entry.values()):
                return None
            continue  # a group choice
        if not isinstance(entry, str) or "${" in entry or entry.endswith(".yaml"):
            return None
        name = entry.split("@", 1)[0].strip()
        if name.startswith("optional ") or name.startswith("override "):
            return None
        if name != "_self_":
            named.append(name)
    return named


def _defaults_list(text: str) -> list[Any] | None:
    """A config file's defaults list (empty where it has none); None where its YAML cannot be
    read or the list is not a list."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: ~10x faster
        content = yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        return None
    defaults = content.get("defaults", []) if isinstance(content, dict) else []
    return defaults if isinstance(defaults, list) else None


def _split_values(overrides: list[str], dirs: Sequence[Path]) -> tuple[list[str], list[str]]:
    """(group choices and Hydra's own settings, the overrides that set a config key). Whether a
    key names a group in a source other than `dirs` is checked against the composition later."""
    groups: list[str] = []
    values: list[str] = []
    for text in overrides:
        override = parsed_override(text)
        key = str(override.key_or_group)
        plain = (
            override.package is None
            and not override.is_sweep_override()
            and not key.startswith("hydra")
            and "/" not in key
            and not any((folder / key).is_dir() for folder in dirs)
            and not isinstance(override.value(), dict)
        )
        (values if plain else groups).append(text)
    return groups, values


@functools.lru_cache(maxsize=1024)
def parsed_override(text: str) -> Any:
    """One command-line override as Hydra parses it; raises Hydra's own error (which names the
    override and the grammar) when it cannot."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides([text])[0]


def _with_values(base: Composition, values: list[Any]) -> Composition | None:
    """`base` with `values` set as Hydra sets them; None where Hydra's full composition could
    differ (a key that names a config group, sweep params that refer to keys) or fail (then
    composing in full gives Hydra's own error)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if base.sweep_refers or any(str(o.key_or_group) in base.groups for o in values):
        return None
    cfg = OmegaConf.create(base.unresolved)
    OmegaConf.set_struct(cfg, True)
    try:
        if not _set_keys(cfg, values):
            return None
    except OmegaConfBaseException:
        return None
    unresolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=False)  # type: ignore[assignment]
    return dataclasses.replace(base, unresolved=unresolved)


def _set_keys(cfg: Any, overrides: list[Any]) -> bool:
    """Hydra 1.3's way of applying the overrides that set keys, in order (its private
    `ConfigLoaderImpl._apply_overrides_to_config`), with OmegaConf's public API; False where Hydra
    would refuse. tests/config/test_hydra.py holds both ways to the same result."""
    from omegaconf import OmegaConf, open_dict

    for override in overrides:
        key: str = override.key_or_group
        value = override.value()
        if override.is_delete():
            current = OmegaConf.select(cfg, key, throw_on_missing=False)
            if current is None or (value is not None and value != current):
                return False
            parent, _, leaf = key.rpartition(".")
            with open_dict(cfg):
                del (OmegaConf.select(cfg, parent) if parent else cfg)[leaf]
        elif override.is_add():
            present = OmegaConf.select(cfg, key, throw_on_missing=False) is not None
            if present and not isinstance(value, (dict, list)):
                return False
            OmegaConf.update(cfg, key, value, merge=True, force_add=True)
        else:
            OmegaConf.update(cfg, key, value, merge=True, force_add=override.is_force_add())
    return True


@dataclasses.dataclass(frozen=True)
class _Overlay:
    """One option of a group the primary config lists after its own keys (`preset=smollm2`)."""

    group: str
    option: str
    later: list[str]
    """What the primary config's defaults list holds after the group."""
    content: Any
    """The option's file as Hydra loads it (a DictConfig)."""


def _overlay(groups: list[str], dirs: Sequence[Path]) -> tuple[list[str], _Overlay | None]:
    """(the group overrides but the one that picks an overlay, that overlay) where exactly one
    picks one, none appends a group, and the option is a file Hydra merges as a whole
    (`preset=smollm2`, which a run with no model adds); else (`groups`, None). Told before
    composing: the other groups' composition is only worth making when the overlay can go on it."""
    order = _defaults_order(_provider("config.yaml", dirs)) if groups else None
    if order is None or "_self_" not in order:
        return groups, None
    overlays = set(order[order.index("_self_") + 1 :])
    picked = [text for text in groups if str(parsed_override(text).key_or_group) in overlays]
    appended = any(  # `+group=…`: a defaults entry after the overlay's
        parsed_override(text).is_add() or parsed_override(text).is_force_add() for text in groups
    )
    if len(picked) != 1 or appended:
        return groups, None
    override = parsed_override(picked[0])
    group, option = str(override.key_or_group), override.value()
    if override.is_delete() or override.package is not None or not isinstance(option, str):
        return groups, None
    content = _whole_global_file(group, option, dirs)
    if content is None:
        return groups, None
    overlay = _Overlay(group, option, order[order.index(group) + 1 :], content)
    return [text for text in groups if text != picked[0]], overlay


def _whole_global_file(group: str, option: str, dirs: Sequence[Path]) -> Any:
    """The option's file as Hydra loads it where Hydra merges it as a whole on the global
    package: `@package _global_`, no defaults list, no structured config of the same name (which
    Hydra would merge in too); else None."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError

    if f"{option}.yaml" in ConfigStore.instance().repo.get(group, {}):
        return None
    path = _provider(f"{group}/{option}.yaml", dirs)
    try:
        text = path.read_text(encoding="utf-8") if path is not None else ""
    except (OSError, UnicodeDecodeError):
        return None
    if _package_of(text) != "_global_":
        return None
    try:
        content = OmegaConf.create(text)  # as Hydra loads a file (OmegaConf's YAML loader)
    except (OmegaConfBaseException, YAMLError):  # Hydra's composition reports it
        return None
    if not isinstance(content, DictConfig) or "defaults" in content:
        return None
    return content


def _with_overlay(base: Composition, overlay: _Overlay) -> Composition | None:
    """`base` (composed without the overlay's group) with its option merged on top, as Hydra
    merges it where the primary config lists the group unchosen and what it lists after the
    group is groups left empty; None where Hydra's composition could differ."""
    from omegaconf import OmegaConf

    group, option = overlay.group, overlay.option
    if base.sweep_refers or group not in base.choices or base.choices[group] is not None:
        return None
    if any(base.choices.get(name, "") is not None for name in overlay.later):  # not a config
        return None
    merged = OmegaConf.merge(OmegaConf.create(base.unresolved), overlay.content)
    unresolved: dict[str, Any] = OmegaConf.to_container(merged, resolve=False)  # type: ignore[assignment]
    return dataclasses.replace(base, unresolved=unresolved, choices={**base.choices, group: option})


def _provider(relative: str, dirs: Sequence[Path]) -> Path | None:
    """The file Hydra reads for `relative`: the first search dir's."""
    return next((d / relative for d in dirs if (d / relative).is_file()), None)


def _package_of(text: str) -> str | None:
    """The `# @package` of a config file's header, by Hydra's own reader of it, over the 512
    characters its file source reads (None also where Hydra would refuse the header)."""
    from hydra.plugins.config_source import ConfigSource

    try:
        return ConfigSource._get_header_dict(text[:512])["package"]
    except ValueError:
        return None


def _defaults_order(path: Path | None) -> list[str] | None:
    """The groups and names in a config's defaults list, in order (`_self_` among them); None
    where it cannot be read as plain entries."""
    if path is None:
        return None
    try:
        return _defaults_order_of(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


@functools.lru_cache(maxsize=16)
def _defaults_order_of(text: str) -> list[str] | None:
    defaults = _defaults_list(text)
    if defaults is None:
        return None
    order: list[str] = []
    for entry in defaults:
        if isinstance(entry, dict) and len(entry) == 1:
            key = str(next(iter(entry)))
            if key.startswith("override "):
                continue  # changes an earlier choice (Hydra's own groups), adds no place
            order.append(key.removeprefix("optional ").split("@", 1)[0].strip())
        elif isinstance(entry, str):
            order.append(entry.split("@", 1)[0].strip())
        else:
            return None
    return order


def _mentions_interpolation(tree: Any) -> bool:
    """Whether resolving `tree` could change it (OmegaConf only acts on strings holding `${`)."""
    if isinstance(tree, dict):
        return any(_mentions_interpolation(value) for value in tree.values())
    if isinstance(tree, list):
        return any(_mentions_interpolation(value) for value in tree)
    return isinstance(tree, str) and "${" in tree


def _composition(overrides: list[str]) -> Composition:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf, open_dict

    from engine._assets import conf_dir

    _share_config_store()
    _remember_yaml_parses()
    if GlobalHydra.instance().is_initialized():
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
        groups: frozenset[str] = frozenset()  # not remembered: no derived compositions
    else:
        with initialize_config_dir(
            str(conf_dir().resolve()), version_base="1.3", job_name="inspect_run"
        ):
            cfg = compose("config", overrides=overrides, return_hydra_config=True)
            groups = _top_level_groups()
    choices = {
        str(k): (None if v is None else str(v)) for k, v in cfg.hydra.runtime.choices.items()
    }
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    refers = _mentions_interpolation(
        OmegaConf.to_container(params, resolve=False) if params else {}
    )
    launcher: dict[str, Any] = OmegaConf.to_container(cfg.hydra.launcher, resolve=False)  # type: ignore[assignment]
    with open_dict(cfg):
        del cfg["hydra"]
    unresolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=False)  # type: ignore[assignment]
    params_text = {str(k): str(v) for k, v in params.items()}
    return Composition(unresolved, choices, params_text, launcher, groups, refers)


@functools.cache
def _share_config_store() -> None:
    """Hydra deep-copies its config repository on every composition (`CachingConfigRepository`),
    and with it the `ConfigStore` its structured source holds: ~10 % of a composition's CPU. The
    store is a process-wide singleton that composing only reads (`ConfigStore.load` hands out
    copies of its nodes), so a copy of it is the store itself."""
    from hydra.core.config_store import ConfigStore

    if "__deepcopy__" not in vars(ConfigStore):
        ConfigStore.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]


@functools.cache
def _remember_yaml_parses() -> None:
    """Hydra's config sources read each file through `OmegaConf.load(stream)` on every composition,
    and PyYAML's pure-Python parser is about a fifth of a composition's CPU. A parse depends only on
    the text, so a text seen before is not parsed again: its parse is copied, and OmegaConf builds
    its nodes from the copy as it would from a fresh parse. Paths, and texts that do not parse,
    take OmegaConf's own way (same result, same errors)."""
    from omegaconf import OmegaConf

    original = OmegaConf.load

    def load(file_: Any) -> Any:
        if not callable(getattr(file_, "read", None)):
            return original(file_)
        text = file_.read()
        if len(text) > _LARGEST_REMEMBERED_TEXT:
            return original(_named_stream(text, file_))
        try:
            parsed = _parse_yaml(text)
        except Exception:  # parsed again from a stream of the same name: the error names the file
            return original(_named_stream(text, file_))
        return OmegaConf.create() if parsed is None else OmegaConf.create(copy.deepcopy(parsed))

    OmegaConf.load = staticmethod(load)  # type: ignore[method-assign]


_LARGEST_REMEMBERED_TEXT = 1 << 16
"""Config files are a few KB; a larger YAML read through `OmegaConf.load` is not kept."""


def _named_stream(text: str | bytes, file_: Any) -> io.StringIO | io.BytesIO:
    stream = io.StringIO(text) if isinstance(text, str) else io.BytesIO(text)
    stream.name = getattr(file_, "name", "<file>")
    return stream


@functools.lru_cache(maxsize=512)
def _parse_yaml(text: str | bytes) -> Any:
    """What `OmegaConf.load` parses from `text` (it takes a mapping, a list or a string; None for
    an empty file)."""
    import yaml
    from omegaconf._utils import get_yaml_loader

    parsed = yaml.load(text, Loader=get_yaml_loader())
    if parsed is not None and not isinstance(parsed, (list, dict, str)):
        raise OSError(f"Invalid loaded object type: {type(parsed).__name__}")
    return parsed


def _top_level_groups() -> frozenset[str]:
    """The config groups at the top of every source Hydra composes from (ours, Hydra's, other
    packages' search-path plugins, structured configs)."""
    from hydra.core.global_hydra import GlobalHydra

    return frozenset(GlobalHydra.instance().config_loader().list_groups(""))
