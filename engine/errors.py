"""The one error tree: every exception inspect-run raises on purpose derives from `InspectRunError`,
so a caller (a script, a plugin, the CLI) can tell "inspect-run refused or failed" from a bug with
one `except`. Each class also keeps the builtin base its callers have always caught (`ValueError`,
`LookupError`) by multiple inheritance. A new error class goes in this tree (the test walks every
module of engine and checks both the base and this drawing).

InspectRunError
 ├── ConfigError              (ValueError)  the config is invalid, nothing sent: exit 2   engine.config
 ├── ProviderError                          a provider refused or failed, on purpose      engine.providers
 │    ├── ProviderConfigError               bad model string, unknown provider: before the run
 │    │    └── MissingCredentialError       a key, project or region the environment must supply
 │    ├── GenerateError                     a sample's generate call failed for good
 │    │    └── AuthRefused                  the first requests were all refused: stop the run
 │    ├── MalformedResponseError            an answer off the provider's protocol
 │    └── StreamError                       an error event inside a streamed reply
 ├── CacheError                             the response cache cannot be opened            engine.cache
 ├── RoleUnboundError         (LookupError) a role asked for that nothing binds            engine.solvers
 ├── DatasetError             (ValueError)  a dataset file or record that cannot be read   engine.datasets
 ├── ImageError               (ValueError)  an image in a record cannot be read            engine.datasets
 ├── HookError                (ValueError)  a dataset hook that cannot be loaded           engine.datasets
 ├── HubError                 (ValueError)  a Hub dataset that cannot be found or read     engine.datasets
 ├── RemoteLogError                         an upload/download of the remote log dir failed engine.logs
 ├── FolderBusy                             another live process owns the folder: exit 75  engine.logs
 ├── UnreadableLog            (ValueError)  a file found as a log that cannot be read      engine.compare
 ├── MergeError               (ValueError)  logs that are not one whole shard set          engine.shards
 ├── GateError                (ValueError)  a gate that cannot be evaluated as asked       engine.gate
 ├── RegistryError            (ValueError)  an unknown component or a bad argument         engine.registry
 ├── UserCodeError            (ValueError)  a user's file that cannot be found or loaded   engine._usercode
 ├── LocalFileError           (ValueError)  a name outside the allowed folders             engine._local_files
 └── Exit                                   a parser finished the command early: its status engine.cli

A leaf: it imports nothing, so every layer may import it.
"""

from __future__ import annotations


class InspectRunError(Exception):
    """Base of every error inspect-run raises on purpose (the tree is in this module's docstring)."""

    exit_status: int = 1
    """The CLI's exit status when this error ends a command: 1 (failed) unless the class says
    otherwise (`ConfigError`: 2, nothing was sent; `FolderBusy`: 75, try again later)."""


__all__ = ["InspectRunError"]
