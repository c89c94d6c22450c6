"""Put the user's config dirs ahead of inspect-run's built-in `conf/` so they can add and override."""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class InspectRunSearchPath(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from engine.config._searchpath import is_builtin_search_path, user_config_dirs

        if not is_builtin_search_path(search_path):
            return  # another Hydra app in this environment: leave it alone
        for directory in reversed(user_config_dirs()):
            search_path.prepend(provider="inspect-run user", path=f"file://{directory}")
